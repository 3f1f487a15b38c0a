import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';
import { withDefaultUser } from '../../src/core/db/database.js';
import { startPsaDemo, type PsaDemo } from '../../src/demo/psa-demo.js';
import { DEFAULT_AT_USER } from '../../src/integrations/psa/autotask/simulator.js';
import { DEFAULT_CW_CREDENTIALS } from '../../src/integrations/psa/connectwise/simulator.js';
import { TEST_ENGINE, TEST_PG_URL, databaseUrl } from '../support/engine.js';
import { adminQuery, freshInstall, type FreshInstall } from '../support/fresh-db.js';
import { BIN, freePort } from '../support/server-process.js';

/**
 * The README cannot drift from the product: every `npx tenantry …` line in its shell blocks
 * must parse against the real command line (commands, options, required options, value checks),
 * and every command of every shell block runs, in the README's order, against one started
 * server and data directory (curl with curl, `npx tenantry` with this checkout's bin). Only the
 * placeholders the README tells the reader to replace are substituted (host and port, passwords,
 * tokens, ids answered earlier, PSA URLs and credentials: the PSAs are the in-process simulators);
 * the lines not run are listed in NOT_EXECUTED with the reason, and the last test checks that
 * nothing else was left out.
 */
const README = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The shell blocks' lines, with backslash continuations joined. */
function shellLines(): string[] {
  const blocks = [...README.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => m[1]!);
  return blocks.flatMap((b) => b.replace(/\\\n\s*/g, ' ').split('\n'));
}

/** Splits a command line as a shell would (quotes, no expansion), up to a comment, pipe or redirection. */
function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "'" || c === '"') {
      const end = text.indexOf(c, i + 1);
      word = (word ?? '') + text.slice(i + 1, end);
      i = end;
    } else if (c === '$' && text[i + 1] === '(') {
      // A command substitution is part of the word: `tenantry-$(date +%F).tar.gz`.
      const end = text.indexOf(')', i);
      word = (word ?? '') + text.slice(i, end + 1);
      i = end;
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if ((c === '#' && word === undefined) || c === '|' || c === '<' || c === '>' || c === '&') {
      break;
    } else word = (word ?? '') + c;
  }
  if (word !== undefined) words.push(word);
  return words;
}

/** `[--parent NR]` marks optional parts in the README: the line is checked without them. */
function withoutOptionalParts(line: string): string {
  return line.replace(/\[[^\]]*\]/g, ' ');
}

function tenantryCommands(): { line: string; argv: string[] }[] {
  return shellLines()
    .filter((l) => l.includes('npx tenantry '))
    .map((l) => {
      const line = l.slice(l.indexOf('npx tenantry ') + 'npx tenantry '.length);
      return { line: l.trim(), argv: shellWords(withoutOptionalParts(line)) };
    });
}

/** The real program with every action replaced by a recorder: parsing checks, nothing runs. */
async function dryProgram(): Promise<{ program: Command; ran: () => string | undefined }> {
  const { program } = await buildProgram('all');
  let ran: string | undefined;
  const stub = (c: Command, path: string) => {
    for (const sub of c.commands) {
      const name = `${path} ${sub.name()}`.trim();
      if (sub.commands.length) stub(sub, name);
      else sub.action(() => void (ran = name));
      sub.configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
    }
  };
  stub(program, '');
  return { program, ran: () => ran };
}

describe('README', () => {
  const commands = tenantryCommands();

  it('has tenantry commands to check', () => {
    expect(commands.length).toBeGreaterThan(30);
  });

  it.each(commands.map((c) => [c.line, c.argv] as const))('`%s` parses against the command line', async (_line, argv) => {
    const { program, ran } = await dryProgram();
    const outcome = await program.parseAsync([...argv], { from: 'user' }).then(
      () => 'ok',
      (e: Error) => e.message,
    );
    expect(outcome).toBe('ok');
    expect(ran()).toBe(
      argv
        .filter((w) => !w.startsWith('-'))
        .slice(0, ran()?.split(' ').length)
        .join(' '),
    );
  });
});

/** The README's shell blocks (```sh / ```bash), in order. */
function shellBlocks(): string[] {
  return [...README.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * A block's commands as a shell reads them: one a line, a backslash-newline or a quoted newline
 * continues it, a here-document runs to its end marker, comments dropped.
 */
function commandsOf(block: string): string[] {
  const commands: string[] = [];
  let command = '';
  let quote: string | undefined;
  let heredoc: string | undefined;
  for (const raw of block.split('\n')) {
    if (heredoc !== undefined) {
      command += `\n${raw.trim()}`;
      if (raw.trim() === heredoc) {
        commands.push(command);
        command = '';
        heredoc = undefined;
      }
      continue;
    }
    const line = quote ? raw : raw.trimStart();
    let kept = '';
    for (const c of line) {
      if (quote) {
        if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '#' && /(^|\s)$/.test(command + kept)) break;
      kept += c;
    }
    if (quote) {
      command += `${kept}\n`;
      continue;
    }
    kept = kept.trimEnd();
    if (kept.endsWith('\\')) {
      command += `${kept.slice(0, -1).trimEnd()} `;
      continue;
    }
    command += kept;
    heredoc = /<<-?\s*'?(\w+)'?/.exec(kept)?.[1];
    if (heredoc !== undefined) continue;
    if (command.trim()) commands.push(command.trim());
    command = '';
  }
  return commands;
}

const ALL_COMMANDS = shellBlocks().flatMap(commandsOf);

/** The commands of the one shell block holding a line that matches. */
function block(marker: RegExp): string[] {
  const found = shellBlocks().filter((b) => commandsOf(b).some((c) => marker.test(c)));
  if (found.length !== 1) throw new Error(`${found.length} README shell blocks match ${marker}`);
  return commandsOf(found[0]!);
}

/** The README's ```json block holding this key: what a reader pastes. */
function jsonBlock(key: string): string {
  const found = [...README.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((b) => b.includes(`"${key}"`));
  if (found.length !== 1) throw new Error(`${found.length} README json blocks hold "${key}"`);
  return found[0]!;
}

/**
 * README lines no test runs, each with why. Every other command of every shell block is run by
 * the walk-through below (or skipped on one engine with the reason in ENGINE_ONLY); the last
 * test fails when a README command is neither.
 */
const NOT_EXECUTED: Record<string, string> = {
  'npm ci && npm start':
    '`npm ci` reinstalls node_modules, which the test runs from; the `npm start` half is run as the first start of the walk-through',
  'npm test': 'runs the whole suite this test is part of',
  'TENANTRY_TEST_DB=postgres npm test': 'runs the whole suite this test is part of',
  'npx tenantry start': '`npm start` runs it (package.json, checked below), and the walk-through started the server with `npm start`',
  'npm run typecheck': 'the typecheck CI and land.sh run; minutes of CPU, no server involved (the script is checked to exist)',
  'npm run bench': 'the benchmarks run for minutes (the script is checked to exist)',
  'npm run build:web': 'rebuilds web/dist, which other test files serve while this one runs (the script is checked to exist)',
  'npx vite web': 'a development server that runs until stopped (vite is checked to be installed)',
  'scripts/repeat-tests.sh 10': 'runs the whole suite ten times (the script is checked to be executable)',
  'npm run fuzz': 'runs 100,000 fuzz cases for minutes (the script is checked to exist)',
};

/**
 * Lines run that cannot succeed on a new install, as the README says beside them: they are run
 * and must refuse with this one line (exit code 1).
 */
const REFUSED_ON_A_NEW_INSTALL: Record<string, string> = {
  'npx tenantry billing reprocess --period Previous': 'tenantry: There is no previous (closed) billing period yet.',
};

/** Lines run on one engine only: skipped on the other with this reason. */
function engineSkip(command: string): string | undefined {
  const postgresOnly =
    /^createdb |DATABASE_URL=postgres|^export DATABASE_URL|^TENANTRY_WORKERS=0 |^npx tenantry worker|^pg_dump |^pg_restore /;
  if (TEST_ENGINE === 'pglite' && postgresOnly.test(command))
    return 'PostgreSQL server only: the embedded database serves one process and is not a server to dump (run on TENANTRY_TEST_DB=postgres)';
  const embeddedOnly = /npx tenantry (backup|restore) |^cp data\/secret\.key/;
  if (TEST_ENGINE === 'postgres' && embeddedOnly.test(command))
    return 'embedded database only: backup and restore refuse DATABASE_URL (the pg_dump block runs instead)';
  return undefined;
}

interface ShellRun {
  code: number | null;
  /** The HTTP status curl reported; undefined for a stream the test stopped. */
  status: number | undefined;
  stdout: string;
  stderr: string;
}

interface ShellOptions {
  /** Standard input (else none). */
  input?: string;
  /** Stops a command that runs until interrupted once its output satisfies this, with `signal`. */
  until?: (stdout: string) => boolean;
  signal?: NodeJS.Signals;
}

/** The reader's shell: curl reporting the HTTP status on stderr, `npx tenantry` this checkout's bin/tenantry.js. */
function shellScript(command: string): string {
  return [
    `curl() { command curl -sS --max-time 300 -w '%{stderr}\\nHTTP %{http_code}\\n' "$@"; }`,
    `npx() { [ "$1" = tenantry ] || return 127; shift; "${process.execPath}" "${BIN}" "$@"; }`,
    command,
    '',
  ].join('\n');
}

interface ShellProcess {
  child: ChildProcess;
  output: () => string;
  closed: Promise<ShellRun>;
}

/** Starts a README command line in bash, in dir, in its own process group. */
function spawnShell(command: string, env: NodeJS.ProcessEnv, dir: string, opts: ShellOptions = {}): ShellProcess {
  const child = spawn('bash', ['-c', shellScript(command)], { env, cwd: dir, detached: true });
  let stdout = '';
  let stderr = '';
  let stopped = false;
  child.stdout.on('data', (d) => {
    stdout += d;
    if (opts.until && !stopped && opts.until(stdout)) {
      stopped = true;
      process.kill(-child.pid!, opts.signal ?? 'SIGTERM');
    }
  });
  child.stderr.on('data', (d) => (stderr += d));
  child.stdin.end(opts.input);
  const closed = new Promise<ShellRun>((resolve) =>
    child.once('close', (code) => {
      const status = /HTTP (\d{3})\n$/.exec(stderr)?.[1];
      resolve({ code, status: status === undefined ? undefined : Number(status), stdout, stderr: stderr.replace(/\nHTTP \d{3}\n$/, '') });
    }),
  );
  return { child, output: () => stdout + stderr, closed };
}

/** Runs a README command line in bash, in dir, to its end. */
function runShell(command: string, env: NodeJS.ProcessEnv, dir: string, opts: ShellOptions = {}): Promise<ShellRun> {
  return spawnShell(command, env, dir, opts).closed;
}

/** `tenantry:` lines a command wrote on stderr: its errors (progress lines look different). */
function errorsOf(run: ShellRun): string[] {
  return run.stderr.split('\n').filter((l) => /^(tenantry|error):|^\s+at .+:\d+:\d+\)?$/.test(l));
}

function expectSuccess(command: string, run: ShellRun): void {
  expect({ command, code: run.code, errors: errorsOf(run) }, run.stdout + run.stderr).toEqual({ command, code: 0, errors: [] });
}

interface ShellServer {
  output: () => string;
  /** SIGTERM, then the exit code (or npm's signal). */
  stop: () => Promise<number | string | null>;
}

/** Waits until /healthz answers 200 on the port (rejects when the process ended first). */
async function healthy(port: number, ended: () => boolean, output: () => string): Promise<void> {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) return;
    if (ended()) throw new Error(`the server exited before it answered:\n${output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * `[NAME=value …] npm start` as the README writes it, in this checkout, until /healthz answers.
 * npm runs directly (not through a shell) so that SIGTERM reaches the server once, through npm.
 */
async function startNpm(command: string, env: NodeJS.ProcessEnv, port: number): Promise<ShellServer> {
  const m = /^((?:\w+=\S+\s+)*)npm start$/.exec(command);
  if (!m) throw new Error(`not an npm start line: ${command}`);
  const assignments = Object.fromEntries(
    m[1]!
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((a) => a.split(/=(.*)/s).slice(0, 2)),
  );
  // Its own process group, signalled as a whole like Ctrl-C in a terminal does: npm runs the server
  // through sh, which does not pass a signal sent to npm alone on to the server.
  const child: ChildProcess = spawn('npm', ['start'], {
    env: { ...env, ...assignments, PORT: String(port) },
    cwd: process.cwd(),
    detached: true,
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  let ended = false;
  // npm ends by the signal at once; the server's output pipe closes only when the server, finishing
  // its work, has exited too.
  const exited = new Promise<number | string | null>((resolve) => child.once('close', (code, signal) => resolve(code ?? signal)));
  void exited.then(() => (ended = true));
  await healthy(
    port,
    () => ended,
    () => out,
  );
  return {
    output: () => out,
    stop: () => {
      process.kill(-child.pid!, 'SIGTERM');
      return exited;
    },
  };
}

/** What each curl example must answer: the first entry whose pattern matches the command checks it. */
interface Expectation {
  pattern: RegExp;
  stream?: (stdout: string) => boolean;
  /** Asked again until this holds, as a reader would (work the answer reports finishes in the background). */
  settled?: (run: ShellRun) => boolean;
  check: (run: ShellRun, dir: string) => void;
}

function json(run: ShellRun): Record<string, any> {
  return JSON.parse(run.stdout) as Record<string, any>;
}

/** The External API's envelope around every answer. */
function envelope(run: ShellRun): Record<string, any> {
  const body = json(run);
  expect(body).toMatchObject({ success: true, responseCode: 200, errorMessage: null });
  return body.data as Record<string, any>;
}

/** What the walk-through learns as it goes: the values the README's placeholders stand for. */
const state: {
  port?: number;
  password?: string;
  token?: string;
  currentEnd?: string;
  requestId?: string;
  billingRunId?: number;
  jobRunId?: string;
  approveRunId?: string;
  /** A ConnectWise addition the first real run wrote. */
  patched?: { agreementId: number; additionId: number };
  rejectRunId?: string;
} = {};

const EXPECTATIONS: Expectation[] = [
  {
    pattern: /CortexAPI.*action="SET"/s,
    check: (run) => {
      const id = /<response version="1\.0">\s*<request>\s*<id>(\d+)<\/id>\s*<\/request>\s*<\/response>/.exec(run.stdout)?.[1];
      expect(id, run.stdout).toBeDefined();
      state.requestId = id;
    },
  },
  {
    pattern: /CortexAPI.*action="GET"><request>/s,
    // A worker starts the request when it can: on a loaded machine the first GET may find it still Requested, with no log yet.
    settled: (run) => /<status>(Provisioned|Failed)<\/status>/.test(run.stdout),
    check: (run) => {
      expect(run.stdout).toContain(`<id>${state.requestId}</id>`);
      expect(run.stdout).toMatch(/<log>[\s\S]*<\/log>/);
      expect(run.stdout).not.toContain('<error>');
    },
  },
  {
    pattern: /\/api\/Billing\/parameters/,
    check: (run) => {
      const data = envelope(run);
      expect(data.endDates.length).toBeGreaterThan(0);
      expect(data.customers).toContainEqual({ id: 3, name: 'Fabrikam Incorporated' });
    },
  },
  {
    pattern: /\/api\/billing\/[\d-]+\?aggregateByCustomer=true&billable=1/,
    check: (run) => {
      const items = envelope(run).items as Record<string, unknown>[];
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(item).toMatchObject({ customerCode: expect.any(String), isBillable: true });
    },
  },
  {
    pattern: /\/detail\?customerId=3&serviceSearch=Exchange/,
    check: (run) => {
      const items = envelope(run).items as Record<string, unknown>[];
      expect(items.length).toBeGreaterThan(0);
      for (const item of items) expect(item).toMatchObject({ customerId: 3, customerName: 'Fabrikam Incorporated' });
    },
  },
  {
    pattern: /Accept: text\/csv.*> detail\.csv/,
    check: (run, dir) => {
      const lines = fs.readFileSync(path.join(dir, 'detail.csv'), 'utf8').trim().split(/\r?\n/);
      expect(lines[0]).toMatch(/customerCode/i);
      expect(lines.length).toBeGreaterThan(1);
    },
  },
  {
    pattern: /format=xlsx.*> detail\.xlsx/,
    check: (run, dir) => {
      // An Excel workbook is a ZIP archive.
      expect(fs.readFileSync(path.join(dir, 'detail.xlsx')).subarray(0, 2).toString('latin1')).toBe('PK');
    },
  },
  {
    pattern: /\/api\/console\/customers\?search=north/,
    check: (run) => {
      const body = json(run);
      expect(body).toMatchObject({ total: 1, page: 1, pageSize: 10 });
      expect(body.items[0]).toMatchObject({ name: 'NR', fullname: 'Northwind Reseller' });
    },
  },
  {
    pattern: /\/api\/console\/customers\/tree/,
    check: (run) => {
      // The provider and the first page of its children (one level per call).
      const tree = json(run) as { parent: { name: string }; children: { items: { name: string }[] } };
      expect(tree.parent.name).toBe('SP');
      expect(tree.children.items.map((c) => c.name)).toContain('NR');
    },
  },
  {
    pattern: /-d '\{"fullname":"Gamma Ltd".*\/api\/console\/customers$/,
    check: (run) => expect(json(run).customer).toMatchObject({ name: 'GL', fullname: 'Gamma Ltd', parent: { name: 'SP' } }),
  },
  {
    pattern: /\/api\/console\/requests\?status=Failed/,
    check: (run) => expect(json(run)).toMatchObject({ items: expect.any(Array), total: expect.any(Number) }),
  },
  {
    pattern: /-N .*\/api\/console\/requests\/events/,
    stream: (out) => out.includes('\n'),
    check: (run) => expect(run.stdout).toMatch(/^: connected\n/),
  },
  {
    pattern: /-X PUT .*\/api\/console\/billing\/skus/,
    check: (run) => expect(json(run)).toMatchObject({ id: 8, name: 'Ex10Basic', sku: '29683412' }),
  },
  {
    pattern: /\/api\/console\/billing\/reprocess/,
    check: (run) => {
      const body = json(run);
      expect(body).toMatchObject({ id: expect.any(Number), status: expect.stringMatching(/^(running|succeeded)$/) });
      state.billingRunId = body.id as number;
    },
  },
  {
    pattern: /-N .*\/api\/console\/billing\/runs\/RUN\/events/,
    check: (run) => expect(run.stdout).toMatch(/event: done\ndata: \{"id":\d+,.*"status":"succeeded"/),
  },
  {
    pattern: /\/healthz$/,
    check: (run) => expect(json(run)).toEqual({ status: 'ok' }),
  },
  {
    pattern: /\/metrics$/,
    check: (run) => {
      // The series the README's table names, with the labels it lists.
      expect(run.stdout).toMatch(/^tenantry_http_requests_total\{.*route=.*method=.*status=/m);
      expect(run.stdout).toMatch(/^tenantry_cortex_actions_total\{action="SET",code="ok"\} \d+/m);
    },
  },
];

const CURLS = ALL_COMMANDS.filter((c) => /^curl /.test(c));

/** The credentials of the simulated PSA tenants, for the README's secrets placeholders. */
const PSA_SECRETS: Record<string, string> = {
  UserName: DEFAULT_AT_USER.userName,
  Secret: DEFAULT_AT_USER.secret,
  IntegrationCode: DEFAULT_AT_USER.integrationCode,
  CompanyName: DEFAULT_CW_CREDENTIALS.companyId,
  PublicKey: DEFAULT_CW_CREDENTIALS.publicKey,
  PrivateKey: DEFAULT_CW_CREDENTIALS.privateKey,
  ClientID: DEFAULT_CW_CREDENTIALS.clientId,
  ZoneUser: DEFAULT_AT_USER.userName,
};

function withPsaSecrets(text: string): string {
  return text.replace(/"(\w+)"(\s*:\s*)"[^"]*"/g, (all, key: string, colon: string) =>
    key in PSA_SECRETS ? `"${key}"${colon}"${PSA_SECRETS[key]}"` : all,
  );
}

const CW_API_URL = 'https://api-na.myconnectwise.net/v4_6_release/apis/3.0';
/** The AgreementType of the README's ConnectWise job: the simulated tenant's agreements have it. */
const README_AGREEMENT_TYPE = 'Atria Services';
const ADMIN_PASSWORD_LINE = /^Created the provider admin user "admin" with password: .*$/m.exec(README)![0];

/**
 * One install, one server, the README top to bottom. The blocks' order is the README's, except
 * the drivers block (it points HE and FSS at example hosts, so it runs last, before the key rotation).
 */
describe('README walk-through', () => {
  vi.setConfig({ testTimeout: 600_000, hookTimeout: 600_000 });
  let install: FreshInstall;
  let server: ShellServer | undefined;
  let dir: string;
  let psa: PsaDemo;
  const env: NodeJS.ProcessEnv = { ...process.env, TENANTRY_LOG_LEVEL: 'warn' };
  /** Shell variable assignments run before each later command (PASSWORD=…, TOKEN=…). */
  const prelude: string[] = [];
  const executed = new Set<string>();
  const skipped = new Map<string, string>();
  const mail: { to: string[]; text: string }[] = [];
  const smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    onData: (stream, session, cb) => {
      simpleParser(stream)
        .then((m) => mail.push({ to: session.envelope.rcptTo.map((r) => r.address), text: m.text ?? '' }))
        .then(() => cb(), cb);
    },
  });
  /** Databases the PostgreSQL blocks create, dropped at the end. */
  const databases: string[] = [];
  const pgDatabase = (name: string) => `${name}_${randomBytes(4).toString('hex')}`;
  const pgEnv = (): NodeJS.ProcessEnv => {
    const url = new URL(withDefaultUser(TEST_PG_URL));
    return { PGHOST: url.hostname, PGPORT: url.port || '5432', PGUSER: decodeURIComponent(url.username) };
  };

  /** The README's placeholders and what they stand for here. */
  function substitute(command: string): string {
    const known = <T>(value: T | undefined, what: string): T => {
      if (value === undefined) throw new Error(`${what} is not known yet for: ${command}`);
      return value;
    };
    return withPsaSecrets(command)
      .replaceAll('localhost:8080', () => `127.0.0.1:${known(state.port, 'the port')}`)
      .replaceAll('2026-11-30', () => known(state.currentEnd, 'the open period'))
      .replace(/<request><id>\d+<\/id>/, () => `<request><id>${known(state.requestId, 'the request id')}</id>`)
      .replace('/runs/RUN/', () => `/runs/${known(state.billingRunId, 'the billing run id')}/`)
      .replace(/^PASSWORD='[^']*'/, () => `PASSWORD='${known(state.password, 'the admin password')}'`)
      .replace(/^TOKEN='[^']*'/, () => `TOKEN='${known(state.token, 'the token')}'`)
      .replace(CW_API_URL, () => psa.connectwise.apiUrl)
      .replace(/jobs approve 42/, () => `jobs approve ${known(state.approveRunId, 'the run awaiting approval')}`)
      .replace(/jobs reject 42/, () => `jobs reject ${known(state.rejectRunId, 'the run awaiting approval')}`)
      .replace(/jobs log 42/, () => `jobs log ${known(state.jobRunId, 'the run')}`)
      .replace('/root/tenantry-old.key', () => path.join(dir, 'old.key'))
      .replaceAll('/new/dir', () => path.join(dir, 'restored'))
      .replace(/^cp data\//, () => `cp ${install.dataDir}/`);
  }

  /** Runs one README command with the variables set so far; recorded as executed. */
  async function readme(command: string, opts: ShellOptions = {}): Promise<ShellRun> {
    const run = await runShell([...prelude, substitute(command)].join('\n'), env, dir, opts);
    executed.add(command);
    return run;
  }

  /** Runs it and expects exit code 0 without errors; answers its output. */
  async function ok(command: string, opts: ShellOptions = {}): Promise<string> {
    const run = await readme(command, opts);
    expectSuccess(command, run);
    return run.stdout;
  }

  /** A step of the test that is no README line (said where it is used). */
  async function step(command: string, input?: string): Promise<string> {
    const run = await runShell(command, env, dir, { input });
    expectSuccess(command, run);
    return run.stdout;
  }

  /** Runs a curl example and checks it as EXPECTATIONS says. */
  async function curl(command: string): Promise<void> {
    const expectation = EXPECTATIONS.find((e) => e.pattern.test(command))!;
    expect(expectation, command).toBeDefined();
    let run = await readme(command, { until: expectation.stream });
    if (expectation.settled && !expectation.settled(run))
      await expect.poll(async () => expectation.settled!((run = await readme(command))), { timeout: 120_000 }).toBe(true);
    if (!expectation.stream) {
      expect({ command, status: run.status, stderr: run.stderr }).toMatchObject({ command, status: expect.any(Number), stderr: '' });
      expect(run.status! >= 200 && run.status! < 300, `${command}\nanswered ${run.status}: ${run.stdout}`).toBe(true);
    }
    expectation.check(run, dir);
  }

  /** A block's commands that run on this engine; the others are recorded as skipped. */
  function runnable(commands: string[]): string[] {
    return commands.filter((c) => {
      const reason = engineSkip(c);
      if (reason) skipped.set(c, reason);
      return !reason;
    });
  }

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantry-readme-'));
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    // The PSA tenants the README's jobs talk to: the demo companies, with agreements of the README's type.
    psa = await startPsaDemo();
    for (const [billingId, ids] of psa.contracts) {
      const agreement = psa.connectwise.state.addAgreement({
        companyIdentifier: billingId,
        typeName: README_AGREEMENT_TYPE,
        name: `${billingId} Atria Services`,
      });
      for (const a of psa.connectwise.state.additionsOf(ids.connectwise))
        psa.connectwise.state.addAddition(agreement.id, {
          product: { identifier: a.product.identifier },
          billCustomer: 'Billable',
          quantity: a.quantity,
        });
    }
    install = await freshInstall({ TENANTRY_LOG_LEVEL: 'warn' });
    Object.assign(env, install.env, {
      // The first start generates the admin password and prints it, as the README shows.
      TENANTRY_ADMIN_PASSWORD: undefined,
      TENANTRY_METRICS_TOKEN: `metrics-${randomBytes(12).toString('hex')}`,
      TENANTRY_SMTP_URL: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
      TENANTRY_MAIL_FROM: 'Tenantry <tenantry@sp.example>',
      LDAP_BIND_PASSWORD: 'Ldap-Bind-Secret-4711',
      WEBHOOK_SECRET: 'Webhook-Secret-0815',
      PORT: undefined,
      TENANTRY_NEW_PASSWORD: undefined,
    });
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
    state.port = await freePort();
  });
  afterAll(async () => {
    await server?.stop();
    await psa?.stop();
    await new Promise<void>((resolve) => smtp.close(resolve));
    for (const name of databases) await adminQuery(`drop database if exists ${name} with (force)`);
    await install?.drop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the first start (`npm start`) prints the generated admin password as the README shows', async () => {
    const [line] = commandsOf(shellBlocks()[0]!).filter((c) => c.includes('npm start'));
    expect(line).toBe('npm ci && npm start');
    expect(JSON.parse(fs.readFileSync('package.json', 'utf8')).scripts.start).toBe(`node ${path.relative(process.cwd(), BIN)} start`);
    server = await startNpm('npm start', env, state.port!);
    // Printed once the server listens: the line may reach this process just after /healthz answered.
    await expect.poll(() => server!.output()).toMatch(/^Created the provider admin user /m);
    const shown = /^Created the provider admin user "admin" with password: (\S+)$/m.exec(server.output());
    expect(shown, server.output()).not.toBeNull();
    expect(ADMIN_PASSWORD_LINE.replace(/: \S+$/, `: ${shown![1]}`)).toBe(shown![0]);
    state.password = shown![1];
  });

  const CLI = block(/^npx tenantry customer list$/);
  it.each(CLI.filter((c) => !(c in NOT_EXECUTED)))('Command line: `%s`', async (command) => {
    const out = await ok(withoutOptionalParts(command).replace(/\s+/g, ' ').trim());
    executed.add(command);
    const password = /^echo '([^']+)' \| npx tenantry user set-password admin_SP$/.exec(command)?.[1];
    if (password) state.password = password;
    if (/customer create --fullname "Basic API Customer"/.test(command)) expect(out).toMatch(/^created customer BAC\b/m);
    if (command.startsWith('npx tenantry customer show BAC')) expect(out).toContain('Basic API Customer');
    if (command.startsWith('npx tenantry user show User1_BAC')) expect(out).toMatch(/^roles:\s+Customer Administrator$/m);
  });

  // The APIs section's blocks, in order: the password, CortexAPI, External API, console.
  const API = [
    ...block(/^PASSWORD=/),
    ...block(/CortexAPI.*action="SET"/s),
    ...block(/^npx tenantry token create/),
    ...block(/\/api\/console\/customers\/tree/),
  ];
  it.each(API)('APIs: `%s`', async (command) => {
    if (/^\w+='/.test(command)) {
      // PASSWORD='…', TOKEN='…': the value the README tells the reader to put there; later lines see it.
      await ok(command);
      prelude.push(substitute(command));
    } else if (command.startsWith('npx tenantry token create')) {
      state.token = (await ok(command)).trim().split('\n').at(-1);
      expect(state.token).toMatch(/^eyJ/);
      // "Billing data appears after the first billing run … Run `npx tenantry billing run`": the Billing block's line.
      await ok('npx tenantry billing run');
      const parameters = await fetch(`http://127.0.0.1:${state.port}/api/Billing/parameters`, {
        headers: { authorization: `Bearer ${state.token}` },
      });
      const ends = ((await parameters.json()) as { data: { endDates: { label: string }[] } }).data.endDates.map((d) => d.label);
      state.currentEnd = ends.sort().at(-1)!;
    } else await curl(command);
  });

  const BILLING = block(/^npx tenantry billing settings /);
  it.each(BILLING)('Billing: `%s`', async (command) => {
    if (command in REFUSED_ON_A_NEW_INSTALL) {
      const run = await readme(command);
      expect({ code: run.code, errors: errorsOf(run) }).toEqual({ code: 1, errors: [REFUSED_ON_A_NEW_INSTALL[command]] });
    } else await ok(command);
  });

  it('PSA setup 3: creates the Autotask and ConnectWise jobs as written', async () => {
    const commands = block(/^npx tenantry jobs create --task autotask-psa/);
    for (const command of commands) {
      // `cat > at-secrets.json`: the reader pastes the Autotask secrets block; `jobs edit 3 --secrets-file -` reads the ConnectWise one.
      const input = command.startsWith('cat > at-secrets.json')
        ? withPsaSecrets(jsonBlock('IntegrationCode'))
        : command.startsWith('npx tenantry jobs edit 3 --secrets-file -')
          ? withPsaSecrets(jsonBlock('ClientID'))
          : undefined;
      const out = await ok(command, { input });
      if (command.includes('--task autotask-psa')) expect(out).toMatch(/^created job 2 \(/);
      if (command.includes('--task connectwise-psa')) expect(out).toMatch(/^created job 3 \(/);
      if (command.startsWith('shred -u ')) expect(fs.existsSync(path.join(dir, command.slice('shred -u '.length)))).toBe(false);
      if (command === 'npx tenantry jobs list') {
        expect(out).toContain('Transfer Billing Data to Autotask on 26th of the Month');
        expect(out).toContain('Transfer Billing Data to ConnectWise');
      }
      if (command.startsWith('npx tenantry jobs edit 3')) expect(out).toMatch(/^updated job 3;/);
      if (command.startsWith('npx tenantry jobs disable 3')) expect(out).toMatch(/^job 3 disabled/);
    }
    // Nothing the reader typed as a secret is shown again.
    expect(await step('npx tenantry jobs list --json')).not.toContain(DEFAULT_CW_CREDENTIALS.privateKey);
  });

  it('PSA setup 4: a dry run shows the diff and writes nothing; the run writes it', async () => {
    // A new install has no closed period: "use "Current" to try a job at once", as the README says.
    await step(`sed -i 's/"Previous"/"Current"/' cw-params.json && npx tenantry jobs edit 3 --parameters @cw-params.json`);
    const [dryRun, run] = block(/^npx tenantry jobs run 3 --dry-run/);
    const writesBefore = psa.connectwise.requests.filter((r) => r.method !== 'GET').length;
    const dry = await ok(dryRun!);
    expect(dry).toMatch(/^run \d+ of job 3 "Transfer Billing Data to ConnectWise" \(dry run: nothing was written\): /m);
    expect(dry).toContain('changes the run would make:');
    expect(dry).toMatch(/customer\s+company\s+sku\s+line\s+action\s+from\s+to/);
    expect(psa.connectwise.requests.filter((r) => r.method !== 'GET').length).toBe(writesBefore);
    const real = await ok(run!);
    expect(real).toContain('changes made:');
    state.jobRunId = /^run (\d+) of job 3 /m.exec(real)![1];
    const writes = psa.connectwise.requests.filter((r) => r.method !== 'GET').slice(writesBefore);
    const patched = writes.map((r) => /\/agreements\/(\d+)\/additions\/(\d+)$/.exec(r.path)).find((m) => m !== null);
    expect(patched, JSON.stringify(writes)).toBeDefined();
    state.patched = { agreementId: Number(patched![1]), additionId: Number(patched![2]) };
  });

  it('PSA setup 4: approval before the push — approve writes the stored diff, reject ends the run', async () => {
    // The README's "With the parameter "RequireApproval": "True"": added to the job's parameters.
    const params = JSON.parse(fs.readFileSync(path.join(dir, 'cw-params.json'), 'utf8')) as Record<string, string>;
    fs.writeFileSync(path.join(dir, 'cw-params.json'), JSON.stringify({ ...params, RequireApproval: 'True' }));
    await step('npx tenantry jobs edit 3 --parameters @cw-params.json');
    // Someone adds a unit by hand to a line the run managed: the next runs have a diff to approve.
    const { agreementId, additionId } = state.patched!;
    const synced = psa.connectwise.state.getAddition(agreementId, additionId).quantity;
    psa.connectwise.state.patchAddition(agreementId, additionId, [{ op: 'replace', path: 'quantity', value: synced + 1 }]);
    const awaiting = async () => {
      const out = await step('npx tenantry jobs run 3');
      expect(out).toContain('changes awaiting approval');
      return /^run (\d+) of job 3 .*: AwaitingApproval$/m.exec(out)![1]!;
    };
    state.approveRunId = await awaiting();
    state.rejectRunId = await awaiting();
    const [approve, reject] = block(/^npx tenantry jobs approve 42/);
    const approved = await ok(approve!);
    expect(approved).toContain('changes made:');
    expect(psa.connectwise.state.getAddition(agreementId, additionId).quantity, approved).toBe(synced);
    expect(await ok(reject!)).toMatch(new RegExp(`^run ${state.rejectRunId} rejected`, 'm'));
  });

  it('PSA setup 5: reads the log', async () => {
    for (const command of block(/^npx tenantry jobs log 42 --sort code/)) {
      const out = await ok(command);
      if (command.startsWith('npx tenantry jobs runs 3'))
        expect(out).toMatch(/^runs of job 3 "Transfer Billing Data to ConnectWise", newest first:/);
      if (command.includes('--sort') || command.includes('--search'))
        expect(out).toMatch(new RegExp(`^log of run ${state.jobRunId} of job 3 `));
      if (command.includes('--search CW04'))
        for (const entry of out.split('\n').filter((l) => /\bCW\d\d\b/.test(l))) expect(entry).toContain('CW04');
      if (command.includes('--csv')) expect(fs.readFileSync(path.join(dir, 'run-42.csv'), 'utf8')).toMatch(/^.*code.*level.*message/i);
    }
  });

  it('PSA setup 6: `psa simulate` syncs the simulators before your eyes and stops at Ctrl-C', async () => {
    const [command] = block(/^npx tenantry psa simulate$/);
    const run = await readme(command!, { until: (out) => out.includes('Ctrl-C stops.'), signal: 'SIGINT' });
    expect(run.stdout, run.stderr).toContain('quantities in the simulated PSAs (before → after):');
    expect(run.stdout).toContain('(dry run: nothing was written)');
    expect(errorsOf(run)).toEqual([]);
    // Ctrl-C stops the simulators, wherever the command ran (with the embedded database: in the server).
    const url = /^Autotask simulator:\s+(\S+)$/m.exec(run.stdout)![1]!;
    await expect
      .poll(
        () =>
          fetch(`${url}V1.0/zoneInformation?user=x`).then(
            () => 'up',
            () => 'down',
          ),
        { timeout: 60_000 },
      )
      .toBe('down');
  });

  it('Operations: health and metrics', async () => {
    for (const command of CURLS.filter((c) => /\/(healthz|metrics)$/.test(c))) await curl(command);
  });

  it('Operations: mail — the welcome mail reaches the new user', async () => {
    const [command] = block(/--welcome-mail/);
    await ok(command!);
    await expect.poll(() => mail.find((m) => m.to.includes('user2@home.example'))?.text ?? '', { timeout: 120_000 }).toContain('User2');
  });

  it('Operations: backup while the server runs, and restore into a new data directory', async () => {
    const commands = runnable(block(/npx tenantry backup /));
    for (const command of commands) {
      const out = await ok(command);
      if (command.includes(' backup ')) expect(out).toMatch(/^backup of .* written to tenantry-\d{4}-\d\d-\d\d\.tar\.gz/);
      if (command.includes(' restore ')) expect(out).toMatch(/^restored tenantry-\d{4}-\d\d-\d\d\.tar\.gz into /);
    }
  });

  it('Operations: pg_dump and pg_restore into a new database', async () => {
    const commands = runnable(block(/^pg_dump /));
    if (!commands.length) return;
    const name = pgDatabase('tenantry_restored');
    databases.push(name);
    Object.assign(env, pgEnv());
    const url = databaseUrl(withDefaultUser(TEST_PG_URL), name);
    for (const command of commands) {
      const run = await runShell(
        command
          .replace('postgres://tenantry@db.example.net:5432/tenantry_restored', url)
          .replace(/^createdb tenantry_restored$/, `createdb ${name}`),
        env,
        dir,
      );
      expectSuccess(command, run);
      executed.add(command);
    }
  });

  it('Drivers: points HE at LDAP and FSS at a webhook; the secrets from stdin are not shown', async () => {
    for (const command of block(/set-driver HE ldap/)) {
      const out = await ok(command);
      expect(out).not.toContain(env.LDAP_BIND_PASSWORD);
      expect(out).not.toContain(env.WEBHOOK_SECRET);
      if (command.includes('HE ldap')) expect(out).toMatch(/^HE: driver ldap \{.*"url":"ldaps:\/\/dc1\.example\.net"/);
      if (command.includes('FSS webhook'))
        expect(out).toMatch(/^FSS: driver webhook \{.*"url":"https:\/\/automation\.example\.net\/tenantry"/);
    }
  });

  it('Secrets: stops the server, rotates the key, then forgets the secrets of a lost key', async () => {
    const output = server!.output();
    expect([0, 'SIGTERM']).toContain(await server!.stop());
    server = undefined;
    expect(output).not.toMatch(/grace period over|"level":(50|60)/);
    const keyFile = path.join(install.dataDir, 'secret.key');
    fs.renameSync(keyFile, path.join(dir, 'old.key'));
    fs.writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    const [rotate, forget] = block(/^npx tenantry rotate-key --old-key-file/);
    expect(await ok(rotate!)).toMatch(/^([1-9]\d*) secret\(s\) re-sealed, 0 dropped; the database now expects the key of fingerprint /);
    // The key is lost: a new one, and the secrets it sealed are dropped.
    fs.writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    expect(await ok(forget!)).toMatch(/^0 secret\(s\) re-sealed, [1-9]\d* dropped;/);
  });

  it('PostgreSQL server and several processes (PostgreSQL only)', async () => {
    const commands = [...block(/^createdb tenantry$/), ...block(/^npx tenantry worker &$/)];
    if (!runnable(commands).length) return;
    const name = pgDatabase('tenantry_readme');
    databases.push(name);
    const url = databaseUrl(withDefaultUser(TEST_PG_URL), name);
    const dataDir = path.join(dir, 'pg-data');
    const pg: NodeJS.ProcessEnv = { ...env, ...pgEnv(), TENANTRY_DATA_DIR: dataDir, DATABASE_URL: undefined, TENANTRY_SMTP_URL: undefined };
    delete pg.DATABASE_URL;
    delete pg.TENANTRY_SMTP_URL;
    delete pg.TENANTRY_MAIL_FROM;
    const [createdb, npmStart] = block(/^createdb tenantry$/);
    const created = await runShell(createdb!.replace(/tenantry$/, name), pg, dir);
    expectSuccess(createdb!, created);
    executed.add(createdb!);
    const port = await freePort();
    const first = await startNpm(npmStart!.replace('postgres://tenantry@db.example.net:5432/tenantry', url), pg, port);
    executed.add(npmStart!);
    await expect.poll(() => first.output()).toMatch(/^Created the provider admin user "admin" with password: \S+$/m);
    expect([0, 'SIGTERM']).toContain(await first.stop());
    // Several processes: the whole block as one script, the key the first start created standing in for /etc/tenantry/key.
    const several = block(/^npx tenantry worker &$/);
    const script = several
      .map((c) =>
        c.replace('postgres://tenantry@db.example.net:5432/tenantry', url).replace('/etc/tenantry/key', path.join(dataDir, 'secret.key')),
      )
      .join('\n');
    const processes = spawnShell(script, { ...pg, PORT: String(port), TENANTRY_LOG_LEVEL: 'info' }, dir);
    let ended = false;
    void processes.closed.then(() => (ended = true));
    try {
      await healthy(port, () => ended, processes.output);
      // Two workers with provisioning, one of them with the job scheduler; the HTTP-only server runs neither.
      const count = (what: RegExp) => (processes.output().match(what) ?? []).length;
      await expect.poll(() => count(/provisioning workers started/g), { timeout: 120_000 }).toBe(2);
      await expect.poll(() => count(/job scheduler started/g), { timeout: 120_000 }).toBe(1);
      expect(processes.output()).not.toMatch(/"level":(50|60)/);
    } finally {
      process.kill(-processes.child.pid!, 'SIGTERM');
      await processes.closed;
    }
    for (const c of several) executed.add(c);
  });

  it('the Development lines not run name scripts that exist', () => {
    const scripts = (JSON.parse(fs.readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['test', 'typecheck', 'bench', 'build:web', 'fuzz']) expect(scripts[name], name).toBeDefined();
    expect(fs.statSync('scripts/repeat-tests.sh').mode & 0o100).not.toBe(0);
    expect(fs.existsSync('node_modules/.bin/vite')).toBe(true);
  });

  it('runs every command of every README shell block, or says why not', () => {
    for (const line of Object.keys(NOT_EXECUTED)) expect(ALL_COMMANDS, `NOT_EXECUTED names a line the README lacks`).toContain(line);
    const left = ALL_COMMANDS.filter((c) => !executed.has(c) && !(c in NOT_EXECUTED) && !skipped.has(c));
    expect(left).toEqual([]);
    // Every curl example has exactly one expectation.
    for (const c of CURLS)
      expect(
        EXPECTATIONS.filter((e) => e.pattern.test(c)).map((e) => e.pattern),
        c,
      ).toHaveLength(1);
  });
});
