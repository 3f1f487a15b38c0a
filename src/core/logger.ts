import pino, { type Logger } from 'pino';

/** Paths redacted from every log line: secrets are never logged. */
export const REDACT = [
  'password', '*.password', 'secret', '*.secret', 'secrets', '*.secrets', 'token', '*.token',
  'req.headers.authorization', 'headers.authorization', '*.bindPassword', '*.privateKey', '*.PrivateKey',
];

export function createLogger(level: string): Logger {
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' } });
}

export type { Logger };
