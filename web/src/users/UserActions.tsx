import { Button, Checkbox, Group, Menu, Modal, PasswordInput, SegmentedControl, Stack, Text } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { usersApi } from '../api/console-api';
import type { UserChange, UserDetail } from '../api/types';
import { hasPermission, useSession } from '../session/session';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { notifyAccepted } from '../ui/notify';
import { PasswordShownOnce } from './PasswordShownOnce';

type Action = 'reset' | 'disable' | 'enable' | 'deprovision' | 'reprovision' | 'totp' | 'delete';

/** Reset password, disable/enable, de-/re-provision, turn off two-factor and delete, each confirmed in words. */
export function UserActions({ user }: { user: UserDetail }) {
  const { data: session } = useSession();
  const [asking, setAsking] = useState<Action | null>(null);
  const client = useQueryClient();
  const navigate = useNavigate();
  if (!hasPermission(session, 'Manage Users')) return null;
  const close = () => setAsking(null);
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['user', user.id] });
    void client.invalidateQueries({ queryKey: ['users'] });
    void client.invalidateQueries({ queryKey: ['customer', user.customer.id] });
  };
  const done = (verb: string) => (result: unknown) => {
    refresh();
    notifyAccepted(`User ${user.name} ${verb}.`, (result as UserChange | undefined)?.requestId);
  };
  const self = session?.user.id === user.id;

  return (
    <>
      <Button variant="default" onClick={() => setAsking('reset')}>
        Reset password
      </Button>
      <Menu position="bottom-end">
        <Menu.Target>
          <Button variant="default">More actions</Button>
        </Menu.Target>
        <Menu.Dropdown>
          {!self && (
            <Menu.Item onClick={() => setAsking(user.enabled ? 'disable' : 'enable')}>{user.enabled ? 'Disable' : 'Enable'}</Menu.Item>
          )}
          <Menu.Item onClick={() => setAsking(user.status === 'NotProvisioned' ? 'reprovision' : 'deprovision')}>
            {user.status === 'NotProvisioned' ? 'Re-provision' : 'De-provision'}
          </Menu.Item>
          {user.totpEnabled && <Menu.Item onClick={() => setAsking('totp')}>Turn off two-factor sign-in</Menu.Item>}
          {!self && (
            <>
              <Menu.Divider />
              <Menu.Item color="red.9" onClick={() => setAsking('delete')}>
                Delete…
              </Menu.Item>
            </>
          )}
        </Menu.Dropdown>
      </Menu>

      {asking === 'reset' && <ResetPasswordDialog user={user} onClose={close} />}
      <ConfirmDialog
        opened={asking === 'disable'}
        onClose={close}
        title={`Disable ${user.name}?`}
        confirmLabel="Disable user"
        destructive
        onConfirm={() => usersApi.action(user.id, 'disable')}
        onDone={done('disabled')}
      >
        <Text>{user.displayName} can no longer sign in and any open session ends now. Services stay provisioned and billed.</Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'enable'}
        onClose={close}
        title={`Enable ${user.name}?`}
        confirmLabel="Enable user"
        onConfirm={() => usersApi.action(user.id, 'enable')}
        onDone={done('enabled')}
      >
        <Text>{user.displayName} can sign in again.</Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'deprovision'}
        onClose={close}
        title={`De-provision ${user.name}?`}
        confirmLabel="De-provision user"
        destructive
        onConfirm={() => usersApi.action(user.id, 'deprovision')}
        onDone={done('is being de-provisioned')}
      >
        <Text>
          Every service of {user.displayName} is removed from the systems that provide it and stops billing from today. The user stays here
          as Not Provisioned and can be re-provisioned.
        </Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'reprovision'}
        onClose={close}
        title={`Re-provision ${user.name}?`}
        confirmLabel="Re-provision user"
        onConfirm={() => usersApi.action(user.id, 'reprovision')}
        onDone={done('is being re-provisioned')}
      >
        <Text>The user and its services are provisioned again; billing restarts from today.</Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'totp'}
        onClose={close}
        title={`Turn off two-factor sign-in for ${user.name}?`}
        confirmLabel="Turn off two-factor"
        destructive
        onConfirm={() => usersApi.disableTotp(user.id)}
        onDone={done('no longer needs a second factor')}
      >
        <Text>{user.displayName} then signs in with the password alone and can enrol an authenticator again from the Account page.</Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'delete'}
        onClose={close}
        title={`Delete ${user.name}?`}
        confirmLabel="Delete user"
        destructive
        onConfirm={() => usersApi.delete(user.id)}
        onDone={(r) => {
          refresh();
          notifyAccepted(`User ${user.name} is being deleted.`, (r as { requestId: number | null }).requestId);
          navigate(`/customers/${user.customer.id}`);
        }}
      >
        <Text>
          {user.displayName} is de-provisioned and removed for good; its services stop billing from today. This cannot be undone. A customer
          keeps at least one user: the last one cannot be deleted.
        </Text>
      </ConfirmDialog>
    </>
  );
}

/** Sets a new password, generated (shown once, with a copy button) or typed. */
function ResetPasswordDialog({ user, onClose }: { user: UserDetail; onClose(): void }) {
  const [mode, setMode] = useState('generate');
  const [password, setPassword] = useState('');
  const [changeAtNextLogon, setChange] = useState(true);
  const [shown, setShown] = useState<string | null>(null);
  if (shown) {
    return (
      <Modal opened onClose={onClose} title={`Password of ${user.name} reset`} centered>
        <Stack>
          <PasswordShownOnce userName={user.name} password={shown} />
          <Group justify="flex-end">
            <Button onClick={onClose}>Done</Button>
          </Group>
        </Stack>
      </Modal>
    );
  }
  return (
    <ConfirmDialog
      opened
      onClose={onClose}
      title={`Reset the password of ${user.name}?`}
      confirmLabel="Reset password"
      onConfirm={() => usersApi.resetPassword(user.id, { ...(mode === 'type' ? { password } : {}), changeAtNextLogon })}
      onDone={(r) => {
        const result = r as { password?: string; requestId: number | null };
        notifyAccepted(`Password of ${user.name} reset.`, result.requestId);
        if (result.password) setShown(result.password);
        else onClose();
      }}
      closeOnDone={false}
    >
      <Stack>
        <SegmentedControl
          aria-label="New password"
          data={[
            { value: 'generate', label: 'Generate one' },
            { value: 'type', label: 'Type one' },
          ]}
          value={mode}
          onChange={setMode}
        />
        {mode === 'type' && (
          <PasswordInput
            label="New password"
            autoComplete="new-password"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
          />
        )}
        <Checkbox label="Must change it at next sign-in" checked={changeAtNextLogon} onChange={(e) => setChange(e.currentTarget.checked)} />
        <Text size="sm" c="dimmed">
          The old password stops working at once, here and on the CortexAPI.
        </Text>
      </Stack>
    </ConfirmDialog>
  );
}
