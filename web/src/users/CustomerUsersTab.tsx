import { Button, Group } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import type { CustomerDetail } from '../api/types';
import { hasPermission, useSession } from '../session/session';
import { CreateUserDialog } from './CreateUserDialog';
import { UserTable } from './UserTable';

/** The Users tab of a customer: its users and "New user". */
export function CustomerUsersTab({ customer }: { customer: CustomerDetail }) {
  const { data: session } = useSession();
  const [creating, { open, close }] = useDisclosure();
  const mayCreate = hasPermission(session, 'Manage Users');
  return (
    <>
      {mayCreate && (
        <Group justify="flex-end" mb="sm">
          <Button onClick={open}>New user</Button>
        </Group>
      )}
      <UserTable customerId={customer.id} />
      {mayCreate && <CreateUserDialog customer={customer} opened={creating} onClose={close} />}
    </>
  );
}
