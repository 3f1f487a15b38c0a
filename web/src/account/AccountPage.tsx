import { Anchor, Paper, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import { accountApi } from '../api/console-api';
import { useSession } from '../session/session';
import { PageHeader } from '../ui/PageHeader';

/** The signed-in user's own account: who they are, their roles, and two-factor sign-in. */
export function AccountPage() {
  const { data: session } = useSession();
  const totp = useQuery({ queryKey: ['account', 'totp'], queryFn: accountApi.totp });
  if (!session) return null;
  return (
    <>
      <PageHeader title="Account" />
      <Stack maw={640}>
        <Paper withBorder p="md">
          <Text>
            Signed in as <strong>{session.user.name}</strong> ({session.user.displayName}, {session.user.upn}) of{' '}
            {session.customer.fullname}.
          </Text>
          <Text size="sm" mt="xs">
            Roles: {session.roles.join(', ') || 'none'}
          </Text>
          <Text size="sm" c="dimmed" mt="xs">
            Sessions end after {session.idleMinutes} minutes without activity.
          </Text>
        </Paper>
        <Paper withBorder p="md">
          <Text fw={600}>Two-factor sign-in</Text>
          <Text size="sm" my="xs">
            {totp.data
              ? totp.data.enabled
                ? `On, with ${totp.data.recoveryCodesLeft} recovery codes left.`
                : 'Off: signing in needs only the password.'
              : 'Checking…'}
          </Text>
          <Anchor component={Link} to="/account/two-factor">
            {totp.data?.enabled ? 'Manage two-factor sign-in' : 'Turn on two-factor sign-in'}
          </Anchor>
        </Paper>
      </Stack>
    </>
  );
}
