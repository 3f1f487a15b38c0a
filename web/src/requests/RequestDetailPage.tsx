import { Alert, Anchor, Button, Group, Paper, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { requestsApi } from '../api/console-api';
import type { RequestDetail } from '../api/types';
import { idParam } from '../customers/queries';
import { hasPermission, useSession } from '../session/session';
import { ErrorAlert } from '../ui/ErrorAlert';
import { PageHeader } from '../ui/PageHeader';
import { QueryState, queryForId } from '../ui/QueryState';
import { StatusBadge } from '../ui/StatusBadge';
import { TONE } from '../ui/TextBadge';
import { formatDateTime, formatDuration } from '../ui/format';
import { notifyAccepted } from '../ui/notify';
import { ACTION_LABEL, ENTITY_LABEL, RequestTable } from './RequestTable';

const LEVEL_COLOR = { info: undefined, verbose: 'dimmed', warning: TONE.warn, error: TONE.bad } as const;

/** One provisioning request: its log lines, step times and child requests, updated live; retry when it failed. */
export function RequestDetailPage() {
  const id = idParam(useParams().id);
  const request = useQuery({ queryKey: ['request', id], queryFn: () => requestsApi.get(id), enabled: !Number.isNaN(id) });
  return (
    <QueryState query={queryForId(id, request)} what="request">
      {(r) => <RequestView request={r} />}
    </QueryState>
  );
}

function RequestView({ request: r }: { request: RequestDetail }) {
  const client = useQueryClient();
  const { data: session } = useSession();
  const failed = r.status === 'Failed' || r.children.some((c) => c.status === 'Failed');
  const mayRetry =
    hasPermission(session, 'Manage Services') || hasPermission(session, 'Manage Customers') || hasPermission(session, 'Manage Users');
  const retry = useMutation({
    mutationFn: () => requestsApi.retry(r.id),
    onSuccess: (res) => {
      notifyAccepted(`Retrying ${res.retried.length} failed request${res.retried.length === 1 ? '' : 's'}.`);
      void client.invalidateQueries({ queryKey: ['request'] });
      void client.invalidateQueries({ queryKey: ['requests'] });
    },
  });
  const entityLink = r.entity === 'customer' ? `/customers/${r.entityId}` : r.entity === 'user' ? `/users/${r.entityId}` : null;

  return (
    <Stack>
      <PageHeader title={`Request #${r.id}`}>
        {failed && mayRetry && (
          <Button onClick={() => retry.mutate()} loading={retry.isPending}>
            Retry
          </Button>
        )}
      </PageHeader>
      <ErrorAlert error={retry.error} title="Retry did not start" />
      <Paper withBorder p="md">
        <SimpleGrid cols={{ base: 1, sm: 2, md: 4 }} spacing="sm">
          <Info label="Status">
            <span data-testid="request-state">
              <StatusBadge status={r.status} />
            </span>
          </Info>
          <Info label="Action">
            {ACTION_LABEL[r.action]} {ENTITY_LABEL[r.entity]?.toLowerCase()}{' '}
            {entityLink ? (
              <Anchor component={Link} to={entityLink}>
                {r.entityName ?? `#${r.entityId}`}
              </Anchor>
            ) : (
              (r.entityName ?? `#${r.entityId}`)
            )}
          </Info>
          <Info label="Customer">
            <Anchor component={Link} to={`/customers/${r.customer.id}`}>
              {r.customer.name}
            </Anchor>
          </Info>
          <Info label="Requested by">{r.requestedBy}</Info>
          <Info label="Requested">{formatDateTime(r.createdAt)}</Info>
          <Info label="Started">{formatDateTime(r.startedAt)}</Info>
          <Info label="Finished">{formatDateTime(r.finishedAt)}</Info>
          <Info label="Attempts">{r.attempts}</Info>
          {r.parentId && (
            <Info label="Part of">
              <Anchor component={Link} to={`/requests/${r.parentId}`}>
                Request #{r.parentId}
              </Anchor>
            </Info>
          )}
        </SimpleGrid>
      </Paper>
      {r.error && (
        <Alert color="red" variant="light" title="Error">
          {r.error}
        </Alert>
      )}
      {r.children.length > 0 && (
        <section aria-labelledby="children-title">
          <Title order={2} size="h4" id="children-title" mb="xs">
            Child requests
          </Title>
          <RequestTable label="Child requests" rows={r.children} />
        </section>
      )}
      <section aria-labelledby="steps-title">
        <Title order={2} size="h4" id="steps-title" mb="xs">
          Step times
        </Title>
        {r.steps.length === 0 ? (
          <Text c="dimmed">No steps have run yet.</Text>
        ) : (
          <Table withTableBorder striped aria-label="Step times" maw={640}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Step</Table.Th>
                <Table.Th>Started</Table.Th>
                <Table.Th style={{ textAlign: 'right' }}>Took</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {r.steps.map((s, i) => (
                <Table.Tr key={`${s.step}-${i}`}>
                  <Table.Td>{s.step}</Table.Td>
                  <Table.Td>{formatDateTime(s.startedAt)}</Table.Td>
                  <Table.Td style={{ textAlign: 'right' }}>{formatDuration(s.durationMs)}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </section>
      <section aria-labelledby="log-title">
        <Title order={2} size="h4" id="log-title" mb="xs">
          Log
        </Title>
        {r.log.length === 0 ? (
          <Text c="dimmed">Nothing logged yet.</Text>
        ) : (
          <Table withTableBorder aria-label="Request log" fz="sm">
            <Table.Thead>
              <Table.Tr>
                <Table.Th w={200}>Time</Table.Th>
                <Table.Th w={90}>Level</Table.Th>
                <Table.Th>Message</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {r.log.map((line, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{formatDateTime(line.at)}</Table.Td>
                  <Table.Td>
                    <Text span size="sm" c={LEVEL_COLOR[line.level]} fw={line.level === 'error' ? 700 : undefined}>
                      {line.level}
                    </Text>
                  </Table.Td>
                  <Table.Td style={{ whiteSpace: 'pre-wrap', fontFamily: 'var(--mantine-font-family-monospace)' }}>{line.message}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </section>
    </Stack>
  );
}

function Info({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div>
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Group gap={4} fz="sm">
        {children}
      </Group>
    </div>
  );
}
