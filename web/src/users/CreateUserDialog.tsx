import { Alert, Button, Checkbox, Group, Modal, PasswordInput, SegmentedControl, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { usersApi } from '../api/console-api';
import type { CustomerDetail, UserChange } from '../api/types';
import { showServerError } from '../ui/forms';
import { notifyAccepted } from '../ui/notify';
import { PasswordShownOnce } from './PasswordShownOnce';
import { RolesInput } from './RolesInput';

const EMPTY = {
  name: '',
  firstName: '',
  lastName: '',
  displayName: '',
  upn: '',
  externalEmail: '',
  passwordMode: 'generate',
  password: '',
  changeAtNextLogon: true,
  roles: [] as string[],
};

/** New user of a customer: the name becomes Name_CODE; the password is generated (shown once) or typed. */
export function CreateUserDialog({ customer, opened, onClose }: { customer: CustomerDetail; opened: boolean; onClose(): void }) {
  const client = useQueryClient();
  const [formError, setFormError] = useState<string | null>(null);
  const [created, setCreated] = useState<UserChange | null>(null);
  const form = useForm({ initialValues: EMPTY });
  const v = form.getValues();

  const create = useMutation({
    mutationFn: (v: typeof EMPTY) =>
      usersApi.create(customer.id, {
        name: v.name.trim(),
        firstName: v.firstName,
        lastName: v.lastName,
        ...(v.displayName ? { displayName: v.displayName } : {}),
        upn: v.upn.trim() || `${v.name.trim()}@${customer.primaryDomain}`,
        ...(v.externalEmail ? { externalEmail: v.externalEmail } : {}),
        ...(v.passwordMode === 'type' ? { password: v.password } : {}),
        changeAtNextLogon: v.changeAtNextLogon,
        roles: v.roles,
      }),
    onMutate: () => setFormError(null),
    onSuccess: (result) => {
      void client.invalidateQueries({ queryKey: ['customer', customer.id] });
      void client.invalidateQueries({ queryKey: ['users'] });
      notifyAccepted(`User ${result.user.name} created; provisioning started.`, result.requestId);
      setCreated(result);
    },
    onError: (e) => setFormError(showServerError(form, e)),
  });

  const close = () => {
    setCreated(null);
    setFormError(null);
    form.reset();
    onClose();
  };

  return (
    <Modal opened={opened} onClose={close} title={`New user of ${customer.name}`} size="lg" centered>
      {created ? (
        <Stack>
          <Text>
            User{' '}
            <Text span fw={700}>
              {created.user.name}
            </Text>{' '}
            was created.
          </Text>
          {created.generatedPassword && <PasswordShownOnce userName={created.user.name} password={created.generatedPassword} />}
          <Group justify="flex-end">
            <Button variant="default" component={Link} to={`/users/${created.user.id}`} onClick={close}>
              Open the user
            </Button>
            <Button onClick={close}>Done</Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={form.onSubmit((values) => create.mutate(values))} noValidate>
          <Stack>
            {formError && (
              <Alert color="red" variant="light" role="alert">
                {formError}
              </Alert>
            )}
            <TextInput
              label="User name"
              required
              description={v.name.trim() ? `Signs in as ${v.name.trim()}_${customer.name}` : `Stored as Name_${customer.name}`}
              {...form.getInputProps('name')}
            />
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="First name" required {...form.getInputProps('firstName')} />
              <TextInput label="Last name" required {...form.getInputProps('lastName')} />
              <TextInput label="Display name" description="First and last name when empty" {...form.getInputProps('displayName')} />
              <TextInput label="UPN" placeholder={`${v.name.trim() || 'name'}@${customer.primaryDomain}`} {...form.getInputProps('upn')} />
              <TextInput label="External email" type="email" {...form.getInputProps('externalEmail')} />
            </SimpleGrid>
            <div>
              <Text size="sm" fw={500} id="password-mode-label" mb={4}>
                Password
              </Text>
              <SegmentedControl
                aria-labelledby="password-mode-label"
                data={[
                  { value: 'generate', label: 'Generate one' },
                  { value: 'type', label: 'Type one' },
                ]}
                {...form.getInputProps('passwordMode')}
              />
            </div>
            {v.passwordMode === 'type' && (
              <PasswordInput label="Password" autoComplete="new-password" required {...form.getInputProps('password')} />
            )}
            <Checkbox label="Must change the password at next sign-in" {...form.getInputProps('changeAtNextLogon', { type: 'checkbox' })} />
            <RolesInput value={v.roles} onChange={(r) => form.setFieldValue('roles', r)} error={form.errors.roles} />
            <Group justify="flex-end">
              <Button variant="default" onClick={close}>
                Cancel
              </Button>
              <Button type="submit" loading={create.isPending}>
                Create user
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}
