import {
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Paper,
  PasswordInput,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
  VisuallyHidden,
} from '@mantine/core';
import { useForm } from '@mantine/form';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { passwordApi, type ApiToken } from '../api/password-api';
import { hasPermission, useSession } from '../session/session';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { formatDateTime } from '../ui/format';
import { showServerError } from '../ui/forms';
import { PageHeader } from '../ui/PageHeader';

/** seed 000's "Password" page: change the own password; a developer generates and deletes API tokens. */
export function PasswordPage() {
  const { data: session } = useSession();
  return (
    <>
      <PageHeader title="Password" />
      <Stack maw={820}>
        <ChangePasswordForm />
        {session && hasPermission(session, 'Service Provider Developer') ? <ApiTokens /> : null}
      </Stack>
    </>
  );
}

function ChangePasswordForm() {
  const [error, setError] = useState<string | null>(null);
  const form = useForm({
    initialValues: { currentPassword: '', newPassword: '', repeat: '' },
    validate: { repeat: (value, values) => (value === values.newPassword ? null : 'The two new passwords differ.') },
  });
  const change = useMutation({
    mutationFn: (v: typeof form.values) => passwordApi.change(v.currentPassword, v.newPassword),
    onSuccess: () => {
      form.reset();
      setError(null);
      notifications.show({
        closeButtonProps: { 'aria-label': 'Dismiss' },
        color: 'teal',
        message: 'Your password is changed. Your other sessions were signed out.',
      });
    },
    onError: (e) => setError(showServerError(form, e)),
  });
  return (
    <Paper withBorder p="md" component="form" onSubmit={form.onSubmit((v) => change.mutate(v))}>
      <Title order={2} size="h4" mb="sm">
        Change password
      </Title>
      <Stack gap="sm" maw={420}>
        <PasswordInput label="Current password" autoComplete="current-password" required {...form.getInputProps('currentPassword')} />
        <PasswordInput
          label="New password"
          description="At least 8 characters."
          autoComplete="new-password"
          required
          {...form.getInputProps('newPassword')}
        />
        <PasswordInput label="New password again" autoComplete="new-password" required {...form.getInputProps('repeat')} />
        {error ? <ErrorAlert error={change.error} /> : null}
        <Group>
          <Button type="submit" loading={change.isPending}>
            Change password
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}

function ApiTokens() {
  const queryClient = useQueryClient();
  const tokens = useQuery({ queryKey: ['tokens'], queryFn: passwordApi.tokens });
  const [shown, setShown] = useState<(ApiToken & { token: string }) | null>(null);
  const [deleting, setDeleting] = useState<ApiToken | null>(null);
  const form = useForm({ initialValues: { label: '', expiresOn: '' } });
  const generate = useMutation({
    mutationFn: (v: typeof form.values) =>
      passwordApi.generateToken(v.label, v.expiresOn ? new Date(`${v.expiresOn}T23:59:59`).toISOString() : null),
    onSuccess: (created) => {
      setShown(created);
      form.reset();
      void queryClient.invalidateQueries({ queryKey: ['tokens'] });
    },
    onError: (e) => showServerError(form, e, { expiresAt: 'expiresOn' }),
  });
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="xs">
        Generate API Access Token
      </Title>
      <Text size="sm" mb="sm">
        A token lets a program (Power BI, Excel, a PSA) read the billing API as you: send it as <Code>Authorization: Bearer …</Code>.
      </Text>
      <form onSubmit={form.onSubmit((v) => generate.mutate(v))}>
        <Group align="flex-end">
          <TextInput label="Label" description="What the token is for" required {...form.getInputProps('label')} />
          <TextInput label="Expires on (optional)" type="date" {...form.getInputProps('expiresOn')} />
          <Button type="submit" loading={generate.isPending}>
            Generate
          </Button>
        </Group>
      </form>
      {generate.error && !form.errors.label && !form.errors.expiresOn ? <ErrorAlert error={generate.error} /> : null}
      {shown ? (
        <Alert color="yellow" variant="light" mt="md" title={`Token "${shown.label}"`} data-testid="new-token">
          <Stack gap="xs">
            <Code block style={{ wordBreak: 'break-all', whiteSpace: 'pre-wrap' }} data-testid="token-value">
              {shown.token}
            </Code>
            <Group>
              <CopyButton value={shown.token}>
                {({ copied, copy }) => (
                  <Button size="xs" variant={copied ? 'filled' : 'default'} onClick={copy}>
                    {copied ? 'Copied' : 'Copy token'}
                  </Button>
                )}
              </CopyButton>
              <Button size="xs" variant="subtle" onClick={() => setShown(null)}>
                I have stored it
              </Button>
            </Group>
            <Text size="sm" fw={600}>
              Warning: this token will not be shown again. Tenantry keeps no readable copy; store it like a password.
            </Text>
          </Stack>
        </Alert>
      ) : null}
      <Table mt="md" striped withTableBorder aria-label="Your API tokens">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Label</Table.Th>
            <Table.Th>Created</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th>Last used</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(tokens.data?.tokens ?? []).map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td>{t.label}</Table.Td>
              <Table.Td>{formatDateTime(t.createdAt)}</Table.Td>
              <Table.Td>{t.expiresAt ? formatDateTime(t.expiresAt) : 'Never'}</Table.Td>
              <Table.Td>{t.lastUsedAt ? formatDateTime(t.lastUsedAt) : 'Never used'}</Table.Td>
              <Table.Td>
                <Button size="xs" color="red.9" variant="outline" onClick={() => setDeleting(t)} aria-label={`Delete token ${t.label}`}>
                  Delete
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
          {tokens.data && tokens.data.tokens.length === 0 ? (
            <Table.Tr>
              <Table.Td colSpan={5}>No tokens yet.</Table.Td>
            </Table.Tr>
          ) : null}
        </Table.Tbody>
      </Table>
      <ErrorAlert error={tokens.error} />
      <ConfirmDialog
        opened={deleting !== null}
        onClose={() => setDeleting(null)}
        title={`Delete token "${deleting?.label ?? ''}"?`}
        confirmLabel="Delete token"
        destructive
        onConfirm={() => passwordApi.deleteToken(deleting!.id)}
        onDone={() => void queryClient.invalidateQueries({ queryKey: ['tokens'] })}
      >
        <Text size="sm">Programs using this token stop working at once. This cannot be undone.</Text>
      </ConfirmDialog>
    </Paper>
  );
}
