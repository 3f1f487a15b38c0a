import { Alert, Button, Checkbox, Group, Loader, Modal, NumberInput, Select, Stack, Table, Text } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { servicesApi } from '../api/console-api';
import type { CatalogService, CustomerDetail, CustomerService } from '../api/types';
import { ErrorAlert, messageOf } from '../ui/ErrorAlert';
import { notifyAccepted } from '../ui/notify';

export const catalogKey = (customerId: number) => ['customer', customerId, 'catalog'] as const;

interface PlanChoice {
  enabled: boolean;
  userLimit: number | '';
}

/** Assign a catalog service to a customer, or change an assigned one's package, user plans and limits. */
export function CustomerServiceDialog({
  customer,
  service,
  onClose,
  onSaved,
}: {
  customer: CustomerDetail;
  service: CustomerService | null;
  onClose(): void;
  onSaved(): void;
}) {
  const catalog = useQuery({ queryKey: catalogKey(customer.id), queryFn: () => servicesApi.catalog(customer.id) });
  const [serviceId, setServiceId] = useState<string | null>(service ? String(service.service.id) : null);
  const chosen = catalog.data?.items.find((c) => String(c.id) === serviceId);
  return (
    <Modal
      opened
      onClose={onClose}
      title={service ? `Change ${service.service.name} for ${customer.name}` : `Assign a service to ${customer.name}`}
      size="lg"
      centered
    >
      {catalog.isPending && <Loader aria-label="Loading the catalog" />}
      <ErrorAlert error={catalog.error} />
      {catalog.data && (
        <Stack>
          {!service && (
            <Select
              label="Service"
              placeholder="Choose a catalog service"
              data={catalog.data.items.filter((c) => !c.assigned).map((c) => ({ value: String(c.id), label: `${c.name} (${c.code})` }))}
              value={serviceId}
              onChange={setServiceId}
              searchable
              nothingFoundMessage="Every service this customer may have is assigned"
            />
          )}
          {chosen && (
            <ServicePlansForm key={chosen.id} customer={customer} catalog={chosen} current={service} onClose={onClose} onSaved={onSaved} />
          )}
        </Stack>
      )}
    </Modal>
  );
}

function ServicePlansForm({
  customer,
  catalog,
  current,
  onClose,
  onSaved,
}: {
  customer: CustomerDetail;
  catalog: CatalogService;
  current: CustomerService | null;
  onClose(): void;
  onSaved(): void;
}) {
  const [packageId, setPackageId] = useState<string | null>(
    current?.package ? String(current.package.id) : catalog.packages[0] ? String(catalog.packages[0].id) : null,
  );
  const [isBilled, setBilled] = useState(current?.isBilled ?? true);
  const [userLimit, setUserLimit] = useState<number | ''>(current?.userLimit ?? '');
  const [plans, setPlans] = useState<Record<number, PlanChoice>>(() =>
    Object.fromEntries(
      catalog.userPlans.map((p) => {
        const had = current?.userPlans.find((u) => u.plan.id === p.id);
        return [p.id, { enabled: had ? had.enabled : !current, userLimit: had?.userLimit ?? '' }];
      }),
    ),
  );
  const body = {
    ...(packageId ? { packageId: Number(packageId) } : {}),
    isBilled,
    userLimit: userLimit === '' ? null : userLimit,
    userPlans: catalog.userPlans.map((p) => ({
      planId: p.id,
      enabled: plans[p.id].enabled,
      userLimit: plans[p.id].userLimit === '' ? null : (plans[p.id].userLimit as number),
    })),
  };
  const save = useMutation({
    mutationFn: () =>
      current ? servicesApi.change(customer.id, catalog.id, body) : servicesApi.assign(customer.id, { serviceId: catalog.id, ...body }),
    onSuccess: (r) => {
      onSaved();
      notifyAccepted(
        current ? `${catalog.name} of ${customer.name} changed.` : `${catalog.name} assigned to ${customer.name}.`,
        r.requestId,
      );
      onClose();
    },
  });
  const setPlan = (id: number, change: Partial<PlanChoice>) => setPlans((p) => ({ ...p, [id]: { ...p[id], ...change } }));

  return (
    <Stack>
      {save.error && (
        <Alert color="red" variant="light" role="alert">
          {messageOf(save.error)}
        </Alert>
      )}
      {catalog.packages.length > 0 && (
        <Select
          label="Package"
          data={catalog.packages.map((p) => ({ value: String(p.id), label: `${p.fullname} (${p.name})` }))}
          value={packageId}
          onChange={setPackageId}
          allowDeselect={false}
        />
      )}
      <NumberInput
        label="User limit"
        description="Most users who may have the service; empty for no limit"
        min={0}
        value={userLimit}
        onChange={(v) => setUserLimit(typeof v === 'number' ? v : '')}
      />
      <Checkbox label="Billed" checked={isBilled} onChange={(e) => setBilled(e.currentTarget.checked)} />
      {catalog.userPlans.length > 0 && (
        <Table withTableBorder aria-label="User plans">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User plan</Table.Th>
              <Table.Th>Enabled</Table.Th>
              <Table.Th>User limit</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {catalog.userPlans.map((p) => (
              <Table.Tr key={p.id}>
                <Table.Td>
                  {p.fullname}{' '}
                  <Text span c="dimmed" size="xs">
                    ({p.name})
                  </Text>
                </Table.Td>
                <Table.Td>
                  <Checkbox
                    aria-label={`Enable ${p.name}`}
                    checked={plans[p.id].enabled}
                    onChange={(e) => setPlan(p.id, { enabled: e.currentTarget.checked })}
                  />
                </Table.Td>
                <Table.Td>
                  <NumberInput
                    aria-label={`User limit of ${p.name}`}
                    size="xs"
                    min={0}
                    placeholder="No limit"
                    value={plans[p.id].userLimit}
                    onChange={(v) => setPlan(p.id, { userLimit: typeof v === 'number' ? v : '' })}
                    w={110}
                  />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Group justify="flex-end">
        <Button variant="default" onClick={onClose}>
          Cancel
        </Button>
        <Button onClick={() => save.mutate()} loading={save.isPending}>
          {current ? 'Save changes' : 'Assign service'}
        </Button>
      </Group>
    </Stack>
  );
}
