import { Anchor, Group, Paper, Select, Switch, Table, Tabs, Text } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link } from 'react-router';
import { billingApi, type BillPeriod } from '../api/billing-api';
import { hasPermission, useSession } from '../session/session';
import { PageHeader } from '../ui/PageHeader';
import { QueryState } from '../ui/QueryState';
import { BillingCharts } from './BillingCharts';
import { DetailTable } from './DetailTable';
import { DownloadButtons } from './DownloadButtons';

/** Reports > Billing: pick a period, then its summary, detail and charts (scoped to the caller's subtree). */
export function BillingReportPage() {
  const { data: session } = useSession();
  const periods = useQuery({ queryKey: ['billing', 'periods'], queryFn: billingApi.periods });
  return (
    <>
      <PageHeader title="Billing">
        {hasPermission(session, 'Manage Billing') ? (
          <Anchor component={Link} to="/billing/configuration">
            Service Billing Configuration
          </Anchor>
        ) : null}
      </PageHeader>
      <QueryState query={periods} what="billing periods">
        {(data) =>
          data.periods.length ? <Report periods={data.periods} customers={data.customers} /> : <Text>No billing periods yet.</Text>
        }
      </QueryState>
    </>
  );
}

function periodLabel(p: BillPeriod): string {
  return `${p.endDate} — ${p.name} (${p.status === 'open' ? 'open' : 'closed'})`;
}

function Report({ periods, customers }: { periods: BillPeriod[]; customers: { id: number; name: string }[] }) {
  const [endDate, setEndDate] = useState(periods[0]!.endDate);
  const [customerId, setCustomerId] = useState<string | null>(null);
  const [billable, setBillable] = useState(false);
  const [byCustomer, setByCustomer] = useState(false);
  const period = periods.find((p) => p.endDate === endDate)!;
  const q = { endDate, billable, aggregateByCustomer: byCustomer, ...(customerId ? { customerId: Number(customerId) } : {}) };
  const summary = useQuery({
    queryKey: ['billing', 'summary', q],
    queryFn: () => billingApi.summary(q),
    placeholderData: keepPreviousData,
  });
  return (
    <>
      <Paper withBorder p="md" mb="md">
        <Group align="flex-end">
          <Select
            label="Billing period"
            data={periods.map((p) => ({ value: p.endDate, label: periodLabel(p) }))}
            value={endDate}
            onChange={(v) => v && setEndDate(v)}
            allowDeselect={false}
            w={340}
          />
          <Select
            label="Customer"
            placeholder="All customers"
            data={customers.map((c) => ({ value: String(c.id), label: c.name }))}
            value={customerId}
            onChange={setCustomerId}
            clearable
            searchable
            w={260}
          />
          <Switch label="Billable only" checked={billable} onChange={(e) => setBillable(e.currentTarget.checked)} />
          <Switch label="Aggregate by customer" checked={byCustomer} onChange={(e) => setByCustomer(e.currentTarget.checked)} />
        </Group>
        <Text size="sm" mt="xs">
          {period.startDate} to {period.endDate}, {period.status === 'open' ? 'open (as of the last billing run)' : 'closed'}.
        </Text>
      </Paper>
      <BillingCharts endDate={endDate} billable={billable} />
      <Tabs defaultValue="summary" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="summary">Summary</Tabs.Tab>
          <Tabs.Tab value="detail">Detail</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="summary" pt="sm">
          <Group mb="xs">
            <DownloadButtons what="summary" query={q} />
          </Group>
          <QueryState query={summary} what="summary">
            {(s) => (
              <Table striped withTableBorder aria-label="Billing summary">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Customer</Table.Th>
                    <Table.Th>SKU</Table.Th>
                    <Table.Th>Billable</Table.Th>
                    <Table.Th>Line</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Previous</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Change</Table.Th>
                    <Table.Th style={{ textAlign: 'right' }}>Current</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {s.items.map((i, n) => (
                    <Table.Tr key={n} data-testid="summary-row">
                      <Table.Td>
                        {i.customerName} ({i.customerCode})
                      </Table.Td>
                      <Table.Td>{i.sku ?? '(no SKU)'}</Table.Td>
                      <Table.Td>{i.isBillable ? 'Yes' : 'No'}</Table.Td>
                      <Table.Td>{i.lineDescription}</Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>{i.previousPeriod}</Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>{Number(i.change) > 0 ? `+${i.change}` : i.change}</Table.Td>
                      <Table.Td style={{ textAlign: 'right' }}>{i.currentPeriod}</Table.Td>
                    </Table.Tr>
                  ))}
                  {s.items.length === 0 ? (
                    <Table.Tr>
                      <Table.Td colSpan={7}>Nothing billed in this period.</Table.Td>
                    </Table.Tr>
                  ) : null}
                </Table.Tbody>
              </Table>
            )}
          </QueryState>
        </Tabs.Panel>
        <Tabs.Panel value="detail" pt="sm">
          <DetailTable endDate={endDate} {...(customerId ? { customerId: Number(customerId) } : {})} />
        </Tabs.Panel>
      </Tabs>
    </>
  );
}
