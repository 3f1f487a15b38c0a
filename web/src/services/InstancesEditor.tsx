import { Button, Group, List, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { servicesApi } from '../api/console-api';
import type { CustomerService } from '../api/types';
import { ErrorAlert } from '../ui/ErrorAlert';
import { StatusBadge } from '../ui/StatusBadge';
import { notifyAccepted } from '../ui/notify';

/** Instances of a multi-instance customer service: listed, added by name, removed. */
export function InstancesEditor({
  customerId,
  service,
  mayManage,
  multiInstance,
}: {
  customerId: number;
  service: CustomerService;
  mayManage: boolean;
  multiInstance: boolean;
}) {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const refresh = () => void client.invalidateQueries({ queryKey: ['customer', customerId] });
  const add = useMutation({
    mutationFn: () => servicesApi.addInstance(customerId, service.service.id, { name: name.trim() }),
    onSuccess: (r) => {
      notifyAccepted(`Instance ${name.trim()} added to ${service.service.name}.`, r.requestId);
      setName('');
      refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (instance: string) => servicesApi.removeInstance(customerId, service.service.id, instance),
    onSuccess: (r, instance) => {
      notifyAccepted(`Instance ${instance} is being removed.`, r.requestId);
      refresh();
    },
  });
  if (service.instances.length === 0 && !(mayManage && multiInstance)) return null;
  return (
    <div>
      {service.instances.length > 0 && (
        <>
          <Text size="sm" mt="xs" fw={500}>
            Instances
          </Text>
          <List size="sm" spacing={4}>
            {service.instances.map((i) => (
              <List.Item key={i.id}>
                <Group gap="xs">
                  {i.name} <StatusBadge status={i.status} />
                  {mayManage && (
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      color="red.9"
                      onClick={() => remove.mutate(i.name)}
                      aria-label={`Remove instance ${i.name}`}
                    >
                      Remove
                    </Button>
                  )}
                </Group>
              </List.Item>
            ))}
          </List>
        </>
      )}
      {mayManage && multiInstance && (
        <Group mt="xs" align="flex-end">
          <TextInput
            size="xs"
            label={`New instance of ${service.service.name}`}
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={add.error ? (add.error as Error).message : undefined}
          />
          <Button size="xs" variant="default" disabled={!name.trim()} loading={add.isPending} onClick={() => add.mutate()}>
            Add instance
          </Button>
        </Group>
      )}
      <ErrorAlert error={remove.error} />
    </div>
  );
}
