import { Button, Grid } from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { hasPermission, useSession } from '../session/session';
import { PageHeader } from '../ui/PageHeader';
import { CreateCustomerDialog } from './CreateCustomerDialog';
import { CustomerTable } from './CustomerTable';
import { CustomerTree } from './CustomerTree';

/** Customers: the hierarchy as a tree beside a searchable table, and "New customer". */
export function CustomersPage() {
  const { data: session } = useSession();
  const [creating, { open, close }] = useDisclosure();
  const mayCreate = hasPermission(session, 'Manage Customers');
  return (
    <>
      <PageHeader title="Customers">{mayCreate && <Button onClick={open}>New customer</Button>}</PageHeader>
      <Grid>
        <Grid.Col span={{ base: 12, lg: 3 }}>
          <CustomerTree />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 9 }}>
          <CustomerTable />
        </Grid.Col>
      </Grid>
      {mayCreate && <CreateCustomerDialog opened={creating} onClose={close} />}
    </>
  );
}
