import { Button, Group, List, NumberInput, Paper, Select, Stack, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { billingConfigApi, type BillingSettings, type PeriodKind } from '../api/billing-api';
import { ErrorAlert } from '../ui/ErrorAlert';
import { QueryState } from '../ui/QueryState';

const KINDS: { value: PeriodKind; label: string }[] = [
  { value: 'month_end', label: "Calendar month (ends on the month's last day)" },
  { value: 'fixed_start_day', label: 'Starts on a fixed day of the month' },
  { value: 'days_before_month_end', label: "Ends N days before the month's end" },
];

/** Bill period settings with a preview of the next three periods' start and end. */
export function PeriodSettingsTab() {
  const settings = useQuery({ queryKey: ['billing', 'settings'], queryFn: billingConfigApi.settings });
  return (
    <QueryState query={settings} what="bill period settings">
      {(data) => <SettingsForm saved={data.settings} />}
    </QueryState>
  );
}

function SettingsForm({ saved }: { saved: BillingSettings }) {
  const [values, setValues] = useState<BillingSettings>(saved);
  const [debounced] = useDebouncedValue(values, 300);
  const queryClient = useQueryClient();
  const preview = useQuery({
    queryKey: ['billing', 'settings', 'preview', debounced],
    queryFn: () => billingConfigApi.previewSettings(debounced),
    retry: false,
  });
  const save = useMutation({
    mutationFn: () => billingConfigApi.saveSettings(values),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['billing'] });
      notifications.show({
        closeButtonProps: { 'aria-label': 'Dismiss' },
        color: 'teal',
        message: 'Bill period settings saved: the open period and later ones follow them.',
      });
    },
  });
  return (
    <Stack maw={640}>
      <Select
        label="Period kind"
        data={KINDS}
        value={values.kind}
        allowDeselect={false}
        onChange={(v) => v && setValues({ ...values, kind: v as PeriodKind })}
      />
      {values.kind !== 'month_end' ? (
        <NumberInput
          label={values.kind === 'fixed_start_day' ? 'Start day (1–28)' : "Days before the month's end (0–27)"}
          min={0}
          max={28}
          value={values.day}
          onChange={(v) => setValues({ ...values, day: Number(v) || 0 })}
        />
      ) : null}
      <TextInput
        label="Time zone"
        description="IANA name, e.g. Europe/London; days are counted in it"
        value={values.timeZone}
        onChange={(e) => setValues({ ...values, timeZone: e.currentTarget.value })}
      />
      <Paper withBorder p="sm" aria-live="polite" data-testid="period-preview">
        <Text size="sm" fw={600}>
          Next three periods
        </Text>
        {preview.data ? (
          <List size="sm">
            {preview.data.nextPeriods.map((p) => (
              <List.Item key={p.startDate}>
                {p.startDate} to {p.endDate} ({p.name})
              </List.Item>
            ))}
          </List>
        ) : preview.error ? (
          <Text size="sm" c="red.8">
            {(preview.error as Error).message}
          </Text>
        ) : (
          <Text size="sm">Working it out…</Text>
        )}
      </Paper>
      <ErrorAlert error={save.error} />
      <Group>
        <Button onClick={() => save.mutate()} loading={save.isPending}>
          Save settings
        </Button>
      </Group>
    </Stack>
  );
}
