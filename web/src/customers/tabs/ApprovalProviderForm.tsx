import { Alert, Button, Checkbox, Group, Select, SimpleGrid, Stack, Table, TagsInput, TextInput, Title } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { customersApi, servicesApi } from '../../api/console-api';
import type {
  ApprovalProvider,
  ApprovalProviderChange,
  ApprovalSubscription,
  ApprovalSubscriptionChange,
  CustomerDetail,
} from '../../api/types';
import { catalogKey } from '../../services/CustomerServiceDialog';
import { ErrorAlert } from '../../ui/ErrorAlert';
import { showServerError } from '../../ui/forms';
import { notifyAccepted } from '../../ui/notify';
import { customerKeys } from '../queries';
import {
  ACCESS_OPTIONS,
  EVENTS,
  ServiceSubscriptions,
  serviceChangesOf,
  serviceRowErrors,
  serviceRowsOf,
  type AnyForm,
  type ServiceRow,
} from './ServiceSubscriptions';

const TARGETS = [
  { value: 'customers', label: 'Customers' },
  { value: 'users', label: 'Users' },
  { value: 'services', label: 'Customer services (all)' },
  { value: 'userservices', label: 'User services (all)' },
] as const;
type Matrix = Record<string, 'None' | 'Object'>;

/** The settings each provider reads (seed 002): how many approve, and the reminder and time-out in days. */
const SETTINGS: Record<string, { key: string; label: string }[]> = {
  'Workflow Managers': [
    { key: 'managers', label: 'Managers who must approve' },
    { key: 'reminderdays', label: 'Reminder after (days)' },
    { key: 'timeoutdays', label: 'Time out after (days)' },
  ],
  group: [
    { key: 'memberstoapprove', label: 'Members who must approve' },
    { key: 'reminderdays', label: 'Reminder after (days)' },
    { key: 'timeoutdays', label: 'Time out after (days)' },
  ],
};

interface GroupValues {
  name: string;
  description: string;
  members: string[];
  configuration: Record<string, string>;
  matrix: Matrix;
  services: ServiceRow[];
  existing: boolean;
  remove: boolean;
}

/** Edits one approval provider of a customer: its settings, which changes need approval, and (Workflow Groups) its groups. */
export function ApprovalProviderForm({
  customer,
  provider,
  onDone,
}: {
  customer: CustomerDetail;
  provider: ApprovalProvider;
  onDone(): void;
}) {
  const client = useQueryClient();
  const [formError, setFormError] = useState<string | null>(null);
  const hasGroups = provider.groups !== undefined;
  // The services a subscription for one service may name: the customer's catalog.
  const catalog = useQuery({ queryKey: catalogKey(customer.id), queryFn: () => servicesApi.catalog(customer.id) });
  const form = useForm({
    initialValues: {
      configuration: settingsOf(SETTINGS[provider.name] ?? [], provider.configuration),
      matrix: matrixOf(provider.subscriptions),
      services: serviceRowsOf(provider.subscriptions),
      groups: (provider.groups ?? []).map<GroupValues>((g) => ({
        name: g.name,
        description: g.description,
        members: g.members.map((m) => m.name),
        configuration: settingsOf(SETTINGS.group!, g.configuration),
        matrix: matrixOf(g.subscriptions),
        services: serviceRowsOf(g.subscriptions),
        existing: true,
        remove: false,
      })),
    },
    validate: (v) => ({
      ...wholeNumbers('configuration', v.configuration),
      ...serviceRowErrors('services', v.services),
      ...Object.assign(
        {},
        ...v.groups.map((g, i) =>
          g.remove
            ? {}
            : {
                ...(g.name.trim() === '' ? { [`groups.${i}.name`]: 'A group needs a name' } : {}),
                ...wholeNumbers(`groups.${i}.configuration`, g.configuration),
                ...serviceRowErrors(`groups.${i}.services`, g.services),
              },
        ),
      ),
    }),
  });

  const save = useMutation({
    mutationFn: (v: typeof form.values) => customersApi.setApprovalSettings(customer.id, [changeOf(provider, v).change]),
    onSuccess: (answer) => {
      client.setQueryData(customerKeys.part(customer.id, 'approval-settings'), answer);
      notifyAccepted(`Approval settings of ${provider.name} saved`);
      onDone();
    },
    onError: (e, v) => setFormError(showServerError(form, e, changeOf(provider, v).fields)),
  });

  return (
    <form
      onSubmit={form.onSubmit((v) => {
        setFormError(null);
        save.mutate(v);
      })}
      noValidate
      aria-label={`Edit ${provider.name}`}
    >
      <Stack gap="sm" mt="sm">
        {formError && (
          <Alert color="red" variant="light" role="alert" title="Not saved">
            {formError}
          </Alert>
        )}
        <Settings form={form} path="configuration" fields={SETTINGS[provider.name] ?? []} />
        <SubscriptionMatrix label={`Changes ${provider.name} approves`} form={form} path="matrix" />
        <ErrorAlert error={catalog.error} title="The catalog could not be read" />
        <ServiceSubscriptions
          label={`Changes of one service ${provider.name} approves`}
          form={form}
          path="services"
          rows={form.values.services}
          catalog={catalog.data?.items}
        />
        {hasGroups &&
          form.values.groups.map((g, i) => (
            <Stack key={i} gap="xs" p="sm" style={{ border: '1px solid var(--mantine-color-gray-4)', borderRadius: 4 }}>
              <Title order={3} size="h5">
                {g.existing ? `Group ${g.name}` : 'New group'}
              </Title>
              {!g.existing && <TextInput label="Group name" required {...form.getInputProps(`groups.${i}.name`)} />}
              {g.existing && (
                <Checkbox label={`Delete group ${g.name}`} {...form.getInputProps(`groups.${i}.remove`, { type: 'checkbox' })} />
              )}
              {!g.remove && (
                <>
                  <TextInput label="Description" {...form.getInputProps(`groups.${i}.description`)} />
                  <TagsInput
                    label="Members"
                    description="User names of this customer; press Enter after each"
                    {...form.getInputProps(`groups.${i}.members`)}
                  />
                  <Settings form={form} path={`groups.${i}.configuration`} fields={SETTINGS.group!} />
                  <SubscriptionMatrix label={`Changes group ${g.name || 'new'} approves`} form={form} path={`groups.${i}.matrix`} />
                  <ServiceSubscriptions
                    label={`Changes of one service group ${g.name || 'new'} approves`}
                    form={form}
                    path={`groups.${i}.services`}
                    rows={g.services}
                    catalog={catalog.data?.items}
                  />
                </>
              )}
            </Stack>
          ))}
        <Group justify="space-between">
          {hasGroups ? (
            <Button
              variant="default"
              onClick={() =>
                form.insertListItem('groups', {
                  name: '',
                  description: '',
                  members: [],
                  configuration: settingsOf(SETTINGS.group!, {}),
                  matrix: matrixOf([]),
                  services: [],
                  existing: false,
                  remove: false,
                })
              }
            >
              Add group
            </Button>
          ) : (
            <span />
          )}
          <Group>
            <Button variant="default" onClick={onDone}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save approval settings
            </Button>
          </Group>
        </Group>
      </Stack>
    </form>
  );
}

interface FormValues {
  configuration: Record<string, string>;
  matrix: Matrix;
  services: ServiceRow[];
  groups: GroupValues[];
}

/**
 * The request body for the form's values, and where each subscription's server error belongs in the
 * form (the body's providers.0.subscriptions.3.service is the form's services.1.service).
 */
function changeOf(provider: ApprovalProvider, v: FormValues): { change: ApprovalProviderChange; fields: Record<string, string> } {
  const fields: Record<string, string> = {};
  const subscriptions = (wire: string, form: string, matrix: Matrix, rows: ServiceRow[], stored: ApprovalSubscription[]) => {
    const all = subscriptionsOf(matrix, matrixOf(stored));
    const { changes, rowOf } = serviceChangesOf(rows, stored);
    rowOf.forEach((row, j) => {
      if (row < 0) return;
      for (const field of ['target', 'service']) fields[`${wire}.subscriptions.${all.length + j}.${field}`] = `${form}.${row}.${field}`;
    });
    return [...all, ...changes];
  };
  const groups = v.groups.map((g, i) => ({ g, i })).filter(({ g }) => g.existing || !g.remove);
  return {
    fields,
    change: {
      name: provider.name,
      configuration: filled(v.configuration),
      subscriptions: subscriptions('providers.0', 'services', v.matrix, v.services, provider.subscriptions),
      ...(provider.groups !== undefined
        ? {
            groups: groups.map(({ g, i }, k) =>
              g.remove
                ? { name: g.name.trim(), delete: true }
                : {
                    name: g.name.trim(),
                    description: g.description,
                    members: g.members,
                    configuration: filled(g.configuration),
                    subscriptions: subscriptions(
                      `providers.0.groups.${k}`,
                      `groups.${i}.services`,
                      g.matrix,
                      g.services,
                      provider.groups?.find((x) => x.name === g.name)?.subscriptions ?? [],
                    ),
                  },
            ),
          }
        : {}),
    },
  };
}

function Settings({ form, path, fields }: { form: AnyForm; path: string; fields: { key: string; label: string }[] }) {
  if (fields.length === 0) return null;
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      {fields.map((f) => (
        <TextInput
          key={f.key}
          label={f.label}
          description="A whole number; empty keeps the default"
          inputMode="numeric"
          {...form.getInputProps(`${path}.${f.key}`)}
        />
      ))}
    </SimpleGrid>
  );
}

/** For each kind of change and event: does it need this approver (Object) or not (None). */
function SubscriptionMatrix({ label, form, path }: { label: string; form: AnyForm; path: string }) {
  return (
    <Table withTableBorder aria-label={label} fz="sm">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Changes of</Table.Th>
          {EVENTS.map((e) => (
            <Table.Th key={e}>{e}</Table.Th>
          ))}
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {TARGETS.map((t) => (
          <Table.Tr key={t.value}>
            <Table.Td>{t.label}</Table.Td>
            {EVENTS.map((e) => (
              <Table.Td key={e}>
                <Select
                  aria-label={`${t.label}: ${e}`}
                  data={ACCESS_OPTIONS}
                  allowDeselect={false}
                  size="xs"
                  {...form.getInputProps(`${path}.${t.value}:${e}`)}
                />
              </Table.Td>
            ))}
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function settingsOf(fields: { key: string }[], configuration: Record<string, string>): Record<string, string> {
  return Object.fromEntries(fields.map((f) => [f.key, configuration[f.key] ?? '']));
}

function filled(configuration: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(configuration).filter(([, v]) => v.trim() !== ''));
}

/** The same rule as the server's: a whole number (up to six digits), or empty to keep the default. */
function wholeNumbers(path: string, configuration: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(configuration)
      .filter(([, v]) => v.trim() !== '' && !/^\d{1,6}$/.test(v.trim()))
      .map(([k]) => [`${path}.${k}`, 'Enter a whole number, or leave it empty']),
  );
}

/** Only the "all services" subscriptions are in the matrix; those for one service are ServiceSubscriptions' rows. */
function matrixOf(subscriptions: ApprovalSubscription[]): Matrix {
  const matrix: Matrix = {};
  for (const t of TARGETS) for (const e of EVENTS) matrix[`${t.value}:${e}`] = 'None';
  for (const s of subscriptions) {
    if (s.service && s.service !== 'All') continue;
    matrix[`${s.target}:${s.event}`] = s.access === 'Object' ? 'Object' : 'None';
  }
  return matrix;
}

/** Only what changed is sent: an untouched "No approval" stays absent rather than stored as None. */
function subscriptionsOf(matrix: Matrix, before: Matrix): ApprovalSubscriptionChange[] {
  return Object.entries(matrix)
    .filter(([key, access]) => before[key] !== access)
    .map(([key, access]) => {
      const [target, event] = key.split(':') as [string, string];
      return { target, event, access, ...(target === 'services' || target === 'userservices' ? { service: 'All' } : {}) };
    });
}
