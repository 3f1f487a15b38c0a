import { useQuery } from '@tanstack/react-query';
import { customersApi } from '../api/console-api';
import type { Query } from '../api/client';

export const customerKeys = {
  /** One customer's children in the tree, page by page (under 'customers': live updates re-read them). */
  treeChildren: (parentId: number | 'own') => ['customers', 'tree', parentId] as const,
  list: (q: Query) => ['customers', 'list', q] as const,
  detail: (id: number) => ['customer', id] as const,
  part: (id: number, part: string, q?: Query) => ['customer', id, part, q ?? {}] as const,
};

export function useCustomer(id: number) {
  return useQuery({ queryKey: customerKeys.detail(id), queryFn: () => customersApi.get(id), enabled: Number.isInteger(id) && id > 0 });
}

/** The id in a /customers/:id path, or NaN (shown as not found) when it is not a whole number. */
export function idParam(raw: string | undefined): number {
  return raw && /^\d+$/.test(raw) ? Number(raw) : NaN;
}
