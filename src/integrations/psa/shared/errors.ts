/** Which PSA a failure came from; sync logs map it to AT.. or CW.. codes. */
export type PsaVendor = 'autotask' | 'connectwise';

/** The PSA answered with a non-2xx status. `body` is parsed JSON when possible, else text. */
export class PsaHttpError extends Error {
  override name = 'PsaHttpError';
  readonly vendor: PsaVendor;
  readonly status: number;
  readonly method: string;
  readonly url: string;
  readonly body: unknown;
  /** Human-readable messages extracted from the vendor's error body. */
  readonly messages: string[];
  /** Number of HTTP attempts made before giving up. */
  readonly attempts: number;

  constructor(args: {
    vendor: PsaVendor;
    status: number;
    method: string;
    url: string;
    body: unknown;
    messages: string[];
    attempts: number;
  }) {
    const detail = args.messages.length > 0 ? `: ${args.messages.join('; ')}` : '';
    super(`${args.vendor} ${args.method} ${redactUrl(args.url)} failed with HTTP ${args.status}${detail}`);
    this.vendor = args.vendor;
    this.status = args.status;
    this.method = args.method;
    this.url = args.url;
    this.body = args.body;
    this.messages = args.messages;
    this.attempts = args.attempts;
  }
}

/** No HTTP response: the request timed out or the connection failed. */
export class PsaTransportError extends Error {
  override name = 'PsaTransportError';
  constructor(
    readonly vendor: PsaVendor,
    readonly kind: 'timeout' | 'network',
    readonly method: string,
    readonly url: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(`${vendor} ${method} ${redactUrl(url)} failed: ${kind === 'timeout' ? 'request timed out' : 'network error'}`, options);
  }
}

/** The PSA answered 2xx but the body is not what the API documents. */
export class PsaProtocolError extends Error {
  override name = 'PsaProtocolError';
  constructor(
    readonly vendor: PsaVendor,
    message: string,
  ) {
    super(`${vendor}: ${message}`);
  }
}

/** A caller passed a value the wire format cannot carry (for example an unquotable condition value). */
export class PsaInputError extends Error {
  override name = 'PsaInputError';
}

/** True when `err` is an HTTP error with the given status. */
export function isHttpStatus(err: unknown, status: number): err is PsaHttpError {
  return err instanceof PsaHttpError && err.status === status;
}

// Query strings can carry user emails (zone lookup); keep them out of error messages.
function redactUrl(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : `${url.slice(0, q)}?…`;
}
