import { Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { customersApi } from '../../api/console-api';
import type { CustomerDetail } from '../../api/types';
import { QueryState } from '../../ui/QueryState';
import { customerKeys } from '../queries';

/** The location the customer is in and the locations it may be placed in, with the properties each asks for. */
export function LocationsTab({ customer }: { customer: CustomerDetail }) {
  const locations = useQuery({ queryKey: customerKeys.part(customer.id, 'locations'), queryFn: () => customersApi.locations(customer.id) });
  return (
    <QueryState query={locations} what="locations">
      {(l) => (
        <>
          <Text mb="sm">Current location: {l.current ? <strong>{l.current.name}</strong> : 'none'}</Text>
          {l.items.length === 0 ? (
            <Text c="dimmed">No locations are defined for this customer's parent.</Text>
          ) : (
            <Table withTableBorder striped aria-label="Locations">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Location</Table.Th>
                  <Table.Th>Description</Table.Th>
                  <Table.Th>Customer properties</Table.Th>
                  <Table.Th>Additional properties</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {l.items.map((loc) => (
                  <Table.Tr key={loc.id}>
                    <Table.Td>{loc.name}</Table.Td>
                    <Table.Td>{loc.description}</Table.Td>
                    <Table.Td>{loc.customerProperties.map((p) => p.displayname || p.name).join(', ') || '—'}</Table.Td>
                    <Table.Td>{loc.additionalProperties.map((p) => p.displayname || p.name).join(', ') || '—'}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )}
        </>
      )}
    </QueryState>
  );
}
