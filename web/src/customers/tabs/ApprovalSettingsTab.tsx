import { Button, Card, Group, Stack, Table, Text, Title } from '@mantine/core';
import { useState } from 'react';
import { useQuery } from '@tanstack/react-query';
import { customersApi } from '../../api/console-api';
import type { ApprovalProvider, ApprovalSubscription, CustomerDetail } from '../../api/types';
import { QueryState } from '../../ui/QueryState';
import { hasPermission, useSession } from '../../session/session';
import { customerKeys } from '../queries';
import { ApprovalProviderForm } from './ApprovalProviderForm';

/** Who approves this customer's changes: approval providers with their groups, members and subscriptions. */
export function ApprovalSettingsTab({ customer }: { customer: CustomerDetail }) {
  const { data: session } = useSession();
  // The same permission the server asks for to change them.
  const mayEdit = hasPermission(session, 'Manage Users');
  const [editing, setEditing] = useState<string | null>(null);
  const settings = useQuery({
    queryKey: customerKeys.part(customer.id, 'approval-settings'),
    queryFn: () => customersApi.approvalSettings(customer.id),
  });
  return (
    <QueryState query={settings} what="approval settings">
      {({ providers }) =>
        providers.length === 0 ? (
          <Text c="dimmed">No approval provider is set up: changes of {customer.fullname} need no approval.</Text>
        ) : (
          <Stack>
            {providers.map((p) => (
              <Card key={p.name} withBorder component="section" aria-label={`Approval provider ${p.name}`}>
                <Group justify="space-between">
                  <Title order={2} size="h4">
                    {p.name}
                  </Title>
                  {mayEdit && editing !== p.name && (
                    <Button size="xs" variant="default" onClick={() => setEditing(p.name)} aria-label={`Edit ${p.name}`}>
                      Edit
                    </Button>
                  )}
                </Group>
                {p.description && <Text size="sm">{p.description}</Text>}
                {editing === p.name ? (
                  <ApprovalProviderForm customer={customer} provider={p} onDone={() => setEditing(null)} />
                ) : (
                  <ProviderSettings provider={p} />
                )}
              </Card>
            ))}
          </Stack>
        )
      }
    </QueryState>
  );
}

/** A provider's settings, subscriptions and groups as they are. */
function ProviderSettings({ provider: p }: { provider: ApprovalProvider }) {
  return (
    <>
      <Settings configuration={p.configuration} />
      <Subscriptions label={`Subscriptions of ${p.name}`} items={p.subscriptions} />
      {(p.groups ?? []).map((g) => (
        <Stack key={g.name} gap={4} mt="sm">
          <Text fw={600}>Group {g.name}</Text>
          {g.description && <Text size="sm">{g.description}</Text>}
          <Text size="sm">Members: {g.members.map((m) => `${m.displayName} (${m.name})`).join(', ') || 'none'}</Text>
          <Settings configuration={g.configuration} />
          <Subscriptions label={`Subscriptions of group ${g.name}`} items={g.subscriptions} />
        </Stack>
      ))}
    </>
  );
}

function Settings({ configuration }: { configuration: Record<string, string> }) {
  const entries = Object.entries(configuration);
  if (entries.length === 0) return null;
  return <Text size="sm">Settings: {entries.map(([k, v]) => `${k} ${v}`).join(', ')}</Text>;
}

/** Which changes (provision or de-provision of customers, users, services) ask for approval. */
function Subscriptions({ label, items }: { label: string; items: ApprovalSubscription[] }) {
  if (items.length === 0)
    return (
      <Text size="sm" c="dimmed">
        No subscriptions: nothing asks this for approval.
      </Text>
    );
  return (
    <Table withTableBorder mt="xs" aria-label={label} fz="sm">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Changes of</Table.Th>
          <Table.Th>Service</Table.Th>
          <Table.Th>Event</Table.Th>
          <Table.Th>Access</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {items.map((s, i) => (
          <Table.Tr key={i}>
            <Table.Td>{s.target}</Table.Td>
            <Table.Td>{s.service || 'any'}</Table.Td>
            <Table.Td>{s.event}</Table.Td>
            <Table.Td>{s.access}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
