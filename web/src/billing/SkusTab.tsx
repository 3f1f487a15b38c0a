import { Button, Group, Modal, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { billingConfigApi, type ServiceSkus, type SkuEntry, type SkuTarget } from '../api/billing-api';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDateTime } from '../ui/format';
import { QueryState } from '../ui/QueryState';

interface SkuRow {
  key: string;
  service: ServiceSkus;
  what: string;
  target: SkuTarget;
  entry: SkuEntry;
}

function rowsOf(s: ServiceSkus): SkuRow[] {
  const rows: SkuRow[] = [
    {
      key: `${s.id}/s`,
      service: s,
      what: 'Service (customer service without a plan, each instance)',
      target: { serviceId: s.id },
      entry: s.service,
    },
  ];
  if (s.hasUserService)
    rows.push({
      key: `${s.id}/u`,
      service: s,
      what: 'User service without a user plan',
      target: { serviceId: s.id, userService: true },
      entry: s.userService,
    });
  for (const p of s.plans)
    rows.push({
      key: `${s.id}/p${p.id}`,
      service: s,
      what: `Plan ${p.fullname} (${p.name})`,
      target: { serviceId: s.id, planId: p.id },
      entry: p,
    });
  for (const p of s.userPlans)
    rows.push({
      key: `${s.id}/up${p.id}`,
      service: s,
      what: `User plan ${p.fullname} (${p.name})`,
      target: { serviceId: s.id, userPlanId: p.id },
      entry: p,
    });
  return rows;
}

/** The catalog's SKUs (stock codes) as the PSA knows them; the provider admin edits them. */
export function SkusTab() {
  const skus = useQuery({ queryKey: ['billing', 'skus'], queryFn: billingConfigApi.skus });
  const [editing, setEditing] = useState<SkuRow | null>(null);
  return (
    <>
      <Text size="sm" mb="sm">
        Set each SKU to the PSA's product identifier (Autotask Service ID, ConnectWise product). A change applies from the next billing run;
        reprocess a period to re-label it.
      </Text>
      <QueryState query={skus} what="SKUs">
        {(data) => (
          <Table striped withTableBorder aria-label="SKUs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Service</Table.Th>
                <Table.Th>Billed for</Table.Th>
                <Table.Th>SKU</Table.Th>
                <Table.Th>Shipped default</Table.Th>
                <Table.Th>Last change</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.services.flatMap(rowsOf).map((r) => (
                <Table.Tr key={r.key} data-testid={`sku-${r.service.code}-${r.what}`}>
                  <Table.Td>{r.service.code}</Table.Td>
                  <Table.Td>{r.what}</Table.Td>
                  <Table.Td>
                    <strong>{r.entry.sku ?? '(none)'}</strong>
                    {r.entry.sku !== r.entry.defaultSku ? ' · changed' : ''}
                  </Table.Td>
                  <Table.Td>{r.entry.defaultSku ?? '(none)'}</Table.Td>
                  <Table.Td>{r.entry.changedAt ? `${formatDateTime(r.entry.changedAt)} by ${r.entry.changedBy}` : '—'}</Table.Td>
                  <Table.Td>
                    <Button size="xs" variant="light" onClick={() => setEditing(r)} aria-label={`Edit SKU of ${r.service.code}: ${r.what}`}>
                      Edit
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      {editing ? <EditSku row={editing} onClose={() => setEditing(null)} /> : null}
    </>
  );
}

function EditSku({ row, onClose }: { row: SkuRow; onClose(): void }) {
  const [value, setValue] = useState(row.entry.sku ?? '');
  const queryClient = useQueryClient();
  const done = () => {
    void queryClient.invalidateQueries({ queryKey: ['billing', 'skus'] });
    onClose();
  };
  const save = useMutation({ mutationFn: () => billingConfigApi.setSku(row.target, value.trim() === '' ? null : value), onSuccess: done });
  const reset = useMutation({ mutationFn: () => billingConfigApi.resetSku(row.target), onSuccess: done });
  return (
    <Modal opened onClose={onClose} title={`SKU of ${row.service.code}: ${row.what}`} centered>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <TextInput
            label="SKU"
            description="Empty: bill without a SKU"
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
            data-autofocus
          />
          <ErrorAlert error={save.error ?? reset.error} />
          <Group justify="space-between">
            <Button
              variant="subtle"
              onClick={() => reset.mutate()}
              loading={reset.isPending}
              disabled={row.entry.sku === row.entry.defaultSku}
            >
              Reset to {row.entry.defaultSku ?? '(none)'}
            </Button>
            <Group>
              <Button variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button type="submit" loading={save.isPending}>
                Save SKU
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
