import { Center, Loader } from '@mantine/core';
import type { ReactNode } from 'react';
import { ApiError } from '../api/client';
import { ErrorAlert } from './ErrorAlert';
import { NotFoundPage } from './NotFoundPage';

/** Loading, not-found and error states of a page's main query; renders children once there is data. */
export function QueryState<T>({
  query,
  what,
  children,
}: {
  query: { data?: T; error: unknown; isPending: boolean };
  what: string;
  children: (data: T) => ReactNode;
}) {
  if (query.error instanceof ApiError && query.error.status === 404) return <NotFoundPage what={what} />;
  if (query.error) return <ErrorAlert error={query.error} title={`The ${what} could not be loaded`} />;
  if (query.isPending || query.data === undefined) {
    return (
      <Center p="xl">
        <Loader aria-label={`Loading the ${what}`} />
      </Center>
    );
  }
  return <>{children(query.data)}</>;
}

// The same error as the server's 404, so QueryState shows the same "not found" page.
const badId = new ApiError(404, 'NotFound', 'Not found.');

/** A detail page's query, or "not found" without asking the server when the path's id is not a number (idParam's NaN). */
export function queryForId<Q>(id: number, query: Q): Q | { error: ApiError; isPending: false } {
  return Number.isNaN(id) ? { error: badId, isPending: false } : query;
}
