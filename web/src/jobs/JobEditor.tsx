import { Alert, Button, Group, List, Paper, PasswordInput, Select, Stack, Switch, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate, useParams } from 'react-router';
import { jobsApi, type Job, type JobInput, type LogLevel, type TaskInfo } from '../api/jobs-api';
import { ErrorAlert } from '../ui/ErrorAlert';
import { showServerError } from '../ui/forms';
import { PageHeader } from '../ui/PageHeader';
import { QueryState } from '../ui/QueryState';
import { formatInZone } from './zone';

/** Add a new Job / edit a job (seed 003 "Setup Job to process data"). */
export function JobEditor() {
  const { id } = useParams();
  const jobId = id ? Number(id) : undefined;
  const tasks = useQuery({ queryKey: ['jobs', 'tasks'], queryFn: jobsApi.tasks });
  const job = useQuery({ queryKey: ['jobs', jobId], queryFn: () => jobsApi.get(jobId!), enabled: jobId !== undefined });
  const both = {
    data: tasks.data && (jobId === undefined || job.data) ? { tasks: tasks.data, job: job.data } : undefined,
    error: tasks.error ?? job.error,
    isPending: tasks.isPending || (jobId !== undefined && job.isPending),
  };
  return (
    <>
      <PageHeader title={jobId === undefined ? 'Add a new Job' : 'Edit Job'} />
      <QueryState query={both} what="job">
        {(data) => <JobForm tasks={data.tasks.tasks} logLevels={data.tasks.logLevels} timeZone={data.tasks.timeZone} job={data.job} />}
      </QueryState>
    </>
  );
}

type FormValues = {
  label: string;
  task: string;
  logLevel: LogLevel;
  cron: string;
  parameters: string;
  enabled: boolean;
  secrets: Record<string, string>;
};

function JobForm({ tasks, logLevels, timeZone, job }: { tasks: TaskInfo[]; logLevels: LogLevel[]; timeZone: string; job?: Job }) {
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [formError, setFormError] = useState<string | null>(null);
  const initialTask = job?.task ?? tasks[0]?.id ?? '';
  const form = useForm<FormValues>({
    initialValues: {
      label: job?.label ?? '',
      task: initialTask,
      logLevel: job?.logLevel ?? 'Verbose',
      cron: job?.cron ?? '0 22 26 * *',
      parameters: JSON.stringify(job?.parameters ?? tasks.find((t) => t.id === initialTask)?.defaults ?? {}, null, 2),
      enabled: job?.enabled ?? true,
      secrets: {},
    },
  });
  const task = tasks.find((t) => t.id === form.values.task);

  // Changing the task of a new job pre-fills its parameters' defaults.
  const changeTask = (value: string | null) => {
    if (!value) return;
    form.setFieldValue('task', value);
    form.setFieldValue('secrets', {});
    if (!job) form.setFieldValue('parameters', JSON.stringify(tasks.find((t) => t.id === value)?.defaults ?? {}, null, 2));
  };

  const [cron] = useDebouncedValue(form.values.cron, 300);
  const schedule = useQuery({
    queryKey: ['jobs', 'schedule', cron],
    queryFn: () => jobsApi.schedule(cron),
    enabled: cron.trim() !== '',
    retry: false,
  });
  const [parameters] = useDebouncedValue(form.values.parameters, 300);
  const check = useQuery({
    queryKey: ['jobs', 'check', form.values.task, parameters],
    queryFn: () => jobsApi.check(form.values.task, parameters),
    enabled: !!task,
    retry: false,
  });

  const save = useMutation({
    mutationFn: (v: FormValues) => {
      const typed = Object.entries(v.secrets).filter(([, value]) => value !== '');
      const input: JobInput = {
        label: v.label,
        task: v.task,
        logLevel: v.logLevel,
        cron: v.cron,
        parameters: v.parameters,
        enabled: v.enabled,
      };
      if (typed.length) input.secrets = Object.fromEntries(typed);
      return job ? jobsApi.update(job.id, input) : jobsApi.create(input);
    },
    onSuccess: (saved) => {
      void queryClient.invalidateQueries({ queryKey: ['jobs'] });
      notifications.show({
        closeButtonProps: { 'aria-label': 'Dismiss' },
        color: 'teal',
        message: `Job "${saved.label}" saved. Next run: ${formatInZone(saved.nextRunAt, saved.timeZone)}.`,
      });
      navigate('/jobs');
    },
    onError: (e) => setFormError(showServerError(form, e)),
  });

  const secretNames = task?.secrets ?? [];
  const typedSecrets = secretNames.filter((n) => (form.values.secrets[n] ?? '') !== '');
  const partialSecrets = typedSecrets.length > 0 && typedSecrets.length < secretNames.length;

  return (
    <form onSubmit={form.onSubmit((v) => save.mutate(v))}>
      <Stack maw={900}>
        <Paper withBorder p="md">
          <Stack gap="sm">
            <TextInput
              label="Label"
              description="What the job does, where and when, e.g. Transfer Billing Data to Autotask on 26th of the Month"
              required
              {...form.getInputProps('label')}
            />
            <Select
              label="Task"
              data={tasks.map((t) => ({ value: t.id, label: t.label }))}
              allowDeselect={false}
              disabled={!!job}
              {...form.getInputProps('task')}
              onChange={changeTask}
            />
            <Select label="Log Level" data={logLevels} allowDeselect={false} {...form.getInputProps('logLevel')} />
            <Switch label="Enabled (runs on its schedule)" {...form.getInputProps('enabled', { type: 'checkbox' })} />
          </Stack>
        </Paper>
        <Paper withBorder p="md">
          <TextInput
            label="CRON expression"
            description={`Minute hour day-of-month month day-of-week, in the provider's time zone (${timeZone})`}
            required
            {...form.getInputProps('cron')}
          />
          <div aria-live="polite" data-testid="cron-preview">
            {schedule.data ? (
              <>
                <Text size="sm" mt="xs" fw={600}>
                  {schedule.data.description}
                </Text>
                <Text size="sm" mt="xs">
                  Next five runs:
                </Text>
                <List size="sm">
                  {schedule.data.nextRuns.map((r) => (
                    <List.Item key={r}>{formatInZone(r, schedule.data.timeZone)}</List.Item>
                  ))}
                </List>
              </>
            ) : schedule.error ? (
              <Text size="sm" c="red.8" mt="xs">
                {(schedule.error as Error).message}
              </Text>
            ) : null}
          </div>
        </Paper>
        <Paper withBorder p="md">
          <Textarea
            label="Configuration"
            description="The task's parameters as JSON; every parameter has a default."
            autosize
            minRows={6}
            styles={{ input: { fontFamily: 'monospace' } }}
            {...form.getInputProps('parameters')}
          />
          <div aria-live="polite" data-testid="parameter-check">
            {check.data && check.data.errors.length > 0 ? (
              <List size="sm" mt="xs" c="red.8">
                {check.data.errors
                  .filter((e) => !task?.parameters[e.field])
                  .map((e) => (
                    <List.Item key={`${e.field}:${e.message}`}>
                      <strong>{e.field}</strong>: {e.message}
                    </List.Item>
                  ))}
              </List>
            ) : null}
            {check.data && check.data.errors.length === 0 ? (
              <Text size="sm" mt="xs" c="teal.9">
                The configuration is valid.
              </Text>
            ) : null}
            {task ? (
              <List size="xs" mt="sm">
                {Object.entries(task.parameters).map(([name, p]) => {
                  const problem = check.data?.errors.find((e) => e.field === name);
                  return (
                    <List.Item key={name}>
                      <strong>{name}</strong> (default {JSON.stringify(p.default)}): {p.description}
                      {problem ? (
                        <Text span size="xs" c="red.8" fw={600}>
                          {' '}
                          — {problem.message}
                        </Text>
                      ) : null}
                    </List.Item>
                  );
                })}
              </List>
            ) : null}
          </div>
        </Paper>
        {secretNames.length ? (
          <Paper withBorder p="md">
            <Title order={2} size="h5">
              Secrets
            </Title>
            <Text size="sm" mb="xs">
              Secrets are encrypted and never shown again. To change them, enter all of them again and save.
            </Text>
            <Stack gap="xs">
              {secretNames.map((name) => {
                const stored = job?.secretsSet.includes(name);
                return (
                  <PasswordInput
                    key={name}
                    label={name}
                    autoComplete="new-password"
                    placeholder={stored ? 'stored — enter again to replace' : 'not set'}
                    description={stored ? 'Stored — enter again to replace' : 'Not set'}
                    value={form.values.secrets[name] ?? ''}
                    onChange={(e) => form.setFieldValue('secrets', { ...form.values.secrets, [name]: e.currentTarget.value })}
                  />
                );
              })}
            </Stack>
            {partialSecrets ? (
              <Alert color="yellow" mt="xs">
                Saving replaces every secret: enter {secretNames.filter((n) => !typedSecrets.includes(n)).join(', ')} too.
              </Alert>
            ) : null}
          </Paper>
        ) : null}
        {formError ? <ErrorAlert error={save.error} /> : null}
        <Group>
          <Button type="submit" loading={save.isPending} disabled={partialSecrets}>
            Save
          </Button>
          <Button variant="default" onClick={() => navigate('/jobs')}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
