import { Alert, Button, Group, Progress, Select, Stack, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { billingApi, billingConfigApi, type RunProgress } from '../api/billing-api';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDuration } from '../ui/format';

/** "Reprocess Billing Records" for a chosen period, followed live (server-sent events) to its outcome. */
export function ReprocessTab() {
  const periods = useQuery({ queryKey: ['billing', 'periods'], queryFn: billingApi.periods });
  const [period, setPeriod] = useState<string | null>(null);
  const [progress, setProgress] = useState<RunProgress | null>(null);
  const queryClient = useQueryClient();
  const start = useMutation({ mutationFn: () => billingConfigApi.reprocess(period ?? 'Current'), onSuccess: setProgress });

  const runId = progress?.id;
  const running = progress?.status === 'running';
  useEffect(() => {
    if (runId === undefined || !running) return;
    const events = new EventSource(billingConfigApi.runEvents(runId));
    const update = (e: MessageEvent<string>) => setProgress(JSON.parse(e.data) as RunProgress);
    events.addEventListener('progress', update);
    events.addEventListener('done', (e) => {
      update(e as MessageEvent<string>);
      events.close();
      void queryClient.invalidateQueries({ queryKey: ['billing'] });
    });
    // The server ends a long stream; the browser reconnects by itself, so an error only means "try again".
    return () => events.close();
  }, [runId, running, queryClient]);

  const elapsed = progress ? (progress.finishedAt ? Date.parse(progress.finishedAt) : Date.now()) - Date.parse(progress.startedAt) : 0;
  return (
    <Stack maw={640}>
      <Text size="sm">
        Rebuilds the chosen period's billing records from the service changes with today's SKUs, rules and customer data. This may take a
        while on a large system.
      </Text>
      <Group align="flex-end">
        <Select
          label="Billing period"
          placeholder="The current period"
          data={(periods.data?.periods ?? []).map((p) => ({
            value: p.endDate,
            label: `${p.endDate} — ${p.name}${p.status === 'open' ? ' (open)' : ''}`,
          }))}
          value={period}
          onChange={setPeriod}
          clearable
          w={320}
        />
        <Button onClick={() => start.mutate()} loading={start.isPending} disabled={running}>
          Reprocess Billing Records
        </Button>
      </Group>
      <ErrorAlert error={start.error} />
      {progress ? (
        <div aria-live="polite" data-testid="reprocess-progress">
          {progress.status === 'running' ? (
            <>
              <Text size="sm" mb={4}>
                Reprocessing the period ending {progress.periodEndDate}: {formatDuration(elapsed)} so far
                {progress.expectedMs ? `, the last run took ${formatDuration(progress.expectedMs)}` : ''}.
              </Text>
              <Progress value={progress.percent ?? 100} animated striped aria-label="Reprocess progress" />
            </>
          ) : progress.status === 'succeeded' ? (
            <Alert color="teal" title="Reprocess finished">
              Period ending {progress.periodEndDate}: {progress.items} items; {progress.added} written, {progress.removed} replaced or
              removed, in {formatDuration(elapsed)}.
            </Alert>
          ) : (
            <Alert color="red" title="Reprocess failed">
              {progress.error ?? 'The run failed.'}
            </Alert>
          )}
        </div>
      ) : null}
    </Stack>
  );
}
