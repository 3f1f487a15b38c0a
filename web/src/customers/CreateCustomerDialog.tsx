import { Alert, Button, Checkbox, Group, Modal, SimpleGrid, Stack, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { customersApi } from '../api/console-api';
import { showServerError } from '../ui/forms';
import { notifyAccepted } from '../ui/notify';
import { useSession } from '../session/session';
import { CustomerSelect } from './CustomerSelect';

const EMPTY = { fullname: '', name: '', contactName: '', contactEmail: '', primaryDomain: '', parentId: '', isReseller: false };

/** New customer with the seed's required fields, its parent reseller and the reseller flag. */
export function CreateCustomerDialog({ opened, onClose }: { opened: boolean; onClose(): void }) {
  const { data: session } = useSession();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({ initialValues: EMPTY });

  const create = useMutation({
    mutationFn: (v: typeof EMPTY) =>
      customersApi.create({
        fullname: v.fullname,
        contactName: v.contactName,
        contactEmail: v.contactEmail,
        primaryDomain: v.primaryDomain,
        isReseller: v.isReseller,
        ...(v.name.trim() ? { name: v.name.trim() } : {}),
        ...(v.parentId ? { parentId: Number(v.parentId) } : {}),
      }),
    onMutate: () => setFormError(null),
    onSuccess: ({ customer, requestId }) => {
      void client.invalidateQueries({ queryKey: ['customers'] });
      notifyAccepted(`Customer ${customer.name} created; provisioning started.`, requestId);
      form.reset();
      onClose();
      navigate(`/customers/${customer.id}`);
    },
    onError: (e) => setFormError(showServerError(form, e)),
  });

  return (
    <Modal opened={opened} onClose={onClose} title="New customer" size="lg" centered>
      <form onSubmit={form.onSubmit((v) => create.mutate(v))} noValidate>
        <Stack>
          {formError && (
            <Alert color="red" variant="light" role="alert">
              {formError}
            </Alert>
          )}
          <TextInput label="Full name" required {...form.getInputProps('fullname')} />
          <SimpleGrid cols={{ base: 1, sm: 2 }}>
            <TextInput label="Short code" description="Made from the full name when left empty" {...form.getInputProps('name')} />
            <TextInput label="Primary domain" placeholder="example.com" required {...form.getInputProps('primaryDomain')} />
            <TextInput label="Contact name" required {...form.getInputProps('contactName')} />
            <TextInput label="Contact email" type="email" required {...form.getInputProps('contactEmail')} />
          </SimpleGrid>
          <CustomerSelect
            label="Parent reseller"
            description="The new customer is placed under it; type to search"
            placeholder={session ? `${session.customer.fullname} (${session.customer.name})` : undefined}
            resellersOnly
            clearable
            {...form.getInputProps('parentId')}
            value={form.values.parentId || null}
          />
          <Checkbox label="Reseller (may have customers of its own)" {...form.getInputProps('isReseller', { type: 'checkbox' })} />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={create.isPending}>
              Create customer
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
