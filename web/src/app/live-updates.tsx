import { useQueryClient, type QueryClient } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { ApiError, confirmSignedIn, signedOut } from '../api/client';
import { requestsApi } from '../api/console-api';
import type { RequestEvent } from '../api/types';

export type LiveState = 'connecting' | 'live' | 'reconnecting';
type Listener = (event: RequestEvent) => void;

const LiveContext = createContext<{ state: LiveState; subscribe(listener: Listener): () => void }>({
  state: 'connecting',
  subscribe: () => () => undefined,
});

/**
 * One server-sent-event stream per signed-in browser tab (GET /api/console/requests/events):
 * each provisioning status change re-reads the lists and pages that show it, so statuses
 * change on screen without a reload and without polling.
 */
export function LiveUpdatesProvider({ children }: { children: ReactNode }) {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>('connecting');
  const listeners = useRef(new Set<Listener>());

  useEffect(() => {
    const source = new EventSource(requestsApi.eventsUrl, { withCredentials: true });
    const refresh = batchedRefresh(client);
    source.onopen = () => setState('live');
    source.onerror = () => {
      setState('reconnecting');
      // The browser gives up on a refused reconnect (the session is gone): ask the API why, which signs out.
      if (source.readyState === EventSource.CLOSED) void confirmSignedIn();
    };
    // The browser reconnects with Last-Event-ID and the server replays what was missed; when that is
    // too much it says "reset" and every query is read again instead.
    source.addEventListener('reset', () => void client.invalidateQueries());
    source.addEventListener('signed-out', (message) => {
      source.close();
      const { code, message: text } = JSON.parse((message as MessageEvent<string>).data) as { code: string; message: string };
      signedOut(new ApiError(401, code, text));
    });
    source.addEventListener('request', (message) => {
      const event = JSON.parse((message as MessageEvent<string>).data) as RequestEvent;
      refresh(event);
      for (const listener of listeners.current) listener(event);
    });
    return () => {
      refresh.cancel();
      source.close();
    };
  }, [client]);

  const subscribe = (listener: Listener) => {
    listeners.current.add(listener);
    return () => void listeners.current.delete(listener);
  };
  return <LiveContext.Provider value={{ state, subscribe }}>{children}</LiveContext.Provider>;
}

export function useLiveState(): LiveState {
  return useContext(LiveContext).state;
}

/** Calls `listener` for every provisioning status change the caller may see. */
export function useRequestEvents(listener: Listener): void {
  const { subscribe } = useContext(LiveContext);
  const latest = useRef(listener);
  latest.current = listener;
  useEffect(() => subscribe((e) => latest.current(e)), [subscribe]);
}

/**
 * A burst of events (a customer with ten users provisioning) re-reads each affected query once:
 * the keys collect for a moment and are invalidated together.
 */
function batchedRefresh(client: QueryClient) {
  const pending = new Set<string>();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    timer = undefined;
    for (const key of pending) void client.invalidateQueries({ queryKey: JSON.parse(key) as unknown[] });
    pending.clear();
  };
  const refresh = (event: RequestEvent) => {
    for (const key of keysShowing(event)) pending.add(JSON.stringify(key));
    timer ??= setTimeout(flush, 150);
  };
  refresh.cancel = () => clearTimeout(timer);
  return refresh;
}

/** The queries whose answer a status change of this request (and of its entity) alters. */
function keysShowing(event: RequestEvent): unknown[][] {
  const keys: unknown[][] = [['requests'], ['request', event.id], ['request', event.rootId], ['approvals'], ['customer', event.customerId]];
  if (event.entity === 'customer') keys.push(['customers'], ['customer', event.entityId]);
  if (event.entity === 'user') keys.push(['users'], ['user', event.entityId]);
  if (event.entity === 'user_service') keys.push(['user']);
  return keys;
}
