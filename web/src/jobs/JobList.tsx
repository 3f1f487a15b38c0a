import { ActionIcon, Anchor, Button, Menu, Table, Text } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { jobsApi, type Job } from '../api/jobs-api';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { EnabledBadge } from '../ui/EnabledBadge';
import { messageOf } from '../ui/ErrorAlert';
import { PageHeader } from '../ui/PageHeader';
import { QueryState } from '../ui/QueryState';
import { RunStatusBadge } from './RunStatusBadge';
import { formatInZone } from './zone';

/** The Jobs screen: label, task, enabled, next run in the provider's zone, Last Run Result linking to its log. */
export function JobList() {
  const jobs = useQuery({ queryKey: ['jobs'], queryFn: jobsApi.list, refetchInterval: 10_000 });
  const [deleting, setDeleting] = useState<Job | null>(null);
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader title="Jobs">
        <Button component={Link} to="/jobs/new">
          Add a new Job
        </Button>
      </PageHeader>
      <QueryState query={jobs} what="jobs">
        {(data) => (
          <Table striped withTableBorder aria-label="Jobs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Label</Table.Th>
                <Table.Th>Task</Table.Th>
                <Table.Th>Enabled</Table.Th>
                <Table.Th>Next run</Table.Th>
                <Table.Th>Last Run Result</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.jobs.map((job) => (
                <Table.Tr key={job.id}>
                  <Table.Td>
                    <Anchor component={Link} to={`/jobs/${job.id}/edit`}>
                      {job.label}
                    </Anchor>
                  </Table.Td>
                  <Table.Td>{job.taskLabel}</Table.Td>
                  <Table.Td>
                    <EnabledBadge enabled={job.enabled} />
                  </Table.Td>
                  <Table.Td>{job.enabled ? formatInZone(job.nextRunAt, data.timeZone) : 'Disabled'}</Table.Td>
                  <Table.Td>
                    {job.lastRun ? (
                      <Anchor component={Link} to={`/jobs/runs/${job.lastRun.id}`} aria-label={`Log of the last run of ${job.label}`}>
                        <RunStatusBadge status={job.lastRun.status} />
                      </Anchor>
                    ) : (
                      <Text size="sm">Never run</Text>
                    )}{' '}
                    <Anchor component={Link} to={`/jobs/${job.id}/runs`} size="sm">
                      All runs
                    </Anchor>
                  </Table.Td>
                  <Table.Td>
                    <JobMenu job={job} onDelete={() => setDeleting(job)} />
                  </Table.Td>
                </Table.Tr>
              ))}
              {data.jobs.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={6}>No jobs yet: add one to run the PSA sync or billing on a schedule.</Table.Td>
                </Table.Tr>
              ) : null}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      <ConfirmDialog
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete job "${deleting?.label ?? ''}"?`}
        confirmLabel="Delete job"
        destructive
        onConfirm={() => jobsApi.remove(deleting!.id)}
        onDone={() => void queryClient.invalidateQueries({ queryKey: ['jobs'] })}
      >
        <Text size="sm">The job and the logs of its runs are removed permanently; it will not run again.</Text>
      </ConfirmDialog>
    </>
  );
}

/** The ellipsis menu of a job: Run Now, Dry run, Disable/Enable, Delete. */
function JobMenu({ job, onDelete }: { job: Job; onDelete(): void }) {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['jobs'] });
  const fail = (e: unknown) =>
    notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'red', title: 'That did not work', message: messageOf(e) });
  const runNow = useMutation({
    mutationFn: () => jobsApi.runNow(job.id),
    onSuccess: () => {
      notifications.show({ closeButtonProps: { 'aria-label': 'Dismiss' }, color: 'teal', message: `"${job.label}" is queued to run now.` });
      refresh();
    },
    onError: fail,
  });
  const dryRun = useMutation({
    mutationFn: () => jobsApi.dryRun(job.id),
    onSuccess: (run) => navigate(`/jobs/runs/${run.id}`),
    onError: fail,
  });
  const toggle = useMutation({
    mutationFn: () => (job.enabled ? jobsApi.disable(job.id) : jobsApi.enable(job.id)),
    onSuccess: refresh,
    onError: fail,
  });
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <ActionIcon
          variant="subtle"
          aria-label={`Actions for ${job.label}`}
          loading={runNow.isPending || dryRun.isPending || toggle.isPending}
        >
          …
        </ActionIcon>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item onClick={() => runNow.mutate()}>Run Now</Menu.Item>
        <Menu.Item onClick={() => dryRun.mutate()}>Dry run</Menu.Item>
        <Menu.Item onClick={() => toggle.mutate()}>{job.enabled ? 'Disable' : 'Enable'}</Menu.Item>
        <Menu.Divider />
        <Menu.Item color="red.8" onClick={onDelete}>
          Delete
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
