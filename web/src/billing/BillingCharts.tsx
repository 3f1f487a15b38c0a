import { Paper, SimpleGrid, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { billingApi, type Charts } from '../api/billing-api';
import { QueryState } from '../ui/QueryState';

const PALETTE = ['#1c7ed6', '#e8590c', '#2f9e44', '#ae3ec9', '#f08c00', '#0c8599', '#c2255c', '#5c940d', '#4263eb', '#868e96'];
const NO_SKU = '(no SKU)';

/** Units per SKU over the last 12 periods, and the customers whose quantities changed most this period. */
export function BillingCharts({ endDate, billable }: { endDate: string; billable: boolean }) {
  const charts = useQuery({ queryKey: ['billing', 'charts', endDate, billable], queryFn: () => billingApi.charts(endDate, billable) });
  return (
    <QueryState query={charts} what="charts">
      {(data) => (
        <SimpleGrid cols={{ base: 1, lg: 2 }} mb="md">
          <Paper withBorder p="md" data-testid="sku-units-chart">
            <Title order={2} size="h5" mb="xs">
              Units per SKU, last {data.periods.length} period{data.periods.length === 1 ? '' : 's'}
            </Title>
            <SkuUnitsChart data={data} />
          </Paper>
          <Paper withBorder p="md" data-testid="top-changed-chart">
            <Title order={2} size="h5" mb="xs">
              Customers whose quantities changed most
            </Title>
            {data.topChangedCustomers.length ? (
              <ResponsiveContainer width="100%" height={280}>
                <BarChart
                  data={data.topChangedCustomers.map((c) => ({
                    name: c.customerCode,
                    previous: Number(c.previousPeriod),
                    current: Number(c.currentPeriod),
                  }))}
                  layout="vertical"
                  margin={{ left: 24 }}
                >
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis type="number" allowDecimals={false} />
                  <YAxis type="category" dataKey="name" width={90} />
                  <Tooltip />
                  <Legend formatter={legendText} />
                  <Bar dataKey="previous" name="Previous period" fill="#adb5bd" />
                  <Bar dataKey="current" name="This period" fill="#1c7ed6" />
                </BarChart>
              </ResponsiveContainer>
            ) : (
              <Text size="sm">No customer's quantities changed in this period.</Text>
            )}
          </Paper>
        </SimpleGrid>
      )}
    </QueryState>
  );
}

function SkuUnitsChart({ data }: { data: Charts }) {
  const skus = [...new Set(data.skuUnits.map((p) => p.sku ?? NO_SKU))].slice(0, PALETTE.length);
  const rows = data.periods.map((p) => {
    const row: Record<string, string | number> = { period: p.periodName };
    for (const sku of skus) row[sku] = 0;
    for (const point of data.skuUnits.filter((u) => u.endDate === p.endDate)) {
      const sku = point.sku ?? NO_SKU;
      if (skus.includes(sku)) row[sku] = Number(point.units);
    }
    return row;
  });
  if (!skus.length) return <Text size="sm">No units billed in these periods.</Text>;
  return (
    <ResponsiveContainer width="100%" height={280}>
      <LineChart data={rows}>
        <CartesianGrid strokeDasharray="3 3" />
        <XAxis dataKey="period" />
        <YAxis allowDecimals={false} />
        <Tooltip />
        <Legend formatter={legendText} />
        {skus.map((sku, i) => (
          <Line key={sku} type="monotone" dataKey={sku} stroke={PALETTE[i]} strokeWidth={2} dot />
        ))}
      </LineChart>
    </ResponsiveContainer>
  );
}

/** Legend entries in the page's text colour: the series colour is in the icon beside them. */
function legendText(value: string) {
  return <span style={{ color: 'var(--mantine-color-text)' }}>{value}</span>;
}
