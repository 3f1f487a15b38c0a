import { useQuery, useQueryClient } from '@tanstack/react-query';
import { ApiError, retryDelay, setCsrfToken, worthRetrying } from '../api/client';
import { sessionApi } from '../api/console-api';
import type { Session } from '../api/types';

export const SESSION_KEY = ['session'] as const;

/** The signed-in user's session; `null` when signed out. */
export function useSession() {
  return useQuery({
    queryKey: SESSION_KEY,
    queryFn: async (): Promise<Session | null> => {
      try {
        const session = await sessionApi.get();
        setCsrfToken(session.csrfToken);
        return session;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) return null;
        throw e;
      }
    },
    staleTime: Infinity,
    retry: worthRetrying,
    retryDelay,
  });
}

/** Stores a session just signed in (or null after sign-out) without asking the server again. */
export function useSetSession() {
  const client = useQueryClient();
  return (session: Session | null) => {
    setCsrfToken(session?.csrfToken ?? null);
    if (!session) client.clear();
    client.setQueryData(SESSION_KEY, session);
  };
}

export function hasPermission(session: Session | null | undefined, permission: string): boolean {
  return !!session?.permissions.includes(permission);
}
