import { Anchor, Group, Stack, Tabs, Text } from '@mantine/core';
import { Link, useParams, useSearchParams } from 'react-router';
import type { UserDetail } from '../api/types';
import { idParam } from '../customers/queries';
import { UserServicesTab } from '../services/UserServicesTab';
import { EnabledBadge } from '../ui/EnabledBadge';
import { PageHeader } from '../ui/PageHeader';
import { QueryState, queryForId } from '../ui/QueryState';
import { StatusBadge } from '../ui/StatusBadge';
import { formatDateTime } from '../ui/format';
import { AccountSettingsForm } from './AccountSettingsForm';
import { UserActions } from './UserActions';
import { useUser } from './queries';

/** One user: Account Settings (with Advanced Options: roles and permissions), services, and actions. */
export function UserDetailPage() {
  const id = idParam(useParams().id);
  const user = useUser(id);
  return (
    <QueryState query={queryForId(id, user)} what="user">
      {(u) => <UserView user={u} />}
    </QueryState>
  );
}

function UserView({ user: u }: { user: UserDetail }) {
  const [params, setParams] = useSearchParams();
  const tab = params.get('tab') === 'services' ? 'services' : 'account';
  return (
    <Stack>
      <PageHeader title={u.name}>
        <UserActions user={u} />
      </PageHeader>
      <Group gap="xs" mt={-8} data-testid="user-state">
        <StatusBadge status={u.status} />
        <EnabledBadge enabled={u.enabled} />
        <Text size="sm">
          {u.displayName} · customer{' '}
          <Anchor component={Link} to={`/customers/${u.customer.id}`}>
            {u.customer.name}
          </Anchor>
        </Text>
        {u.lockedUntil && new Date(u.lockedUntil) > new Date() && (
          <Text size="sm" c="red.9">
            Locked out until {formatDateTime(u.lockedUntil)}
          </Text>
        )}
        <Text size="sm" c="dimmed">
          Last sign-in: {formatDateTime(u.lastLoginAt)} · Two-factor sign-in: {u.totpEnabled ? 'on' : 'off'}
        </Text>
      </Group>
      <Tabs value={tab} onChange={(t) => setParams({ tab: t ?? 'account' }, { replace: true })} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="account">Account Settings</Tabs.Tab>
          <Tabs.Tab value="services">Services</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="account" pt="md">
          <AccountSettingsForm user={u} />
        </Tabs.Panel>
        <Tabs.Panel value="services" pt="md">
          <UserServicesTab user={u} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
