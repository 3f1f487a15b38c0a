import { Accordion, Alert, Button, Checkbox, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { usersApi } from '../api/console-api';
import type { UserDetail } from '../api/types';
import { blankToNull, showServerError } from '../ui/forms';
import { notifyAccepted } from '../ui/notify';
import { useRoles } from './RolesInput';
import { userKeys } from './queries';

/** Permissions seed 000/002 send operators looking for under Advanced Options. */
const NOTED_PERMISSIONS = ['API Access', 'Service Provider Developer'];

function valuesOf(u: UserDetail) {
  return {
    firstName: u.firstName ?? '',
    lastName: u.lastName ?? '',
    displayName: u.displayName ?? '',
    upn: u.upn ?? '',
    externalEmail: u.externalEmail ?? '',
    department: u.department ?? '',
    location: u.location ?? '',
    accountExpires: u.accountExpires ? u.accountExpires.slice(0, 10) : '',
    changeAtNextLogon: u.changeAtNextLogon,
    passwordNeverExpires: u.passwordNeverExpires,
  };
}

/** Edit User → Account Settings, with Advanced Options holding roles and permissions. */
export function AccountSettingsForm({ user }: { user: UserDetail }) {
  const client = useQueryClient();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({ initialValues: valuesOf(user) });

  const save = useMutation({
    mutationFn: (v: ReturnType<typeof valuesOf>) =>
      usersApi.update(user.id, {
        firstName: blankToNull(v.firstName),
        lastName: blankToNull(v.lastName),
        displayName: blankToNull(v.displayName),
        upn: v.upn,
        externalEmail: blankToNull(v.externalEmail),
        department: v.department,
        location: v.location,
        accountExpires: v.accountExpires ? `${v.accountExpires}T00:00:00.000Z` : null,
        changeAtNextLogon: v.changeAtNextLogon,
        passwordNeverExpires: v.passwordNeverExpires,
      }),
    onMutate: () => setFormError(null),
    onSuccess: (r) => {
      client.setQueryData(userKeys.detail(user.id), r.user);
      void client.invalidateQueries({ queryKey: ['users'] });
      form.resetDirty(valuesOf(r.user));
      notifyAccepted(`User ${user.name} saved.`, r.requestId);
    },
    onError: (e) => setFormError(showServerError(form, e)),
  });

  return (
    <Stack>
      <Paper withBorder p="md">
        <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate aria-label="Account Settings">
          <Stack>
            {formError && (
              <Alert color="red" variant="light" role="alert">
                {formError}
              </Alert>
            )}
            <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }}>
              <TextInput label="First name" {...form.getInputProps('firstName')} />
              <TextInput label="Last name" {...form.getInputProps('lastName')} />
              <TextInput label="Display name" {...form.getInputProps('displayName')} />
              <TextInput label="UPN" {...form.getInputProps('upn')} />
              <TextInput label="External email" type="email" {...form.getInputProps('externalEmail')} />
              <TextInput label="Department" {...form.getInputProps('department')} />
              <TextInput label="Office location" {...form.getInputProps('location')} />
              <TextInput label="Account expires" type="date" {...form.getInputProps('accountExpires')} />
            </SimpleGrid>
            <Group>
              <Checkbox
                label="Must change the password at next sign-in"
                {...form.getInputProps('changeAtNextLogon', { type: 'checkbox' })}
              />
              <Checkbox label="Password never expires" {...form.getInputProps('passwordNeverExpires', { type: 'checkbox' })} />
            </Group>
            <Group justify="flex-end">
              <Button type="submit" loading={save.isPending} disabled={!form.isDirty()}>
                Save account settings
              </Button>
            </Group>
          </Stack>
        </form>
      </Paper>
      <Accordion variant="contained" defaultValue={null}>
        <Accordion.Item value="advanced">
          <Accordion.Control>Advanced Options: roles and permissions</Accordion.Control>
          <Accordion.Panel>
            <RolesEditor user={user} />
          </Accordion.Panel>
        </Accordion.Item>
      </Accordion>
    </Stack>
  );
}

/** Roles the caller may grant, each with the permissions it gives; API Access and Service Provider Developer spelled out. */
function RolesEditor({ user }: { user: UserDetail }) {
  const client = useQueryClient();
  const roles = useRoles();
  const [chosen, setChosen] = useState<string[]>(user.roles);
  const save = useMutation({
    mutationFn: () => usersApi.setRoles(user.id, chosen),
    onSuccess: (r) => {
      client.setQueryData(userKeys.detail(user.id), { ...user, roles: r.roles, permissions: r.permissions });
      notifyAccepted(`Roles of ${user.name} saved.`, r.requestId);
    },
  });
  const available = roles.data?.items ?? [];
  const granted = new Set(available.filter((r) => chosen.includes(r.name)).flatMap((r) => r.permissions));
  const dirty = chosen.slice().sort().join('|') !== user.roles.slice().sort().join('|');

  return (
    <Stack>
      {save.error && (
        <Alert color="red" variant="light" role="alert">
          {(save.error as Error).message}
        </Alert>
      )}
      <Checkbox.Group label="Roles" value={chosen} onChange={setChosen}>
        <Stack gap="xs" mt="xs">
          {available.map((r) => (
            <Checkbox
              key={r.name}
              value={r.name}
              label={r.name}
              description={`${r.description}. Grants: ${r.permissions.join(', ') || 'nothing'}`}
            />
          ))}
          {user.roles
            .filter((name) => !available.some((r) => r.name === name))
            .map((name) => (
              <Checkbox key={name} value={name} label={name} description="You may not grant or remove this role" disabled />
            ))}
        </Stack>
      </Checkbox.Group>
      <Table withTableBorder aria-label="Permissions from these roles" maw={420}>
        <Table.Tbody>
          {NOTED_PERMISSIONS.map((p) => (
            <Table.Tr key={p}>
              <Table.Th scope="row">{p}</Table.Th>
              <Table.Td>{granted.has(p) || (!dirty && user.permissions.includes(p)) ? 'Granted' : 'Not granted'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Text size="sm" c="dimmed">
        All permissions now: {user.permissions.join(', ') || 'none'}
      </Text>
      <Group justify="flex-end">
        <Button onClick={() => save.mutate()} loading={save.isPending} disabled={!dirty}>
          Save roles
        </Button>
      </Group>
    </Stack>
  );
}
