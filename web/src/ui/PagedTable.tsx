import { Group, Select, TextInput } from '@mantine/core';
import { useDebouncedCallback } from '@mantine/hooks';
import type { UseQueryResult } from '@tanstack/react-query';
import { DataTable, type DataTableColumn } from 'mantine-datatable';
import 'mantine-datatable/styles.css';
import { useState } from 'react';
import { STATUSES, type Page, type Status } from '../api/types';
import { EnabledBadge } from './EnabledBadge';
import { ErrorAlert } from './ErrorAlert';
import { PAGE_SIZES, type useListParams } from './list-params';
import { StatusBadge, statusLabel } from './StatusBadge';

type ListParams = ReturnType<typeof useListParams<string>>;

/** The search box's text; only a new typed value, once typing pauses, updates the address bar. */
function useListSearch(list: ListParams): [string, (value: string) => void] {
  const [search, setSearch] = useState(list.get('search'));
  const publish = useDebouncedCallback((value: string) => {
    if (value !== list.get('search')) list.set({ search: value });
  }, 300);
  const type = (value: string) => {
    setSearch(value);
    publish(value);
  };
  return [search, type];
}

/** What a filtered list asks the server for: its search, status and enabled filters, sort and page. */
export function filteredListQuery<K extends string>(list: ReturnType<typeof useListParams<K>>) {
  return {
    search: list.get('search'),
    status: list.get('status'),
    enabled: list.get('enabled'),
    sort: list.sort,
    order: list.order,
    page: list.page,
    pageSize: list.pageSize,
  };
}

/** A list's filter bar: the search box (what it searches in as its placeholder), status and enabled. */
export function ListFilters({
  list,
  searchLabel,
  placeholder,
  searchWidth,
}: {
  list: ListParams;
  searchLabel: string;
  placeholder: string;
  searchWidth: number;
}) {
  const [search, setSearch] = useListSearch(list);
  return (
    <Group mb="sm" align="flex-end">
      <TextInput
        label={searchLabel}
        placeholder={placeholder}
        value={search}
        onChange={(e) => setSearch(e.currentTarget.value)}
        w={searchWidth}
        type="search"
      />
      <StatusFilter list={list} />
      <EnabledFilter list={list} />
    </Group>
  );
}

/** Filter of a list by provisioning status, kept in the address bar. */
function StatusFilter({ list }: { list: ListParams }) {
  return (
    <Select
      label="Status"
      placeholder="Any status"
      clearable
      data={STATUSES.map((s) => ({ value: s, label: statusLabel(s) }))}
      value={list.get('status') || null}
      onChange={(v) => list.set({ status: v })}
      w={180}
    />
  );
}

/** Filter of a list by its enabled flag (enabled, disabled or all), kept in the address bar. */
function EnabledFilter({ list }: { list: ListParams }) {
  return (
    <Select
      label="Enabled"
      data={[
        { value: '', label: 'All' },
        { value: 'true', label: 'Enabled' },
        { value: 'false', label: 'Disabled' },
      ]}
      value={list.get('enabled')}
      onChange={(v) => list.set({ enabled: v || null })}
      allowDeselect={false}
      w={140}
    />
  );
}

/** A customer's or user's provisioning status, with "Disabled" beside it when it is disabled. */
export function StatusAndEnabled({ status, enabled }: { status: Status; enabled: boolean }) {
  return (
    <Group gap={4} wrap="nowrap">
      <StatusBadge status={status} />
      {!enabled && <EnabledBadge enabled={false} />}
    </Group>
  );
}

/**
 * One page of a server-side list (`label`, e.g. "Customers") with sort and paging kept in the address bar,
 * and the load error above it.
 */
export function PagedTable<T>({
  label,
  list,
  rows,
  columns,
}: {
  label: string;
  list: ListParams;
  rows: UseQueryResult<Page<T>>;
  columns: DataTableColumn<T>[];
}) {
  const noun = label.toLowerCase();
  return (
    <>
      <ErrorAlert error={rows.error} title={`The ${noun} could not be loaded`} />
      <DataTable<T>
        aria-label={label}
        withTableBorder
        borderRadius="sm"
        striped
        highlightOnHover
        minHeight={160}
        records={rows.data?.items ?? []}
        fetching={rows.isFetching}
        totalRecords={rows.data?.total ?? 0}
        recordsPerPage={list.pageSize}
        recordsPerPageOptions={PAGE_SIZES}
        onRecordsPerPageChange={list.onRecordsPerPageChange}
        recordsPerPageLabel={`${label} per page`}
        page={list.page}
        onPageChange={list.onPageChange}
        sortStatus={list.sortStatus}
        onSortStatusChange={list.onSortStatusChange}
        noRecordsText={`No ${noun} match`}
        paginationText={({ from, to, totalRecords }) => `${from}–${to} of ${totalRecords}`}
        columns={columns}
      />
    </>
  );
}
