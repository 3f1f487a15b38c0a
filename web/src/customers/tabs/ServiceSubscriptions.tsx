import { Button, Group, Select, Stack, Table, Text, VisuallyHidden } from '@mantine/core';
import { randomId } from '@mantine/hooks';
import type { ApprovalSubscription, ApprovalSubscriptionChange, CatalogService } from '../../api/types';

export const EVENTS = ['Provision', 'Deprovision'] as const;
type Event = (typeof EVENTS)[number];
type Access = 'None' | 'Object';
const SERVICE_TARGETS = [
  { value: 'services', label: 'Customer services' },
  { value: 'userservices', label: 'User services' },
] as const;
type ServiceTarget = (typeof SERVICE_TARGETS)[number]['value'];
/** The label the server stores for "every service" (seed: <label>All</label>). */
const ALL_SERVICES = 'All';
export const ACCESS_OPTIONS = [
  { value: 'None', label: 'No approval' },
  { value: 'Object', label: 'Needs approval' },
];

/** One service's subscription as the form edits it: which changes, which service, and each event's access. */
export interface ServiceRow {
  /** Keeps each row's inputs its own when a row above is removed. */
  id: string;
  target: ServiceTarget;
  service: string | null;
  access: Record<Event, Access>;
}

// The form's values are nested by path; Mantine types its paths loosely.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyForm = { getInputProps(path: string, options?: any): any; getValues(): any };
type ListForm = AnyForm & {
  insertListItem(path: string, item: unknown): void;
  removeListItem(path: string, index: number): void;
};

const isForOneService = (s: ApprovalSubscription) =>
  (s.target === 'services' || s.target === 'userservices') && !!s.service && s.service !== ALL_SERVICES;
const keyOf = (target: string, service: string) => `${target}\n${service.toLowerCase()}`;

/** The stored subscriptions for one service, one row per target and service (an event not stored reads "No approval"). */
export function serviceRowsOf(subscriptions: ApprovalSubscription[]): ServiceRow[] {
  const rows = new Map<string, ServiceRow>();
  for (const s of subscriptions.filter(isForOneService)) {
    const key = keyOf(s.target, s.service!);
    const row = rows.get(key) ?? {
      id: randomId(),
      target: s.target as ServiceTarget,
      service: s.service!,
      access: { Provision: 'None', Deprovision: 'None' },
    };
    if (s.event === 'Provision' || s.event === 'Deprovision') row.access[s.event] = s.access === 'Object' ? 'Object' : 'None';
    rows.set(key, row);
  }
  return [...rows.values()];
}

/** A new row: customer services, no service chosen yet, Provision needing approval. */
export function newServiceRow(): ServiceRow {
  return { id: randomId(), target: 'services', service: null, access: { Provision: 'Object', Deprovision: 'None' } };
}

/** Each row needs a service, and names it once per kind of change. */
export function serviceRowErrors(path: string, rows: ServiceRow[]): Record<string, string> {
  const errors: Record<string, string> = {};
  const seen = new Set<string>();
  rows.forEach((r, i) => {
    if (!r.service) errors[`${path}.${i}.service`] = 'Choose a service';
    else if (seen.has(keyOf(r.target, r.service))) errors[`${path}.${i}.service`] = 'This service is listed above already';
    else seen.add(keyOf(r.target, r.service));
  });
  return errors;
}

/**
 * What to send for the rows: subscriptions removed are deleted, a new row sends both events (so a
 * "No approval" row is kept too), a row that stays sends only the events whose access changed.
 * `rowOf` says which row each change comes from, so a server error lands at that row's field.
 */
export function serviceChangesOf(
  rows: ServiceRow[],
  stored: ApprovalSubscription[],
): { changes: ApprovalSubscriptionChange[]; rowOf: number[] } {
  const before = new Map(stored.filter(isForOneService).map((s) => [`${keyOf(s.target, s.service!)}\n${s.event}`, s]));
  const changes: ApprovalSubscriptionChange[] = [];
  const rowOf: number[] = [];
  const kept = new Set<string>();
  rows.forEach((r, i) => {
    if (!r.service) return;
    const isNew = !EVENTS.some((e) => before.has(`${keyOf(r.target, r.service!)}\n${e}`));
    for (const event of EVENTS) {
      const key = `${keyOf(r.target, r.service)}\n${event}`;
      kept.add(key);
      if (isNew || (before.get(key)?.access ?? 'None') !== r.access[event]) {
        changes.push({ target: r.target, service: r.service, event, access: r.access[event] });
        rowOf.push(i);
      }
    }
  });
  for (const [key, s] of before) {
    if (kept.has(key)) continue;
    changes.push({ target: s.target, service: s.service, event: s.event, delete: true });
    rowOf.push(-1);
  }
  return { changes, rowOf };
}

/** Subscriptions for one service each: add, change or remove; they apply besides the "all services" rows. */
export function ServiceSubscriptions({
  label,
  form,
  path,
  rows,
  catalog,
}: {
  label: string;
  form: ListForm;
  path: string;
  rows: ServiceRow[];
  catalog: CatalogService[] | undefined;
}) {
  return (
    <Stack gap={4}>
      <Text fw={600} size="sm">
        {label}
      </Text>
      {rows.length === 0 ? (
        <Text size="sm" c="dimmed">
          None: only the changes of all services above ask for approval.
        </Text>
      ) : (
        <Table withTableBorder aria-label={label} fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Changes of</Table.Th>
              <Table.Th>Service</Table.Th>
              {EVENTS.map((e) => (
                <Table.Th key={e}>{e}</Table.Th>
              ))}
              <Table.Th>
                <VisuallyHidden>Remove</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((r, i) => {
              const name = `Subscription ${i + 1}`;
              return (
                <Table.Tr key={r.id}>
                  <Table.Td>
                    <Select
                      aria-label={`${name}: changes of`}
                      data={[...SERVICE_TARGETS]}
                      allowDeselect={false}
                      size="xs"
                      {...form.getInputProps(`${path}.${i}.target`)}
                    />
                  </Table.Td>
                  <Table.Td>
                    <Select
                      aria-label={`${name}: service`}
                      placeholder="Search the catalog"
                      data={serviceOptions(catalog, r)}
                      searchable
                      nothingFoundMessage="No such service in this customer's catalog"
                      size="xs"
                      {...form.getInputProps(`${path}.${i}.service`)}
                    />
                  </Table.Td>
                  {EVENTS.map((e) => (
                    <Table.Td key={e}>
                      <Select
                        aria-label={`${name}: ${e}`}
                        data={ACCESS_OPTIONS}
                        allowDeselect={false}
                        size="xs"
                        {...form.getInputProps(`${path}.${i}.access.${e}`)}
                      />
                    </Table.Td>
                  ))}
                  <Table.Td>
                    <Button
                      size="xs"
                      variant="subtle"
                      color="red"
                      aria-label={`Remove subscription ${i + 1}${r.service ? ` (${r.service})` : ''}`}
                      onClick={() => form.removeListItem(path, i)}
                    >
                      Remove
                    </Button>
                  </Table.Td>
                </Table.Tr>
              );
            })}
          </Table.Tbody>
        </Table>
      )}
      <Group>
        <Button size="xs" variant="default" onClick={() => form.insertListItem(path, newServiceRow())}>
          Add a subscription for one service
        </Button>
      </Group>
    </Stack>
  );
}

/** The catalog's services that fit the row (user services only where the service has them), and the row's own. */
function serviceOptions(catalog: CatalogService[] | undefined, row: ServiceRow): string[] {
  const names = (catalog ?? []).filter((c) => row.target === 'services' || c.hasUserService).map((c) => c.name);
  return row.service && !names.includes(row.service) ? [row.service, ...names] : names;
}
