import { Anchor, Table, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { jobsApi } from '../api/jobs-api';
import { formatDateTime } from '../ui/format';
import { PageHeader } from '../ui/PageHeader';
import { QueryState } from '../ui/QueryState';
import { RunStatusBadge } from './RunStatusBadge';

/** The runs of a job: start, end, status and counts by level; each opens its log. */
export function JobRuns() {
  const jobId = Number(useParams().id);
  const job = useQuery({ queryKey: ['jobs', jobId], queryFn: () => jobsApi.get(jobId) });
  const runs = useQuery({ queryKey: ['jobs', jobId, 'runs'], queryFn: () => jobsApi.runs(jobId), refetchInterval: 5000 });
  return (
    <>
      <PageHeader title={`Runs of ${job.data?.label ?? 'the job'}`} />
      <Anchor component={Link} to="/jobs" size="sm">
        ← Jobs
      </Anchor>
      <QueryState query={runs} what="runs">
        {(data) => (
          <Table striped withTableBorder mt="sm" aria-label="Runs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Run</Table.Th>
                <Table.Th>Started</Table.Th>
                <Table.Th>Finished</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Errors</Table.Th>
                <Table.Th>Warnings</Table.Th>
                <Table.Th>Info</Table.Th>
                <Table.Th>Verbose</Table.Th>
                <Table.Th>Requested by</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.runs.map((r) => (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/jobs/runs/${r.id}`}>
                      Log #{r.id}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{formatDateTime(r.startedAt ?? r.queuedAt)}</Table.Td>
                  <Table.Td>{formatDateTime(r.finishedAt)}</Table.Td>
                  <Table.Td>
                    <RunStatusBadge status={r.status} dryRun={r.dryRun} />
                  </Table.Td>
                  <Table.Td>{r.counts.errors}</Table.Td>
                  <Table.Td>{r.counts.warnings}</Table.Td>
                  <Table.Td>{r.counts.info}</Table.Td>
                  <Table.Td>{r.counts.verbose}</Table.Td>
                  <Table.Td>{r.requestedBy}</Table.Td>
                </Table.Tr>
              ))}
              {data.runs.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={9}>
                    <Text size="sm">No runs yet.</Text>
                  </Table.Td>
                </Table.Tr>
              ) : null}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
    </>
  );
}
