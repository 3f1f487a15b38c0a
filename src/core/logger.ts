import pino, { type Logger } from 'pino';
import { currentRequestId } from './request-context.js';

/** Paths redacted from every log line: secrets are never logged. */
export const REDACT = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secrets',
  '*.secrets',
  'token',
  '*.token',
  'req.headers.authorization',
  'headers.authorization',
  '*.bindPassword',
  '*.privateKey',
  '*.PrivateKey',
];

/** The process logger; `destination` defaults to standard output (tests pass a stream to read it). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT, censor: '[redacted]' },
      // Domain code logs through the process logger; inside an HTTP request its lines carry the
      // request's id too (Fastify's own request logger already binds it).
      mixin: (_obj, _level, logger) => {
        const reqId = currentRequestId();
        return reqId && !('reqId' in logger.bindings()) ? { reqId } : {};
      },
    },
    destination,
  );
}

export type { Logger };
