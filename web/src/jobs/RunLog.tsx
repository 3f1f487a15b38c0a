import { ActionIcon, Anchor, Badge, Button, Group, Paper, Table, Text, TextInput, Title } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { jobsApi, type LogQuery, type LogSort, type SyncChange } from '../api/jobs-api';
import { formatDateTime } from '../ui/format';
import { PageHeader } from '../ui/PageHeader';
import { QueryState } from '../ui/QueryState';
import { RunStatusBadge } from './RunStatusBadge';

const LEVEL_COLOURS: Record<string, string> = { Error: 'red.9', Warning: 'yellow.4', Info: 'blue.9', Verbose: 'gray.3' };
const SHOWN = 5000;

/** A run's log (seed 003 "Using UI Features"): arrows sort by Code and Log Type, search over code and message, downloads. */
export function RunLog() {
  const runId = Number(useParams().runId);
  const run = useQuery({
    queryKey: ['jobs', 'run', runId],
    queryFn: () => jobsApi.run(runId),
    refetchInterval: (q) => (q.state.data && ['Queued', 'Running'].includes(q.state.data.status) ? 2000 : false),
  });
  const [sort, setSort] = useState<{ by: LogSort; order: 'asc' | 'desc' }>({ by: 'time', order: 'asc' });
  const [search, setSearch] = useState('');
  const [debounced] = useDebouncedValue(search, 250);
  const q: LogQuery = { sort: sort.by, order: sort.order, search: debounced };
  const logs = useQuery({
    queryKey: ['jobs', 'run', runId, 'logs', q, run.data?.status],
    queryFn: () => jobsApi.logs(runId, q),
    placeholderData: keepPreviousData,
  });
  const sortBy = (by: LogSort) => setSort((s) => ({ by, order: s.by === by && s.order === 'asc' ? 'desc' : 'asc' }));
  const arrow = (by: LogSort) => (sort.by === by ? (sort.order === 'asc' ? '▲' : '▼') : '↕');
  const sortLabel = (by: LogSort, name: string) =>
    `Sort by ${name}${sort.by === by ? (sort.order === 'asc' ? ', now ascending' : ', now descending') : ''}`;

  return (
    <>
      <PageHeader title={`Run log #${runId}`} />
      <QueryState query={run} what="run">
        {(r) => (
          <>
            <Group gap="md" mb="sm">
              <Anchor component={Link} to={`/jobs/${r.jobId}/runs`} size="sm">
                ← All runs of this job
              </Anchor>
              <RunStatusBadge status={r.status} dryRun={r.dryRun} />
              <Text size="sm">
                Started {formatDateTime(r.startedAt ?? r.queuedAt)} · finished {formatDateTime(r.finishedAt)} · {r.counts.errors} errors,{' '}
                {r.counts.warnings} warnings, {r.counts.info} info, {r.counts.verbose} verbose
              </Text>
            </Group>
            {r.message ? (
              <Text size="sm" mb="sm">
                {r.message}
              </Text>
            ) : null}
            {r.dryRun ? <DryRunDiff changes={r.changes} /> : null}
          </>
        )}
      </QueryState>
      <Group align="flex-end" my="sm">
        <TextInput
          label="Search code and message"
          placeholder="e.g. AT10"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
          w={320}
        />
        <Button component="a" variant="default" href={jobsApi.logsFile(runId, q, 'csv')} download>
          Download CSV
        </Button>
        <Button component="a" variant="default" href={jobsApi.logsFile(runId, q, 'xlsx')} download>
          Download Excel
        </Button>
      </Group>
      <QueryState query={logs} what="log">
        {(data) => (
          <Table striped withTableBorder aria-label="Log entries">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>
                  <Group gap={4} wrap="nowrap">
                    Time
                    <ActionIcon size="sm" variant="subtle" onClick={() => sortBy('time')} aria-label={sortLabel('time', 'time')}>
                      {arrow('time')}
                    </ActionIcon>
                  </Group>
                </Table.Th>
                <Table.Th aria-sort={sort.by === 'code' ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined}>
                  <Group gap={4} wrap="nowrap">
                    Code
                    <ActionIcon size="sm" variant="subtle" onClick={() => sortBy('code')} aria-label={sortLabel('code', 'Code')}>
                      {arrow('code')}
                    </ActionIcon>
                  </Group>
                </Table.Th>
                <Table.Th aria-sort={sort.by === 'level' ? (sort.order === 'asc' ? 'ascending' : 'descending') : undefined}>
                  <Group gap={4} wrap="nowrap">
                    Log Type
                    <ActionIcon size="sm" variant="subtle" onClick={() => sortBy('level')} aria-label={sortLabel('level', 'Log Type')}>
                      {arrow('level')}
                    </ActionIcon>
                  </Group>
                </Table.Th>
                <Table.Th>Message</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.entries.slice(0, SHOWN).map((e) => (
                <Table.Tr key={e.id} data-testid="log-row">
                  <Table.Td style={{ whiteSpace: 'nowrap' }}>{formatDateTime(e.time)}</Table.Td>
                  <Table.Td data-testid="log-code">{e.code}</Table.Td>
                  <Table.Td>
                    <Badge
                      color={LEVEL_COLOURS[e.level] ?? 'gray.3'}
                      autoContrast
                      styles={{ root: { overflow: 'visible' }, label: { textTransform: 'none', overflow: 'visible' } }}
                    >
                      {e.level}
                    </Badge>
                  </Table.Td>
                  <Table.Td>{e.message}</Table.Td>
                </Table.Tr>
              ))}
              {data.entries.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={4}>{debounced ? `No entries match "${debounced}".` : 'No entries.'}</Table.Td>
                </Table.Tr>
              ) : null}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      {logs.data && logs.data.entries.length > SHOWN ? (
        <Text size="sm">
          Showing the first {SHOWN} of {logs.data.entries.length} entries: download the log for all of them.
        </Text>
      ) : null}
    </>
  );
}

const ACTIONS: Record<SyncChange['action'], string> = { update: 'Update quantity', create: 'Create line', zero: 'Reduce to zero' };

/** What a dry run would change in the PSA: customer, PSA company, SKU, action, old → new. */
function DryRunDiff({ changes }: { changes: SyncChange[] }) {
  return (
    <Paper withBorder p="sm" mb="md">
      <Title order={2} size="h5" mb="xs">
        Dry run: {changes.length} change{changes.length === 1 ? '' : 's'} would be made
      </Title>
      {changes.length ? (
        <Table striped aria-label="Dry run changes">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Customer</Table.Th>
              <Table.Th>PSA company</Table.Th>
              <Table.Th>SKU</Table.Th>
              <Table.Th>Line</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Old → new</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {changes.map((c, i) => (
              <Table.Tr key={i}>
                <Table.Td>
                  {c.customerName} ({c.customerCode})
                </Table.Td>
                <Table.Td>{c.billingId}</Table.Td>
                <Table.Td>{c.sku}</Table.Td>
                <Table.Td>{c.line}</Table.Td>
                <Table.Td>{ACTIONS[c.action]}</Table.Td>
                <Table.Td>
                  {c.from} → {c.to}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Text size="sm">Nothing would change.</Text>
      )}
    </Paper>
  );
}
