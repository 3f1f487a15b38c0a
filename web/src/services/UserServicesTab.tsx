import { Alert, Button, Group, Modal, MultiSelect, Select, Stack, Table, Text } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { servicesApi } from '../api/console-api';
import type { CustomerService, UserDetail, UserService } from '../api/types';
import { hasPermission, useSession } from '../session/session';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { messageOf } from '../ui/ErrorAlert';
import { QueryState } from '../ui/QueryState';
import { StatusBadge } from '../ui/StatusBadge';
import { notifyAccepted } from '../ui/notify';
import { customerServicesKey } from './CustomerServicesTab';

/** A user's services (an HE mailbox with its user plan, instances of multi-instance services): assign, change plan, remove. */
export function UserServicesTab({ user }: { user: UserDetail }) {
  const { data: session } = useSession();
  const mayManage = hasPermission(session, 'Manage Services');
  const client = useQueryClient();
  const services = useQuery({ queryKey: ['user', user.id, 'services'], queryFn: () => servicesApi.ofUser(user.id) });
  const [editing, setEditing] = useState<UserService | 'new' | null>(null);
  const [removing, setRemoving] = useState<UserService | null>(null);
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['user', user.id] });
    void client.invalidateQueries({ queryKey: ['customer', user.customer.id] });
  };
  return (
    <Stack>
      {mayManage && (
        <Group justify="flex-end">
          <Button onClick={() => setEditing('new')}>Assign service</Button>
        </Group>
      )}
      <QueryState query={services} what="services">
        {({ items }) =>
          items.length === 0 ? (
            <Text c="dimmed">{user.displayName} has no services.</Text>
          ) : (
            <Table withTableBorder striped aria-label={`Services of ${user.name}`}>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Service</Table.Th>
                  <Table.Th>User plan</Table.Th>
                  <Table.Th>Instances</Table.Th>
                  <Table.Th>Status</Table.Th>
                  {mayManage && <Table.Th>Actions</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>
                      {s.service.name}{' '}
                      <Text span c="dimmed" size="xs">
                        ({s.service.code})
                      </Text>
                      {!s.enabled && ' · disabled'}
                    </Table.Td>
                    <Table.Td>{s.userPlan ? `${s.userPlan.fullname} (${s.userPlan.name})` : '—'}</Table.Td>
                    <Table.Td>{s.instances.map((i) => i.name).join(', ') || '—'}</Table.Td>
                    <Table.Td>
                      <StatusBadge status={s.status} />
                    </Table.Td>
                    {mayManage && (
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          <Button size="compact-sm" variant="default" onClick={() => setEditing(s)}>
                            Change plan
                          </Button>
                          <Button size="compact-sm" variant="default" color="red.9" onClick={() => setRemoving(s)}>
                            Remove
                          </Button>
                        </Group>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          )
        }
      </QueryState>
      {editing && (
        <UserServiceDialog
          user={user}
          current={editing === 'new' ? null : editing}
          assigned={services.data?.items ?? []}
          onClose={() => setEditing(null)}
          onSaved={refresh}
        />
      )}
      {removing && (
        <ConfirmDialog
          opened
          onClose={() => setRemoving(null)}
          title={`Remove ${removing.service.name} from ${user.name}?`}
          confirmLabel="Remove service"
          destructive
          onConfirm={() => servicesApi.removeFromUser(user.id, removing.service.id)}
          onDone={(r) => {
            refresh();
            notifyAccepted(`${removing.service.name} is being removed from ${user.name}.`, (r as { requestId: number | null }).requestId);
          }}
        >
          <Text>The service is de-provisioned for {user.displayName} and stops billing from today.</Text>
        </ConfirmDialog>
      )}
    </Stack>
  );
}

/** Assigns one of the customer's services to the user with a user plan (and instances), or changes the plan. */
function UserServiceDialog({
  user,
  current,
  assigned,
  onClose,
  onSaved,
}: {
  user: UserDetail;
  current: UserService | null;
  assigned: UserService[];
  onClose(): void;
  onSaved(): void;
}) {
  const customerServices = useQuery({
    queryKey: customerServicesKey(user.customer.id),
    queryFn: () => servicesApi.ofCustomer(user.customer.id),
  });
  const [serviceId, setServiceId] = useState<string | null>(current ? String(current.service.id) : null);
  const [planId, setPlanId] = useState<string | null>(current?.userPlan ? String(current.userPlan.id) : null);
  const [instances, setInstances] = useState<string[]>(current?.instances.map((i) => i.name) ?? []);
  const available = (customerServices.data?.items ?? []).filter((s) => current || !assigned.some((a) => a.service.id === s.service.id));
  const chosen: CustomerService | undefined = available.find((s) => String(s.service.id) === serviceId);
  const plans = chosen?.userPlans.filter((p) => p.enabled) ?? [];

  const save = useMutation({
    mutationFn: () => {
      const body = { ...(planId ? { userPlanIds: [Number(planId)] } : {}), ...(chosen && chosen.instances.length ? { instances } : {}) };
      return current
        ? servicesApi.changeForUser(user.id, current.service.id, body)
        : servicesApi.assignToUser(user.id, { serviceId: Number(serviceId), ...body });
    },
    onSuccess: (r) => {
      onSaved();
      notifyAccepted(
        current ? `Plan of ${chosen?.service.name} changed for ${user.name}.` : `${chosen?.service.name} assigned to ${user.name}.`,
        r.requestId,
      );
      onClose();
    },
  });

  return (
    <Modal
      opened
      onClose={onClose}
      title={current ? `Change ${current.service.name} of ${user.name}` : `Assign a service to ${user.name}`}
      centered
    >
      <Stack>
        {save.error && (
          <Alert color="red" variant="light" role="alert">
            {messageOf(save.error)}
          </Alert>
        )}
        <Select
          label="Service"
          placeholder="One of the customer's services"
          data={available.map((s) => ({ value: String(s.service.id), label: `${s.service.name} (${s.service.code})` }))}
          value={serviceId}
          onChange={(v) => {
            setServiceId(v);
            setPlanId(null);
          }}
          disabled={!!current}
          nothingFoundMessage="The customer has no other service to give"
        />
        {chosen && plans.length > 0 && (
          <Select
            label="User plan"
            data={plans.map((p) => ({
              value: String(p.plan.id),
              label: `${p.plan.fullname} (${p.plan.name}) — ${p.used} of ${p.userLimit ?? 'no limit'} used`,
            }))}
            value={planId}
            onChange={setPlanId}
          />
        )}
        {chosen && chosen.instances.length > 0 && (
          <MultiSelect label="Instances" data={chosen.instances.map((i) => i.name)} value={instances} onChange={setInstances} />
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!chosen || (plans.length > 0 && !planId)}>
            {current ? 'Save' : 'Assign service'}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
