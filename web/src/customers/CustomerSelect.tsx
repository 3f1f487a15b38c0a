import { Select, type SelectProps } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { customersApi } from '../api/console-api';
import { customerKeys } from './queries';

/**
 * A customer picked by typing part of its name or code: the server searches (20 at a time), so a
 * provider with thousands of customers never loads them all. `resellersOnly` offers resellers only.
 */
export function CustomerSelect({
  value,
  resellersOnly = false,
  ...props
}: Omit<SelectProps, 'data' | 'searchable' | 'searchValue' | 'onSearchChange' | 'filter'> & {
  value: string | null;
  resellersOnly?: boolean;
}) {
  const [search, setSearch] = useState('');
  const [typed] = useDebouncedValue(search, 250);
  const query = { search: typed, sort: 'fullname', pageSize: 20, ...(resellersOnly ? { isReseller: true } : {}) };
  const found = useQuery({
    queryKey: customerKeys.list(query),
    queryFn: () => customersApi.list(query),
    placeholderData: keepPreviousData,
  });
  const chosen = useQuery({
    queryKey: customerKeys.detail(Number(value)),
    queryFn: () => customersApi.get(Number(value)),
    enabled: !!value,
  });
  const options = (found.data?.items ?? []).map((c) => ({ value: String(c.id), label: `${c.fullname} (${c.name})` }));
  if (value && chosen.data && !options.some((o) => o.value === value)) {
    options.unshift({ value, label: `${chosen.data.fullname} (${chosen.data.name})` });
  }
  return (
    <Select
      {...props}
      value={value}
      data={options}
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      // The server already matched what was typed (code, full name or Billing Identifier).
      filter={({ options: all }) => all}
      nothingFoundMessage={found.isFetching ? 'Searching…' : 'No customer matches'}
    />
  );
}
