import { useSearchParams } from 'react-router';
import type { DataTableSortStatus } from 'mantine-datatable';

export const PAGE_SIZES = [25, 50, 100];

/**
 * A list's search, filters, sort and page kept in the address bar, so Back, reload and a shared
 * link show the same rows. Answers the query to send and setters for the table.
 */
export function useListParams<K extends string>(defaults: { sort: K; order?: 'asc' | 'desc' }) {
  const [params, setParams] = useSearchParams();
  const get = (name: string) => params.get(name) ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const pageSize = PAGE_SIZES.includes(Number(params.get('pageSize'))) ? Number(params.get('pageSize')) : PAGE_SIZES[0];
  const sort = (params.get('sort') || defaults.sort) as K;
  const order = (params.get('order') === 'desc' || params.get('order') === 'asc' ? params.get('order') : (defaults.order ?? 'asc')) as
    'asc' | 'desc';

  /** Sets some parameters; any change other than the page goes back to page 1. */
  const set = (changes: Record<string, string | number | null>) => {
    setParams(
      (prev) => {
        const next = new URLSearchParams(prev);
        for (const [key, value] of Object.entries(changes)) {
          if (value === null || value === '') next.delete(key);
          else next.set(key, String(value));
        }
        if (!('page' in changes)) next.delete('page');
        return next;
      },
      { replace: true },
    );
  };
  // The sort state serves tables of any row type (the column accessor is a plain string).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const sortStatus: DataTableSortStatus<any> = { columnAccessor: sort, direction: order };
  return {
    get,
    set,
    page,
    pageSize,
    sort,
    order,
    sortStatus,
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    onSortStatusChange: (s: DataTableSortStatus<any>) => set({ sort: String(s.columnAccessor), order: s.direction }),
    onPageChange: (p: number) => set({ page: p }),
    onRecordsPerPageChange: (n: number) => set({ pageSize: n }),
  };
}
