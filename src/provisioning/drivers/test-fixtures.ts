/** Shared fixtures for the driver tests (imported only by *.test.ts files). */
import type { DriverCustomer, DriverLog, DriverTask, DriverUser } from './driver.js';

export interface RecordedLine {
  level: 'info' | 'warning' | 'verbose';
  message: string;
}

/** A DriverLog that keeps every line and step name, so tests can assert on them. */
export interface RecordingLog extends DriverLog {
  lines: RecordedLine[];
  steps: string[];
  text(): string;
}

export function recordingLog(): RecordingLog {
  const lines: RecordedLine[] = [];
  const steps: string[] = [];
  return {
    lines,
    steps,
    info: (message) => lines.push({ level: 'info', message }),
    warning: (message) => lines.push({ level: 'warning', message }),
    verbose: (message) => lines.push({ level: 'verbose', message }),
    async step(name, fn) {
      steps.push(name);
      return fn();
    },
    text: () => lines.map((line) => `${line.level}: ${line.message}`).join('\n'),
  };
}

export function customer(overrides: Partial<DriverCustomer> = {}): DriverCustomer {
  return {
    id: 10,
    name: 'BAC',
    fullname: 'Bacchus Ltd',
    primaryDomain: 'bac.example',
    enabled: true,
    ancestry: ['SP', 'RES1'],
    ...overrides,
  };
}

export function user(overrides: Partial<DriverUser> = {}): DriverUser {
  return {
    id: 100,
    name: 'User1_BAC',
    upn: 'user1@bac.example',
    firstName: 'Ada',
    lastName: 'Lovelace',
    displayName: 'Ada Lovelace',
    email: 'ada@bac.example',
    enabled: true,
    ...overrides,
  };
}

export function task(overrides: Partial<DriverTask> = {}): DriverTask {
  return {
    requestId: 1,
    attempt: 1,
    entity: 'customer',
    action: 'provision',
    customer: customer(),
    desired: {},
    ...overrides,
  };
}
