import { ActionIcon, Button, Group, Modal, Select, Stack, Switch, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { billingApi, billingConfigApi, type Rule, type RuleEffect, type RuleInput, type SkuCondition } from '../api/billing-api';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { showServerError } from '../ui/forms';
import { QueryState } from '../ui/QueryState';

const EFFECTS: { value: RuleEffect; label: string }[] = [
  { value: 'not_billable', label: 'Not billable' },
  { value: 'override_sku', label: 'Override SKU' },
  { value: 'override_description', label: 'Override description' },
];
const SKU_CONDITIONS: { value: SkuCondition; label: string }[] = [
  { value: 'any', label: 'Any item' },
  { value: 'absent', label: 'Items without a SKU' },
  { value: 'present', label: 'Items with a SKU' },
];

/** Billing rules in processing order (the first that matches decides), with create, edit, delete and reorder. */
export function RulesTab() {
  const rules = useQuery({ queryKey: ['billing', 'rules'], queryFn: billingConfigApi.rules });
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState<Rule | 'new' | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const refresh = () => void queryClient.invalidateQueries({ queryKey: ['billing', 'rules'] });
  const reorder = useMutation({ mutationFn: billingConfigApi.reorderRules, onSuccess: refresh });
  const move = (list: Rule[], index: number, by: -1 | 1) => {
    const ids = list.map((r) => r.id);
    const [id] = ids.splice(index, 1);
    ids.splice(index + by, 0, id!);
    reorder.mutate(ids);
  };
  return (
    <>
      <Group justify="space-between" mb="sm">
        <Text size="sm">
          Rules decide top to bottom: the first rule that matches an item decides it. Changes apply from the next billing run.
        </Text>
        <Button onClick={() => setEditing('new')}>Add rule</Button>
      </Group>
      <ErrorAlert error={reorder.error} />
      <QueryState query={rules} what="billing rules">
        {(data) => (
          <Table striped withTableBorder aria-label="Billing rules">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Order</Table.Th>
                <Table.Th>Description</Table.Th>
                <Table.Th>Applies to</Table.Th>
                <Table.Th>Effect</Table.Th>
                <Table.Th>Reason</Table.Th>
                <Table.Th>Valid</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {data.rules.map((r, i) => (
                <Table.Tr key={r.id} data-testid="rule-row">
                  <Table.Td>
                    <Group gap={2} wrap="nowrap">
                      {i + 1}
                      <ActionIcon
                        size="sm"
                        variant="subtle"
                        disabled={i === 0 || reorder.isPending}
                        onClick={() => move(data.rules, i, -1)}
                        aria-label={`Move "${r.description}" up`}
                      >
                        ▲
                      </ActionIcon>
                      <ActionIcon
                        size="sm"
                        variant="subtle"
                        disabled={i === data.rules.length - 1 || reorder.isPending}
                        onClick={() => move(data.rules, i, 1)}
                        aria-label={`Move "${r.description}" down`}
                      >
                        ▼
                      </ActionIcon>
                    </Group>
                  </Table.Td>
                  <Table.Td>
                    {r.description}
                    {r.enabled ? '' : ' (disabled)'}
                  </Table.Td>
                  <Table.Td>{scopeOf(r)}</Table.Td>
                  <Table.Td>
                    {r.effect === 'override_sku'
                      ? `SKU → ${r.overrideSku}`
                      : r.effect === 'override_description'
                        ? `Description → ${r.overrideDescription}`
                        : 'Not billable'}
                  </Table.Td>
                  <Table.Td>{r.overrideReason}</Table.Td>
                  <Table.Td>{r.validFrom || r.validTo ? `${r.validFrom ?? '…'} to ${r.validTo ?? '…'}` : 'Always'}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Button size="xs" variant="light" onClick={() => setEditing(r)}>
                        Edit
                      </Button>
                      <Button size="xs" variant="outline" color="red.9" onClick={() => setDeleting(r)}>
                        Delete
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
              {data.rules.length === 0 ? (
                <Table.Tr>
                  <Table.Td colSpan={7}>No rules: every item is billable with its own SKU.</Table.Td>
                </Table.Tr>
              ) : null}
            </Table.Tbody>
          </Table>
        )}
      </QueryState>
      {editing ? <RuleEditor rule={editing === 'new' ? undefined : editing} onClose={() => setEditing(null)} onSaved={refresh} /> : null}
      <ConfirmDialog
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete rule "${deleting?.description ?? ''}"?`}
        confirmLabel="Delete rule"
        destructive
        onConfirm={() => billingConfigApi.deleteRule(deleting!.id)}
        onDone={refresh}
      >
        <Text size="sm">Items it decided are billed by the other rules from the next billing run.</Text>
      </ConfirmDialog>
    </>
  );
}

function scopeOf(r: Rule): string {
  const parts: string[] = [];
  if (r.customer) parts.push(`${r.customer.fullname} (${r.customer.name})${r.includeSubtree ? ' and its customers' : ' only'}`);
  if (r.service) parts.push(`service ${r.service.code}`);
  if (r.planCode) parts.push(`plan ${r.planCode}`);
  if (r.skuCondition !== 'any') parts.push(r.skuCondition === 'absent' ? 'items without a SKU' : 'items with a SKU');
  if (r.sku) parts.push(`SKU ${r.sku}`);
  return parts.join(', ') || 'Every item';
}

type RuleForm = {
  description: string;
  overrideReason: string;
  effect: RuleEffect;
  overrideSku: string;
  overrideDescription: string;
  customerId: string | null;
  includeSubtree: boolean;
  serviceId: string | null;
  planCode: string;
  skuCondition: SkuCondition;
  sku: string;
  validFrom: string;
  validTo: string;
  enabled: boolean;
};

function RuleEditor({ rule, onClose, onSaved }: { rule?: Rule; onClose(): void; onSaved(): void }) {
  const customers = useQuery({ queryKey: ['billing', 'periods'], queryFn: billingApi.periods });
  const services = useQuery({ queryKey: ['billing', 'skus'], queryFn: billingConfigApi.skus });
  const [error, setError] = useState<string | null>(null);
  const form = useForm<RuleForm>({
    initialValues: {
      description: rule?.description ?? '',
      overrideReason: rule?.overrideReason ?? '',
      effect: rule?.effect ?? 'not_billable',
      overrideSku: rule?.overrideSku ?? '',
      overrideDescription: rule?.overrideDescription ?? '',
      customerId: rule?.customer ? String(rule.customer.id) : null,
      includeSubtree: rule?.includeSubtree ?? true,
      serviceId: rule?.service ? String(rule.service.id) : null,
      planCode: rule?.planCode ?? '',
      skuCondition: rule?.skuCondition ?? 'any',
      sku: rule?.sku ?? '',
      validFrom: rule?.validFrom ?? '',
      validTo: rule?.validTo ?? '',
      enabled: rule?.enabled ?? true,
    },
  });
  const save = useMutation({
    mutationFn: (v: RuleForm) => {
      const input: RuleInput = {
        description: v.description,
        overrideReason: v.overrideReason,
        effect: v.effect,
        overrideSku: v.effect === 'override_sku' ? v.overrideSku : null,
        overrideDescription: v.effect === 'override_description' ? v.overrideDescription : null,
        customerId: v.customerId ? Number(v.customerId) : null,
        includeSubtree: v.includeSubtree,
        serviceId: v.serviceId ? Number(v.serviceId) : null,
        planCode: v.planCode || null,
        skuCondition: v.skuCondition,
        sku: v.sku || null,
        validFrom: v.validFrom || null,
        validTo: v.validTo || null,
        enabled: v.enabled,
      };
      return rule ? billingConfigApi.updateRule(rule.id, input) : billingConfigApi.addRule(input);
    },
    onSuccess: () => {
      onSaved();
      onClose();
    },
    onError: (e) => setError(showServerError(form, e, { customerId: 'customerId', serviceId: 'serviceId' })),
  });
  return (
    <Modal opened onClose={onClose} title={rule ? 'Edit billing rule' : 'Add billing rule'} size="lg" centered>
      <form onSubmit={form.onSubmit((v) => save.mutate(v))}>
        <Stack gap="sm">
          <TextInput label="Description" required {...form.getInputProps('description')} />
          <TextInput
            label="Override reason"
            description="Stamped on every item the rule decides"
            required
            {...form.getInputProps('overrideReason')}
          />
          <Select label="Effect" data={EFFECTS} allowDeselect={false} {...form.getInputProps('effect')} />
          {form.values.effect === 'override_sku' ? <TextInput label="SKU to set" required {...form.getInputProps('overrideSku')} /> : null}
          {form.values.effect === 'override_description' ? (
            <TextInput label="Description to set" required {...form.getInputProps('overrideDescription')} />
          ) : null}
          <Group grow>
            <Select
              label="Customer"
              placeholder="Every customer"
              searchable
              clearable
              data={(customers.data?.customers ?? []).map((c) => ({ value: String(c.id), label: c.name }))}
              {...form.getInputProps('customerId')}
            />
            <Switch label="With its customers (subtree)" mt="lg" {...form.getInputProps('includeSubtree', { type: 'checkbox' })} />
          </Group>
          <Group grow>
            <Select
              label="Service"
              placeholder="Every service"
              searchable
              clearable
              data={(services.data?.services ?? []).map((s) => ({ value: String(s.id), label: `${s.code} — ${s.fullname}` }))}
              {...form.getInputProps('serviceId')}
            />
            <TextInput label="Plan code" placeholder="Any plan" {...form.getInputProps('planCode')} />
          </Group>
          <Group grow>
            <Select label="SKU condition" data={SKU_CONDITIONS} allowDeselect={false} {...form.getInputProps('skuCondition')} />
            <TextInput label="Only SKU" placeholder="Any SKU" {...form.getInputProps('sku')} />
          </Group>
          <Group grow>
            <TextInput label="Valid from" type="date" {...form.getInputProps('validFrom')} />
            <TextInput label="Valid to" type="date" {...form.getInputProps('validTo')} />
          </Group>
          <Switch label="Enabled" {...form.getInputProps('enabled', { type: 'checkbox' })} />
          {error ? <ErrorAlert error={save.error} /> : null}
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save rule
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
