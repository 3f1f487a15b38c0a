import { AppShell, Burger, Button, Center, Group, Loader, NavLink, ScrollArea, Text, VisuallyHidden } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { Notifications } from '@mantine/notifications';
import { useMutation } from '@tanstack/react-query';
import { Suspense, useEffect } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { onSignedOut } from '../api/client';
import { sessionApi } from '../api/console-api';
import { hasPermission, useSession, useSetSession } from '../session/session';
import { TextBadge } from '../ui/TextBadge';
import { LiveUpdatesProvider, useLiveState } from './live-updates';

interface NavItem {
  to: string;
  label: string;
  permission?: string;
}

/** Areas of part 1 first, then those of part 2 (issue 14). */
const NAV: NavItem[][] = [
  [
    { to: '/customers', label: 'Customers' },
    { to: '/users', label: 'Users', permission: 'Manage Users' },
    { to: '/requests', label: 'Requests' },
    { to: '/approvals', label: 'Approvals' },
  ],
  [
    { to: '/jobs', label: 'Jobs', permission: 'Manage Jobs' },
    { to: '/billing', label: 'Billing', permission: 'View Reports' },
    { to: '/billing/configuration', label: 'Service Billing Configuration', permission: 'Manage Billing' },
    { to: '/account', label: 'Account' },
    { to: '/account/password', label: 'Password' },
  ],
];

/** The console's frame: header with the signed-in user, navigation, and the current page. */
export function AppLayout() {
  const [opened, { toggle, close }] = useDisclosure();
  const { data: session } = useSession();
  const setSession = useSetSession();
  const navigate = useNavigate();
  const location = useLocation();

  useEffect(close, [location.pathname, close]);
  useEffect(
    () =>
      onSignedOut((reason) => {
        setSession(null);
        const next = encodeURIComponent(location.pathname + location.search);
        // A disabled account says so; anything else ended the session for lack of activity.
        if (reason.code === 'AccountDisabled') navigate(`/sign-in?next=${next}`, { replace: true, state: { signedOut: reason.message } });
        else navigate(`/sign-in?expired=1&next=${next}`, { replace: true });
      }),
    [setSession, navigate, location],
  );
  const signOut = useMutation({
    mutationFn: () => sessionApi.signOut(),
    onSettled: () => {
      setSession(null);
      navigate('/sign-in', { replace: true });
    },
  });
  if (!session) return null;
  // The most specific entry wins: /billing/configuration is not also "Billing".
  const current = NAV.flat()
    .map((item) => item.to)
    .filter((to) => location.pathname === to || location.pathname.startsWith(`${to}/`))
    .sort((a, b) => b.length - a.length)[0];

  return (
    <LiveUpdatesProvider>
      {/* Inside the router: notifications link to the request that carries a change. */}
      <Notifications position="top-right" />
      <AppShell header={{ height: 56 }} navbar={{ width: 220, breakpoint: 'sm', collapsed: { mobile: !opened } }} padding="md">
        <AppShell.Header>
          <Group h="100%" px="md" justify="space-between" wrap="nowrap">
            <Group gap="sm" wrap="nowrap">
              <Burger opened={opened} onClick={toggle} hiddenFrom="sm" size="sm" aria-label="Show navigation" />
              <Text component={Link} to="/" fw={700} size="lg" c="inherit" td="none">
                Tenantry
              </Text>
              <LiveIndicator />
            </Group>
            <Group gap="sm" wrap="nowrap">
              <Text size="sm" visibleFrom="xs" data-testid="signed-in-user">
                {session.user.name}
                <Text span c="dimmed" size="sm">
                  {' '}
                  · {session.customer.fullname}
                </Text>
              </Text>
              <Button variant="default" size="xs" onClick={() => signOut.mutate()} loading={signOut.isPending}>
                Sign out
              </Button>
            </Group>
          </Group>
        </AppShell.Header>
        <AppShell.Navbar p="xs" component="nav" aria-label="Main">
          <ScrollArea>
            {NAV.map((group, i) => (
              <div key={i} style={{ marginBottom: 12 }}>
                {group
                  .filter((item) => !item.permission || hasPermission(session, item.permission))
                  .map((item) => (
                    <NavLink
                      key={item.to}
                      component={Link}
                      to={item.to}
                      label={item.label}
                      variant="filled"
                      active={item.to === current}
                      aria-current={item.to === current ? 'page' : undefined}
                    />
                  ))}
              </div>
            ))}
          </ScrollArea>
        </AppShell.Navbar>
        <AppShell.Main>
          <Suspense
            fallback={
              <Center p="xl">
                <Loader aria-label="Loading the page" />
              </Center>
            }
          >
            <Outlet />
          </Suspense>
        </AppShell.Main>
      </AppShell>
    </LiveUpdatesProvider>
  );
}

/** Says in words whether status changes are arriving live. */
function LiveIndicator() {
  const state = useLiveState();
  const text = state === 'live' ? 'Live' : state === 'connecting' ? 'Connecting…' : 'Reconnecting…';
  return (
    <TextBadge tone={state === 'live' ? 'good' : 'neutral'} size="sm" data-live={state}>
      <VisuallyHidden>Status updates: </VisuallyHidden>
      {text}
    </TextBadge>
  );
}
