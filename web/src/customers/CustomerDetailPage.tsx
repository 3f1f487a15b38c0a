import { Group, Paper, SimpleGrid, Stack, Tabs, Text } from '@mantine/core';
import type { ReactNode } from 'react';
import { useParams, useSearchParams } from 'react-router';
import type { CustomerDetail } from '../api/types';
import { CustomerServicesTab } from '../services/CustomerServicesTab';
import { EnabledBadge } from '../ui/EnabledBadge';
import { PageHeader } from '../ui/PageHeader';
import { QueryState, queryForId } from '../ui/QueryState';
import { StatusBadge } from '../ui/StatusBadge';
import { TextBadge } from '../ui/TextBadge';
import { CustomerUsersTab } from '../users/CustomerUsersTab';
import { CustomerActions } from './CustomerActions';
import { idParam, useCustomer } from './queries';
import { ApprovalSettingsTab } from './tabs/ApprovalSettingsTab';
import { LocationsTab } from './tabs/LocationsTab';
import { ServiceChangesTab } from './tabs/ServiceChangesTab';
import { hasPermission, useSession } from '../session/session';

const TABS = ['users', 'services', 'locations', 'approvals', 'changes'] as const;

/** One customer: its details, actions, and tabs for users, services, locations, approvals and service changes. */
export function CustomerDetailPage() {
  const id = idParam(useParams().id);
  const customer = useCustomer(id);
  return (
    <QueryState query={queryForId(id, customer)} what="customer">
      {(c) => <CustomerView customer={c} />}
    </QueryState>
  );
}

function CustomerView({ customer: c }: { customer: CustomerDetail }) {
  const [params, setParams] = useSearchParams();
  const tab = TABS.includes(params.get('tab') as (typeof TABS)[number]) ? params.get('tab')! : 'users';
  const { data: session } = useSession();
  const mayManage = hasPermission(session, 'Manage Customers') && session?.customer.id !== c.id;
  return (
    <Stack>
      <PageHeader title={`${c.fullname} (${c.name})`}>{mayManage && <CustomerActions customer={c} />}</PageHeader>
      <Group gap="xs" mt={-8} data-testid="customer-state">
        <StatusBadge status={c.status} />
        <EnabledBadge enabled={c.enabled} />
        {c.isReseller && <TextBadge tone="neutral">Reseller</TextBadge>}
        {c.approvalPending && <TextBadge tone="warn">Change waiting for approval</TextBadge>}
      </Group>
      <Paper withBorder p="md">
        <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="sm">
          <Field label="Contact">{c.contactName}</Field>
          <Field label="Contact email">{c.contactEmail}</Field>
          <Field label="Primary domain">{c.primaryDomain}</Field>
          <Field label="Parent">{c.parent ? `${c.parent.name}` : '—'}</Field>
          <Field label="Billing Identifier">{c.billingId ?? '—'}</Field>
          <Field label="Account code">{c.accountCode ?? '—'}</Field>
          <Field label="Users">{c.usersCount}</Field>
          <Field label="Customers below">{c.childrenCount}</Field>
        </SimpleGrid>
      </Paper>
      <Tabs value={tab} onChange={(t) => setParams({ tab: t ?? 'users' }, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="users">Users</Tabs.Tab>
          <Tabs.Tab value="services">Services</Tabs.Tab>
          <Tabs.Tab value="locations">Locations</Tabs.Tab>
          <Tabs.Tab value="approvals">Approval settings</Tabs.Tab>
          <Tabs.Tab value="changes">Service changes</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="users" pt="md">
          <CustomerUsersTab customer={c} />
        </Tabs.Panel>
        <Tabs.Panel value="services" pt="md">
          <CustomerServicesTab customer={c} />
        </Tabs.Panel>
        <Tabs.Panel value="locations" pt="md">
          <LocationsTab customer={c} />
        </Tabs.Panel>
        <Tabs.Panel value="approvals" pt="md">
          <ApprovalSettingsTab customer={c} />
        </Tabs.Panel>
        <Tabs.Panel value="changes" pt="md">
          <ServiceChangesTab customer={c} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function Field({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm">{children}</Text>
    </div>
  );
}
