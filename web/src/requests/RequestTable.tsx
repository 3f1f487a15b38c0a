import { Anchor, Text } from '@mantine/core';
import { DataTable } from 'mantine-datatable';
import 'mantine-datatable/styles.css';
import { Link } from 'react-router';
import type { RequestRow } from '../api/types';
import { StatusBadge } from '../ui/StatusBadge';
import { formatDateTime } from '../ui/format';

export const ENTITY_LABEL: Record<RequestRow['entity'], string> = {
  customer: 'Customer',
  user: 'User',
  customer_service: 'Customer service',
  user_service: 'User service',
  service_instance: 'Service instance',
};
export const ACTION_LABEL: Record<RequestRow['action'], string> = {
  provision: 'Provision',
  update: 'Update',
  deprovision: 'De-provision',
  delete: 'Delete',
};

interface Paging {
  page: number;
  onPageChange(page: number): void;
  totalRecords: number;
  recordsPerPage: number;
  fetching: boolean;
}

/** Provisioning requests as rows: what, for whom, status, times and the error when it failed. */
export function RequestTable({ rows, label, paging }: { rows: RequestRow[]; label: string; paging?: Paging }) {
  // A short list (child requests) is one page of everything.
  const pages: Paging = paging ?? {
    page: 1,
    onPageChange: () => undefined,
    totalRecords: rows.length,
    recordsPerPage: Math.max(rows.length, 1),
    fetching: false,
  };
  return (
    <DataTable<RequestRow>
      aria-label={label}
      withTableBorder
      borderRadius="sm"
      striped
      minHeight={rows.length ? undefined : 120}
      records={rows}
      noRecordsText="No requests"
      paginationText={({ from, to, totalRecords }) => `${from}–${to} of ${totalRecords}`}
      page={pages.page}
      onPageChange={pages.onPageChange}
      totalRecords={pages.totalRecords}
      recordsPerPage={pages.recordsPerPage}
      fetching={pages.fetching}
      columns={[
        {
          accessor: 'id',
          title: 'Request',
          render: (r) => (
            <Anchor component={Link} to={`/requests/${r.id}`} fw={600}>
              #{r.id}
            </Anchor>
          ),
        },
        { accessor: 'action', title: 'Action', render: (r) => ACTION_LABEL[r.action] ?? r.action },
        { accessor: 'entity', title: 'Of', render: (r) => `${ENTITY_LABEL[r.entity] ?? r.entity} ${r.entityName ?? `#${r.entityId}`}` },
        { accessor: 'customer', title: 'Customer', render: (r) => r.customer.name },
        { accessor: 'status', title: 'Status', noWrap: true, render: (r) => <StatusBadge status={r.status} /> },
        { accessor: 'createdAt', title: 'Requested', render: (r) => `${formatDateTime(r.createdAt)} by ${r.requestedBy}` },
        { accessor: 'finishedAt', title: 'Finished', render: (r) => formatDateTime(r.finishedAt) },
        {
          accessor: 'error',
          title: 'Error',
          render: (r) =>
            r.error ? (
              <Text size="sm" c="red.9" lineClamp={2}>
                {r.error}
              </Text>
            ) : (
              '—'
            ),
        },
      ]}
    />
  );
}
