import { Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { customersApi } from '../../api/console-api';
import type { CustomerDetail } from '../../api/types';
import { QueryState } from '../../ui/QueryState';
import { formatDateTime } from '../../ui/format';
import { customerKeys } from '../queries';

/** The latest service changes of the customer from the ledger billing reads (newest first). */
export function ServiceChangesTab({ customer }: { customer: CustomerDetail }) {
  const changes = useQuery({
    queryKey: customerKeys.part(customer.id, 'service-changes'),
    queryFn: () => customersApi.serviceChanges(customer.id, 50),
  });
  return (
    <QueryState query={changes} what="service changes">
      {({ items }) =>
        items.length === 0 ? (
          <Text c="dimmed">No service changes recorded yet.</Text>
        ) : (
          <Table withTableBorder striped aria-label="Recent service changes">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Change</Table.Th>
                <Table.Th>User</Table.Th>
                <Table.Th>Service</Table.Th>
                <Table.Th>Plan</Table.Th>
                <Table.Th>Instance</Table.Th>
                <Table.Th style={{ textAlign: 'right' }}>Quantity</Table.Th>
                <Table.Th>By</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td>{formatDateTime(c.occurredAt)}</Table.Td>
                  <Table.Td>{c.action}</Table.Td>
                  <Table.Td>{c.user?.name ?? '—'}</Table.Td>
                  <Table.Td>{c.serviceCode ?? '—'}</Table.Td>
                  <Table.Td>{c.planCode ?? '—'}</Table.Td>
                  <Table.Td>{c.instanceName ?? '—'}</Table.Td>
                  <Table.Td style={{ textAlign: 'right' }}>{c.quantity}</Table.Td>
                  <Table.Td>{c.actionedBy}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )
      }
    </QueryState>
  );
}
