import { Accordion, ActionIcon, Alert, Button, Checkbox, Group, Paper, Select, SimpleGrid, Stack, Text, TextInput } from '@mantine/core';
import { useForm } from '@mantine/form';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { customersApi } from '../api/console-api';
import type { CustomerDetail } from '../api/types';
import { blankToNull, showServerError } from '../ui/forms';
import { notifyAccepted } from '../ui/notify';
import { PageHeader } from '../ui/PageHeader';
import { QueryState, queryForId } from '../ui/QueryState';
import { customerKeys, idParam, useCustomer } from './queries';

/** Edit customer: contact, address, Additional Options (Billing Identifier, account code, location) and properties. */
export function CustomerEditPage() {
  const id = idParam(useParams().id);
  const customer = useCustomer(id);
  return (
    <QueryState query={queryForId(id, customer)} what="customer">
      {(c) => <CustomerForm key={c.id} customer={c} />}
    </QueryState>
  );
}

/** Stored as the additional properties PsaContractId / PsaAgreementId, edited in their own fields (issue 11 §6). */
const PSA_PROPERTIES = new Set(['psacontractid', 'psaagreementid']);

function valuesOf(c: CustomerDetail) {
  const names = new Set(
    [...c.propertyDefinitions.map((d) => d.name), ...Object.keys(c.properties)].filter((n) => !PSA_PROPERTIES.has(n.toLowerCase())),
  );
  return {
    fullname: c.fullname,
    contactName: c.contactName,
    contactEmail: c.contactEmail,
    primaryDomain: c.primaryDomain,
    email: c.email ?? '',
    address1: c.address1 ?? '',
    address2: c.address2 ?? '',
    postcode: c.postcode ?? '',
    country: c.country ?? '',
    billingId: c.billingId ?? '',
    accountCode: c.accountCode ?? '',
    billToParent: c.billToParent,
    isReseller: c.isReseller,
    locationId: c.location ? String(c.location.id) : '',
    psaContractId: c.psaMapping.autotaskContractId === null ? '' : String(c.psaMapping.autotaskContractId),
    psaAgreementId: c.psaMapping.connectwiseAgreementId === null ? '' : String(c.psaMapping.connectwiseAgreementId),
    properties: [...names].map((name) => ({
      name,
      value: c.properties[name] ?? c.propertyDefinitions.find((d) => d.name === name)?.default ?? '',
    })),
  };
}
type Values = ReturnType<typeof valuesOf>;

/** Server errors about `properties.X` belong to that property's row; the PSA mapping's to its fields. */
function fieldMap(v: Values): Record<string, string> {
  return {
    ...Object.fromEntries(v.properties.map((p, i) => [`properties.${p.name}`, `properties.${i}.value`])),
    PsaContractId: 'psaContractId',
    PsaAgreementId: 'psaAgreementId',
  };
}

const PSA_ID = /^\d{1,15}$/;
const psaIdError = (value: string) =>
  value.trim() === '' || (PSA_ID.test(value.trim()) && Number(value) > 0)
    ? null
    : 'Enter the id as a whole number, or leave it empty to let the sync choose.';
const psaId = (value: string): number | null => (value.trim() === '' ? null : Number(value.trim()));

function CustomerForm({ customer: c }: { customer: CustomerDetail }) {
  const client = useQueryClient();
  const navigate = useNavigate();
  const [formError, setFormError] = useState<string | null>(null);
  const form = useForm({
    initialValues: valuesOf(c),
    validate: { psaContractId: psaIdError, psaAgreementId: psaIdError },
  });
  const locations = useQuery({ queryKey: customerKeys.part(c.id, 'locations'), queryFn: () => customersApi.locations(c.id) });
  const definitions = new Map(c.propertyDefinitions.map((d) => [d.name, d]));

  const save = useMutation({
    mutationFn: (v: Values) =>
      customersApi.update(c.id, {
        fullname: v.fullname,
        contactName: v.contactName,
        contactEmail: v.contactEmail,
        primaryDomain: v.primaryDomain,
        email: v.email,
        address1: v.address1,
        address2: v.address2,
        postcode: v.postcode,
        country: v.country,
        billingId: blankToNull(v.billingId),
        accountCode: blankToNull(v.accountCode),
        billToParent: v.billToParent,
        isReseller: v.isReseller,
        locationId: v.locationId ? Number(v.locationId) : null,
        properties: Object.fromEntries(v.properties.filter((p) => p.name.trim()).map((p) => [p.name.trim(), p.value])),
        psaMapping: { autotaskContractId: psaId(v.psaContractId), connectwiseAgreementId: psaId(v.psaAgreementId) },
      }),
    onMutate: () => setFormError(null),
    onSuccess: (r) => {
      client.setQueryData(customerKeys.detail(c.id), r.customer);
      void client.invalidateQueries({ queryKey: ['customers'] });
      notifyAccepted(`Customer ${c.name} saved.`, r.requestId);
      navigate(`/customers/${c.id}`);
    },
    onError: (e) => setFormError(showServerError(form, e, fieldMap(form.getValues()))),
  });

  return (
    <>
      <PageHeader title={`Edit ${c.fullname} (${c.name})`} />
      <form onSubmit={form.onSubmit((v) => save.mutate(v))} noValidate>
        <Stack maw={960}>
          {formError && (
            <Alert color="red" variant="light" role="alert" title="Not saved">
              {formError}
            </Alert>
          )}
          <Paper withBorder p="md" component="fieldset">
            <Text component="legend" fw={600}>
              Customer
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Full name" required {...form.getInputProps('fullname')} />
              <TextInput label="Primary domain" required {...form.getInputProps('primaryDomain')} />
              <TextInput label="Contact name" required {...form.getInputProps('contactName')} />
              <TextInput label="Contact email" type="email" required {...form.getInputProps('contactEmail')} />
              <TextInput label="Email" type="email" {...form.getInputProps('email')} />
            </SimpleGrid>
            <Checkbox
              mt="sm"
              label="Reseller (may have customers of its own)"
              {...form.getInputProps('isReseller', { type: 'checkbox' })}
            />
          </Paper>
          <Paper withBorder p="md" component="fieldset">
            <Text component="legend" fw={600}>
              Address
            </Text>
            <SimpleGrid cols={{ base: 1, sm: 2 }}>
              <TextInput label="Address line 1" {...form.getInputProps('address1')} />
              <TextInput label="Address line 2" {...form.getInputProps('address2')} />
              <TextInput label="Postcode" {...form.getInputProps('postcode')} />
              <TextInput label="Country" {...form.getInputProps('country')} />
            </SimpleGrid>
          </Paper>
          <Accordion variant="contained" defaultValue="additional">
            <Accordion.Item value="additional">
              <Accordion.Control>Additional Options</Accordion.Control>
              <Accordion.Panel>
                <SimpleGrid cols={{ base: 1, sm: 2 }}>
                  <TextInput
                    label="Billing Identifier"
                    description="Matches the customer's company in the PSA and billing exports"
                    {...form.getInputProps('billingId')}
                  />
                  <TextInput label="Account code" {...form.getInputProps('accountCode')} />
                  <Select
                    label="Location"
                    placeholder="No location"
                    clearable
                    data={(locations.data?.items ?? []).map((l) => ({ value: String(l.id), label: l.name }))}
                    {...form.getInputProps('locationId')}
                  />
                  <TextInput
                    label="PSA contract ID (Autotask)"
                    description="Recurring Service contract the sync uses; empty: the one in force with the latest start date"
                    inputMode="numeric"
                    {...form.getInputProps('psaContractId')}
                  />
                  <TextInput
                    label="PSA agreement ID (ConnectWise)"
                    description="Agreement the sync uses; empty: the active one of the job's type with the latest start date"
                    inputMode="numeric"
                    {...form.getInputProps('psaAgreementId')}
                  />
                </SimpleGrid>
                <Checkbox
                  mt="sm"
                  label="Bill to parent (the parent reseller is invoiced for this customer)"
                  {...form.getInputProps('billToParent', { type: 'checkbox' })}
                />
              </Accordion.Panel>
            </Accordion.Item>
            <Accordion.Item value="properties">
              <Accordion.Control>Customer properties and additional properties</Accordion.Control>
              <Accordion.Panel>
                <Stack gap="xs">
                  {form.getValues().properties.map((p, i) => {
                    const def = definitions.get(p.name);
                    return (
                      <Group key={i} align="flex-end" wrap="nowrap">
                        {def ? (
                          <TextInput
                            label={def.displayname || def.name}
                            description={def.name}
                            required={def.required}
                            style={{ flex: 1 }}
                            {...form.getInputProps(`properties.${i}.value`)}
                          />
                        ) : (
                          <>
                            <TextInput label="Property name" {...form.getInputProps(`properties.${i}.name`)} w={220} />
                            <TextInput label="Value" style={{ flex: 1 }} {...form.getInputProps(`properties.${i}.value`)} />
                            <ActionIcon
                              variant="default"
                              size="lg"
                              aria-label={`Remove property ${p.name || i + 1}`}
                              onClick={() => form.removeListItem('properties', i)}
                            >
                              ✕
                            </ActionIcon>
                          </>
                        )}
                      </Group>
                    );
                  })}
                  <Group>
                    <Button variant="default" size="xs" onClick={() => form.insertListItem('properties', { name: '', value: '' })}>
                      Add a property
                    </Button>
                  </Group>
                </Stack>
              </Accordion.Panel>
            </Accordion.Item>
          </Accordion>
          <Group justify="flex-end">
            <Button variant="default" component={Link} to={`/customers/${c.id}`}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save customer
            </Button>
          </Group>
        </Stack>
      </form>
    </>
  );
}
