import { Box, Group, Switch, Table, Text, TextInput } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useEffect, useRef, useState } from 'react';
import { billingApi, type DetailQuery, type DetailRow } from '../api/billing-api';
import { ErrorAlert } from '../ui/ErrorAlert';
import { DownloadButtons } from './DownloadButtons';

const PAGE = 200;
const ROW_HEIGHT = 34;
/** The detail's fields in the seed's order (the API sends them so). */
const DATE_FIELD = /Date$/;

/**
 * The billing detail (~50 fields per item) in a virtualised table: only the rows in view are in
 * the page, and pages of 200 are fetched as the operator scrolls, so a 300k-item period stays fast.
 */
export function DetailTable({ endDate, customerId }: { endDate: string; customerId?: number }) {
  const [search, setSearch] = useState('');
  const [billable, setBillable] = useState(false);
  const [serviceSearch] = useDebouncedValue(search, 300);
  const q: DetailQuery = {
    endDate,
    ...(customerId ? { customerId } : {}),
    ...(serviceSearch.trim() ? { serviceSearch } : {}),
    ...(billable ? { billable } : {}),
  };
  const detail = useInfiniteQuery({
    queryKey: ['billing', 'detail', q],
    queryFn: ({ pageParam }) => billingApi.detail(q, pageParam, PAGE),
    initialPageParam: 0,
    getNextPageParam: (last) => (last.offset + last.items.length < last.total ? last.offset + last.items.length : undefined),
  });
  const rows: DetailRow[] = detail.data?.pages.flatMap((p) => p.items) ?? [];
  const total = detail.data?.pages[0]?.total ?? 0;
  const columns = rows[0] ? Object.keys(rows[0]) : [];
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({ count: total, getScrollElement: () => scroller.current, estimateSize: () => ROW_HEIGHT, overscan: 10 });
  const items = virtual.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= rows.length - 1 && detail.hasNextPage && !detail.isFetchingNextPage) void detail.fetchNextPage();
  }, [lastIndex, rows.length, detail]);
  const before = items[0]?.start ?? 0;
  const after = items.length ? virtual.getTotalSize() - items.at(-1)!.end : 0;

  return (
    <>
      <Group align="flex-end" mb="xs">
        <TextInput
          label="Service search"
          placeholder="e.g. HE or Hosted Exchange"
          value={search}
          onChange={(e) => setSearch(e.currentTarget.value)}
        />
        <Switch label="Billable only" checked={billable} onChange={(e) => setBillable(e.currentTarget.checked)} />
        <DownloadButtons what="detail" query={{ ...q }} />
        <Text size="sm" aria-live="polite" data-testid="detail-total">
          {detail.isPending ? 'Loading…' : `${total} item${total === 1 ? '' : 's'}`}
        </Text>
      </Group>
      <ErrorAlert error={detail.error} />
      <Box ref={scroller} style={{ height: 480, overflow: 'auto' }} tabIndex={0} aria-label="Billing detail, scrollable" role="region">
        <Table
          striped
          withTableBorder
          stickyHeader
          style={{ minWidth: columns.length * 140 }}
          aria-label="Billing detail"
          aria-rowcount={total + 1}
        >
          <Table.Thead>
            <Table.Tr>
              {columns.map((c) => (
                <Table.Th key={c} style={{ whiteSpace: 'nowrap' }}>
                  {c}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {before > 0 ? <tr style={{ height: before }} aria-hidden /> : null}
            {items.map((v) => {
              const row = rows[v.index];
              return (
                <Table.Tr key={v.key} style={{ height: ROW_HEIGHT }} aria-rowindex={v.index + 2} data-testid="detail-row">
                  {row ? (
                    columns.map((c) => (
                      <Table.Td key={c} style={{ whiteSpace: 'nowrap' }}>
                        {cell(c, row[c])}
                      </Table.Td>
                    ))
                  ) : (
                    <Table.Td colSpan={columns.length || 1}>Loading…</Table.Td>
                  )}
                </Table.Tr>
              );
            })}
            {after > 0 ? <tr style={{ height: after }} aria-hidden /> : null}
          </Table.Tbody>
        </Table>
      </Box>
    </>
  );
}

function cell(column: string, value: DetailRow[string]): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string' && DATE_FIELD.test(column)) return value.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
  return String(value);
}
