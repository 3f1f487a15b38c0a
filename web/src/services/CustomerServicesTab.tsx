import { Button, Card, Group, SimpleGrid, Stack, Table, Text } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { servicesApi } from '../api/console-api';
import type { CustomerDetail, CustomerService } from '../api/types';
import { hasPermission, useSession } from '../session/session';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { QueryState } from '../ui/QueryState';
import { StatusBadge } from '../ui/StatusBadge';
import { TextBadge } from '../ui/TextBadge';
import { notifyAccepted } from '../ui/notify';
import { catalogKey, CustomerServiceDialog } from './CustomerServiceDialog';
import { InstancesEditor } from './InstancesEditor';

export const customerServicesKey = (customerId: number) => ['customer', customerId, 'services'] as const;

/** The Services tab of a customer: each service with package, user plans, limits and usage, properties and instances. */
export function CustomerServicesTab({ customer }: { customer: CustomerDetail }) {
  const { data: session } = useSession();
  const mayManage = hasPermission(session, 'Manage Services');
  const services = useQuery({ queryKey: customerServicesKey(customer.id), queryFn: () => servicesApi.ofCustomer(customer.id) });
  const catalog = useQuery({ queryKey: catalogKey(customer.id), queryFn: () => servicesApi.catalog(customer.id), enabled: mayManage });
  const multiInstance = (serviceId: number) => !!catalog.data?.items.find((c) => c.id === serviceId)?.multiInstance;
  const [editing, setEditing] = useState<CustomerService | 'new' | null>(null);
  const [removing, setRemoving] = useState<CustomerService | null>(null);
  const client = useQueryClient();
  const refresh = () => void client.invalidateQueries({ queryKey: ['customer', customer.id] });

  return (
    <Stack>
      {mayManage && (
        <Group justify="flex-end">
          <Button onClick={() => setEditing('new')}>Assign service</Button>
        </Group>
      )}
      <QueryState query={services} what="services">
        {({ items }) =>
          items.length === 0 ? (
            <Text c="dimmed">No services are assigned to {customer.fullname}.</Text>
          ) : (
            <SimpleGrid cols={{ base: 1, xl: 2 }}>
              {items.map((s) => (
                <Card key={s.id} withBorder component="section" aria-label={`Service ${s.service.name}`}>
                  <Group justify="space-between" mb="xs">
                    <Text fw={700}>
                      {s.service.name}{' '}
                      <Text span c="dimmed" size="sm">
                        ({s.service.code})
                      </Text>
                    </Text>
                    <Group gap={4}>
                      <StatusBadge status={s.status} />
                      {!s.enabled && <TextBadge tone="bad">Disabled</TextBadge>}
                      {s.approvalPending && <TextBadge tone="warn">Waiting for approval</TextBadge>}
                    </Group>
                  </Group>
                  <Text size="sm">
                    Package: {s.package ? `${s.package.fullname} (${s.package.name})` : 'none'} · Billed: {s.isBilled ? 'yes' : 'no'} ·
                    Users with it: {s.usersWithService}
                    {s.userLimit !== null ? ` of ${s.userLimit}` : ''}
                  </Text>
                  {s.userPlans.length > 0 && (
                    <Table mt="xs" withTableBorder aria-label={`User plans of ${s.service.name}`}>
                      <Table.Thead>
                        <Table.Tr>
                          <Table.Th>User plan</Table.Th>
                          <Table.Th>Enabled</Table.Th>
                          <Table.Th style={{ textAlign: 'right' }}>Used / limit</Table.Th>
                        </Table.Tr>
                      </Table.Thead>
                      <Table.Tbody>
                        {s.userPlans.map((p) => (
                          <Table.Tr key={p.plan.id}>
                            <Table.Td>
                              {p.plan.fullname}{' '}
                              <Text span c="dimmed" size="xs">
                                ({p.plan.name})
                              </Text>
                            </Table.Td>
                            <Table.Td>{p.enabled ? 'Yes' : 'No'}</Table.Td>
                            <Table.Td style={{ textAlign: 'right' }}>
                              {p.used} / {p.userLimit ?? 'no limit'}
                            </Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  )}
                  {Object.keys(s.properties).length > 0 && (
                    <Text size="sm" mt="xs">
                      Properties:{' '}
                      {Object.entries(s.properties)
                        .map(([k, v]) => `${k} = ${v}`)
                        .join(' · ')}
                    </Text>
                  )}
                  <InstancesEditor customerId={customer.id} service={s} mayManage={mayManage} multiInstance={multiInstance(s.service.id)} />
                  {mayManage && (
                    <Group justify="flex-end" mt="sm">
                      <Button size="xs" variant="default" onClick={() => setEditing(s)}>
                        Change plans
                      </Button>
                      <Button size="xs" variant="default" color="red.9" onClick={() => setRemoving(s)}>
                        Remove
                      </Button>
                    </Group>
                  )}
                </Card>
              ))}
            </SimpleGrid>
          )
        }
      </QueryState>
      {editing && (
        <CustomerServiceDialog
          customer={customer}
          service={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={refresh}
        />
      )}
      {removing && (
        <ConfirmDialog
          opened
          onClose={() => setRemoving(null)}
          title={`Remove ${removing.service.name} from ${customer.name}?`}
          confirmLabel="Remove service"
          destructive
          onConfirm={() => servicesApi.remove(customer.id, removing.service.id)}
          onDone={(r) => {
            refresh();
            notifyAccepted(
              `${removing.service.name} is being removed from ${customer.name}.`,
              (r as { requestId: number | null }).requestId,
            );
          }}
        >
          <Text>
            The service is de-provisioned for {customer.fullname} and for each of its {removing.usersWithService} user
            {removing.usersWithService === 1 ? '' : 's'} that have it; billing of it stops from today.
          </Text>
        </ConfirmDialog>
      )}
    </Stack>
  );
}
