/** One page of a listing, as the console's tables ask for it and show it. */
export interface Paged<T> {
  items: T[];
  /** Every row that matches, on all pages. */
  total: number;
  page: number;
  pageSize: number;
}

/** The page asked for, counted from 1; `pageSize` falls back to the listing's default. */
export interface PageQuery {
  page?: number;
  pageSize?: number;
}

/**
 * Reads one page of a listing and the count of all its matches at once. `rows` applies the window
 * after its own ordering (a stable one: the page boundaries must not move between calls).
 */
export async function readPage<R>(
  q: PageQuery,
  defaultPageSize: number,
  rows: (window: { limit: number; offset: number }) => Promise<R[]>,
  count: () => Promise<{ n: number }>,
): Promise<Paged<R>> {
  const page = q.page ?? 1;
  const pageSize = q.pageSize ?? defaultPageSize;
  const [items, counted] = await Promise.all([rows({ limit: pageSize, offset: (page - 1) * pageSize }), count()]);
  // count(*) is a bigint: it does not arrive as a JavaScript number.
  return { items, total: Number(counted.n), page, pageSize };
}
