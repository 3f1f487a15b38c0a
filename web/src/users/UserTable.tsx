import { Anchor } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { customersApi, usersApi } from '../api/console-api';
import type { UserRow } from '../api/types';
import { useListParams } from '../ui/list-params';
import { filteredListQuery, ListFilters, PagedTable, StatusAndEnabled } from '../ui/PagedTable';

type UserSort = 'name' | 'upn' | 'displayName' | 'customer' | 'status' | 'createdAt';

/** Users of one customer (customerId) or of the caller's whole subtree, searchable, sortable and paged. */
export function UserTable({ customerId }: { customerId?: number }) {
  const list = useListParams<UserSort>({ sort: 'name' });
  const query = filteredListQuery(list);
  const users = useQuery({
    queryKey: customerId ? ['customer', customerId, 'users', query] : ['users', 'list', query],
    queryFn: () => (customerId ? customersApi.users(customerId, query) : usersApi.list(query)),
    placeholderData: keepPreviousData,
  });

  return (
    <>
      <ListFilters list={list} searchLabel="Search users" placeholder="Name, UPN, display name or email" searchWidth={300} />
      <PagedTable<UserRow>
        label="Users"
        list={list}
        rows={users}
        columns={[
          {
            accessor: 'name',
            title: 'User name',
            sortable: true,
            render: (u) => (
              <Anchor component={Link} to={`/users/${u.id}`} fw={600}>
                {u.name}
              </Anchor>
            ),
          },
          { accessor: 'displayName', title: 'Display name', sortable: true },
          { accessor: 'upn', title: 'UPN', sortable: true },
          ...(customerId ? [] : [{ accessor: 'customer', title: 'Customer', sortable: true, render: (u: UserRow) => u.customer.name }]),
          {
            accessor: 'status',
            title: 'Status',
            sortable: true,
            noWrap: true,
            render: (u) => <StatusAndEnabled status={u.status} enabled={u.enabled} />,
          },
          { accessor: 'email', title: 'Email', render: (u) => u.email ?? '—' },
        ]}
      />
    </>
  );
}
