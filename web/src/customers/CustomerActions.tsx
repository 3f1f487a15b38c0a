import { Button, List, Loader, Menu, Text } from '@mantine/core';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate } from 'react-router';
import { customersApi } from '../api/console-api';
import type { CustomerChange, CustomerDetail } from '../api/types';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorAlert } from '../ui/ErrorAlert';
import { notifyAccepted } from '../ui/notify';

type Action = 'disable' | 'enable' | 'deprovision' | 'reprovision' | 'delete';

/** Edit, disable/enable, de-/re-provision and delete of one customer, each confirmed in words. */
export function CustomerActions({ customer }: { customer: CustomerDetail }) {
  const [asking, setAsking] = useState<Action | null>(null);
  const client = useQueryClient();
  const navigate = useNavigate();
  const refresh = () => {
    void client.invalidateQueries({ queryKey: ['customers'] });
    void client.invalidateQueries({ queryKey: ['customer', customer.id] });
  };
  const done = (verb: string) => (result: unknown) => {
    refresh();
    notifyAccepted(`Customer ${customer.name} ${verb}.`, (result as CustomerChange).requestId);
  };
  const close = () => setAsking(null);
  const children = customer.childrenCount;

  return (
    <>
      <Button component={Link} to={`/customers/${customer.id}/edit`} variant="default">
        Edit
      </Button>
      <Menu position="bottom-end" withinPortal>
        <Menu.Target>
          <Button variant="default">More actions</Button>
        </Menu.Target>
        <Menu.Dropdown>
          <Menu.Item onClick={() => setAsking(customer.enabled ? 'disable' : 'enable')}>
            {customer.enabled ? 'Disable' : 'Enable'}
          </Menu.Item>
          <Menu.Item onClick={() => setAsking(customer.status === 'NotProvisioned' ? 'reprovision' : 'deprovision')}>
            {customer.status === 'NotProvisioned' ? 'Re-provision' : 'De-provision'}
          </Menu.Item>
          <Menu.Divider />
          <Menu.Item color="red.9" onClick={() => setAsking('delete')}>
            Delete…
          </Menu.Item>
        </Menu.Dropdown>
      </Menu>

      <ConfirmDialog
        opened={asking === 'disable'}
        onClose={close}
        title={`Disable ${customer.name}?`}
        confirmLabel="Disable customer"
        destructive
        onConfirm={() => customersApi.action(customer.id, 'disable')}
        onDone={done('disabled')}
      >
        <Text>
          Users of {customer.fullname}
          {children > 0 ? ` and of its ${children} customer${children === 1 ? '' : 's'}` : ''} can no longer sign in, and their open
          sessions end now. Services stay provisioned and billed; enable the customer again to give access back.
        </Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'enable'}
        onClose={close}
        title={`Enable ${customer.name}?`}
        confirmLabel="Enable customer"
        onConfirm={() => customersApi.action(customer.id, 'enable')}
        onDone={done('enabled')}
      >
        <Text>Users of {customer.fullname} can sign in again.</Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'deprovision'}
        onClose={close}
        title={`De-provision ${customer.name}?`}
        confirmLabel="De-provision customer"
        destructive
        onConfirm={() => customersApi.action(customer.id, 'deprovision')}
        onDone={done('is being de-provisioned')}
      >
        <Text>
          Every service of {customer.fullname} and of its users is removed from the systems that provide it
          {children > 0 ? `, and so are those of its ${children} customer${children === 1 ? '' : 's'}` : ''}. Billing of those services
          stops from today. The customer and its users stay here as Not Provisioned and can be re-provisioned.
        </Text>
      </ConfirmDialog>
      <ConfirmDialog
        opened={asking === 'reprovision'}
        onClose={close}
        title={`Re-provision ${customer.name}?`}
        confirmLabel="Re-provision customer"
        onConfirm={() => customersApi.action(customer.id, 'reprovision')}
        onDone={done('is being re-provisioned')}
      >
        <Text>The customer, its users and their services are provisioned again; billing restarts from today.</Text>
      </ConfirmDialog>
      {asking === 'delete' && (
        <DeleteCustomerDialog
          customer={customer}
          onClose={close}
          onDeleted={(requestId) => {
            refresh();
            notifyAccepted(`Customer ${customer.name} is being deleted.`, requestId);
            navigate('/customers');
          }}
        />
      )}
    </>
  );
}

/** Asks the server what deleting would do (children, users, services, billing) and says it before deleting. */
function DeleteCustomerDialog({
  customer,
  onClose,
  onDeleted,
}: {
  customer: CustomerDetail;
  onClose(): void;
  onDeleted(requestId: number | null): void;
}) {
  const preview = useQuery({
    queryKey: ['customer', customer.id, 'delete-preview'],
    queryFn: () => customersApi.deletePreview(customer.id),
    staleTime: 0,
  });
  const p = preview.data;
  return (
    <ConfirmDialog
      opened
      onClose={onClose}
      title={`Delete ${customer.name}?`}
      confirmLabel="Delete customer"
      destructive
      confirmDisabled={!p?.canDelete}
      onConfirm={() => customersApi.delete(customer.id)}
      onDone={(r) => onDeleted((r as { requestId: number | null }).requestId)}
    >
      {preview.isPending && <Loader size="sm" aria-label="Working out what deleting would do" />}
      <ErrorAlert error={preview.error} />
      {p && !p.canDelete && (
        <>
          <Text fw={600}>{customer.fullname} cannot be deleted yet:</Text>
          <List>
            {p.blockers.map((b) => (
              <List.Item key={b}>{b}</List.Item>
            ))}
          </List>
        </>
      )}
      {p?.canDelete && (
        <>
          <Text>
            {customer.fullname} is de-provisioned and removed for good, with its {p.users} user{p.users === 1 ? '' : 's'},{' '}
            {p.customerServices} customer service{p.customerServices === 1 ? '' : 's'} and {p.userServices} user service
            {p.userServices === 1 ? '' : 's'}. This cannot be undone.
          </Text>
          {p.effects.length > 0 && (
            <List>
              {p.effects.map((e) => (
                <List.Item key={e}>{e}</List.Item>
              ))}
            </List>
          )}
        </>
      )}
    </ConfirmDialog>
  );
}
