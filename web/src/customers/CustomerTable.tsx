import { Anchor } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { customersApi } from '../api/console-api';
import type { CustomerRow } from '../api/types';
import { useListParams } from '../ui/list-params';
import { filteredListQuery, ListFilters, PagedTable, StatusAndEnabled } from '../ui/PagedTable';
import { customerKeys } from './queries';

type CustomerSort = 'name' | 'fullname' | 'parent' | 'status' | 'usersCount' | 'billingId';

/** Searchable, sortable, paged table of the customers the caller may see. */
export function CustomerTable() {
  const list = useListParams<CustomerSort>({ sort: 'name' });
  const query = filteredListQuery(list);
  const customers = useQuery({
    queryKey: customerKeys.list(query),
    queryFn: () => customersApi.list(query),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <ListFilters list={list} searchLabel="Search" placeholder="Name, code or Billing Identifier" searchWidth={280} />
      <PagedTable<CustomerRow>
        label="Customers"
        list={list}
        rows={customers}
        columns={[
          {
            accessor: 'name',
            title: 'Code',
            sortable: true,
            render: (c) => (
              <Anchor component={Link} to={`/customers/${c.id}`} fw={600}>
                {c.name}
              </Anchor>
            ),
          },
          { accessor: 'fullname', title: 'Full name', sortable: true },
          { accessor: 'parent', title: 'Parent', sortable: true, render: (c) => c.parent?.name ?? '—' },
          {
            accessor: 'status',
            title: 'Status',
            sortable: true,
            noWrap: true,
            render: (c) => <StatusAndEnabled status={c.status} enabled={c.enabled} />,
          },
          { accessor: 'usersCount', title: 'Users', sortable: true, textAlign: 'right' },
          { accessor: 'billingId', title: 'Billing Identifier', sortable: true, render: (c) => c.billingId ?? '—' },
          { accessor: 'isReseller', title: 'Reseller', render: (c) => (c.isReseller ? 'Yes' : 'No') },
        ]}
      />
    </>
  );
}
