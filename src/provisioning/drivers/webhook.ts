/**
 * Delivers each provisioning task as a signed JSON POST to an operator's URL, so operators can
 * provision systems Tenantry has no driver for.
 *
 * Signature: `X-Tenantry-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
 * The timestamp is signed with the body so a receiver can reject replays older than a tolerance
 * (see `verifyWebhookSignature`). `Idempotency-Key: <requestId>` is the same on every attempt of a
 * request, so a receiver can drop a delivery it already applied (we retry after timeouts, when
 * the receiver may have done the work but its answer was lost).
 *
 * Outcome: 2xx = done; 408, 429, 5xx, timeouts and network errors = TransientDriverError
 * (retried); any other status (other 4xx, 3xx since redirects are not followed for a signed POST)
 * = permanent failure.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { TransientDriverError, type DriverLog, type DriverTask, type DriverUser, type ProvisioningDriver } from './driver.js';
import { ConfigReader } from './config.js';
import { taskLabel } from './task-label.js';

/**
 * `driver_config` of a service served by the webhook driver. The catalog stores `secret`
 * encrypted; the engine decrypts it and passes the plaintext here when it creates the driver.
 */
export interface WebhookDriverConfig {
  /** http:// or https:// endpoint that receives the POSTs. */
  url: string;
  /** Per-service HMAC key, already decrypted. */
  secret: string;
  /** Whole-request timeout (connect, send, response body); default 10 000 ms. */
  timeoutMs?: number;
  /** Send the user's plaintext password when a request sets one; default false. */
  includePassword?: boolean;
}

/** The JSON body of a webhook delivery. */
export interface WebhookPayload {
  requestId: number;
  attempt: number;
  entity: DriverTask['entity'];
  action: DriverTask['action'];
  customer: DriverTask['customer'];
  user?: DriverUser;
  service?: DriverTask['service'];
  members?: string[];
  desired: Record<string, unknown>;
}

export const SIGNATURE_HEADER = 'X-Tenantry-Signature';
export const DEFAULT_TIMEOUT_MS = 10_000;
const EXCERPT_LENGTH = 200;

export function parseWebhookConfig(raw: Record<string, unknown>): WebhookDriverConfig {
  const reader = new ConfigReader('webhook', raw);
  reader.allowOnly(['url', 'secret', 'timeoutMs', 'includePassword']);
  return {
    url: reader.requiredUrl('url', ['http:', 'https:']),
    secret: reader.requiredString('secret'),
    timeoutMs: reader.optionalInteger('timeoutMs', 1, 300_000),
    includePassword: reader.optionalBoolean('includePassword'),
  };
}

/** The body we send: the task minus the password unless the operator opted in. */
export function webhookPayload(task: DriverTask, includePassword: boolean): WebhookPayload {
  let user = task.user;
  if (user && !includePassword) {
    const { password: _omitted, ...withoutPassword } = user;
    user = withoutPassword;
  }
  return {
    requestId: task.requestId,
    attempt: task.attempt,
    entity: task.entity,
    action: task.action,
    customer: task.customer,
    ...(user ? { user } : {}),
    ...(task.service ? { service: task.service } : {}),
    ...(task.members ? { members: task.members } : {}),
    desired: task.desired,
  };
}

function hmacHex(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The X-Tenantry-Signature header value for `body` sent at `timestampSeconds`. */
export function signWebhookPayload(secret: string, body: string, timestampSeconds: number): string {
  return `t=${timestampSeconds},v1=${hmacHex(secret, timestampSeconds, body)}`;
}

/**
 * For receivers: true when `header` (X-Tenantry-Signature) carries a v1 signature of `body`
 * (the raw request body, byte for byte as received) under `secret`, made within
 * `toleranceSeconds` of now. Several v1 entries are accepted so a sender can sign with an old
 * and a new secret while they are rotated.
 */
export function verifyWebhookSignature(
  secret: string,
  header: string | null | undefined,
  body: string,
  toleranceSeconds: number,
  nowSeconds: number = Math.floor(Date.now() / 1000),
): boolean {
  if (!header) return false;
  const pairs = header.split(',').map((part) => part.trim().split('='));
  const timestamps = pairs.filter(([key]) => key === 't').map(([, value]) => value);
  if (timestamps.length !== 1 || !/^\d+$/.test(timestamps[0] ?? '')) return false;
  const timestamp = Number(timestamps[0]);
  if (Math.abs(nowSeconds - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  return pairs
    .filter(([key, value]) => key === 'v1' && /^[0-9a-f]{64}$/i.test(value ?? ''))
    .some(([, value]) => timingSafeEqual(Buffer.from(value as string, 'hex'), expected));
}

/** Where we post, without query string or credentials: those may hold tokens and end up in logs. */
function safeUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

function excerpt(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > EXCERPT_LENGTH ? `${flat.slice(0, EXCERPT_LENGTH)}…` : flat;
}

function isTransientStatus(status: number): boolean {
  return status >= 500 || status === 408 || status === 429;
}

/** A short reason for a network-level failure (refused, reset, DNS, timeout) of fetch. */
function describeFetchError(error: unknown): string {
  if (error instanceof Error && error.name === 'TimeoutError') return 'timed out';
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  return cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
}

export class WebhookDriver implements ProvisioningDriver {
  readonly name = 'webhook';

  constructor(private readonly config: WebhookDriverConfig) {}

  async run(task: DriverTask, log: DriverLog): Promise<void> {
    const body = JSON.stringify(webhookPayload(task, this.config.includePassword ?? false));
    const target = safeUrl(this.config.url);
    log.info(`Webhook: POST ${target} for ${taskLabel(task)}`);
    const started = Date.now();
    const { status, text } = await log.step('webhook POST', () => this.post(task.requestId, body, target));
    log.verbose(`Webhook: ${target} answered ${status} in ${Date.now() - started} ms`);
    if (status >= 200 && status < 300) return;
    const message = `Webhook ${target} answered HTTP ${status}: ${excerpt(text)}`;
    if (isTransientStatus(status)) throw new TransientDriverError(message);
    throw new Error(message);
  }

  private async post(requestId: number, body: string, target: string): Promise<{ status: number; text: string }> {
    const timeoutMs = this.config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    try {
      const response = await fetch(this.config.url, {
        method: 'POST',
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': 'Tenantry-Webhook/1',
          'Idempotency-Key': String(requestId),
          [SIGNATURE_HEADER]: signWebhookPayload(this.config.secret, body, Math.floor(Date.now() / 1000)),
        },
        body,
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      // Nothing came back, so the receiver may recover: retry.
      const reason = describeFetchError(error);
      const detail = reason === 'timed out' ? `timed out after ${timeoutMs} ms` : `failed: ${reason}`;
      throw new TransientDriverError(`Webhook ${target} ${detail}`, { cause: error });
    }
  }
}

export function createWebhookDriver(raw: Record<string, unknown>): WebhookDriver {
  return new WebhookDriver(parseWebhookConfig(raw));
}
