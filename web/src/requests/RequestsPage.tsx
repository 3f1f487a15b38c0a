import { Checkbox, Group, Select, TextInput } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { requestsApi } from '../api/console-api';
import { REQUEST_ENTITIES, STATUSES } from '../api/types';
import { CustomerSelect } from '../customers/CustomerSelect';
import { ErrorAlert } from '../ui/ErrorAlert';
import { useListParams } from '../ui/list-params';
import { PageHeader } from '../ui/PageHeader';
import { statusLabel } from '../ui/StatusBadge';
import { ENTITY_LABEL, RequestTable } from './RequestTable';

/** Provisioning requests, newest first, filtered by status, entity, customer and date; statuses change live. */
export function RequestsPage() {
  const list = useListParams<'createdAt'>({ sort: 'createdAt', order: 'desc' });
  const query = {
    status: list.get('status'),
    entity: list.get('entity'),
    customerId: list.get('customerId'),
    from: list.get('from'),
    to: list.get('to'),
    topLevel: list.get('all') === '1' ? false : undefined,
    page: list.page,
    pageSize: list.pageSize,
  };
  const requests = useQuery({
    queryKey: ['requests', 'list', query],
    queryFn: () => requestsApi.list(query),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <PageHeader title="Provisioning requests" />
      <Group mb="sm" align="flex-end" wrap="wrap">
        <Select
          label="Status"
          placeholder="Any status"
          clearable
          w={170}
          data={STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))}
          value={list.get('status') || null}
          onChange={(v) => list.set({ status: v })}
        />
        <Select
          label="Entity"
          placeholder="Anything"
          clearable
          w={170}
          data={REQUEST_ENTITIES.map((e) => ({ value: e, label: ENTITY_LABEL[e] }))}
          value={list.get('entity') || null}
          onChange={(v) => list.set({ entity: v })}
        />
        <CustomerSelect
          label="Customer"
          placeholder="Any customer"
          clearable
          w={220}
          value={list.get('customerId') || null}
          onChange={(v) => list.set({ customerId: v })}
        />
        <TextInput label="From" type="date" value={list.get('from')} onChange={(e) => list.set({ from: e.currentTarget.value })} w={160} />
        <TextInput label="To" type="date" value={list.get('to')} onChange={(e) => list.set({ to: e.currentTarget.value })} w={160} />
        <Checkbox
          label="Include child requests"
          checked={list.get('all') === '1'}
          onChange={(e) => list.set({ all: e.currentTarget.checked ? '1' : null })}
          mb={8}
        />
      </Group>
      <ErrorAlert error={requests.error} title="The requests could not be loaded" />
      <RequestTable
        label="Provisioning requests"
        rows={requests.data?.items ?? []}
        paging={{
          page: list.page,
          onPageChange: list.onPageChange,
          totalRecords: requests.data?.total ?? 0,
          recordsPerPage: list.pageSize,
          fetching: requests.isFetching,
        }}
      />
    </>
  );
}
