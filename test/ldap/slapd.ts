/**
 * A private OpenLDAP server for tests: its own cn=config and mdb data in a temp dir, on a free
 * loopback port, so parallel test files never share state. Follows
 * /work/shared/design/ldap-test-recipe.md and the same config template as
 * scripts/ldap-test-server.sh (test/ldap/slapd-config.ldif).
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe } from 'vitest';

export interface SlapdOptions {
  /** Defaults to a free loopback port. */
  port?: number;
  /** Defaults to dc=tenantry,dc=test. */
  suffix?: string;
  /** Root DN password; defaults to "secret". */
  rootPassword?: string;
  /** Milliseconds to wait for readiness; defaults to 10 000. */
  startTimeoutMs?: number;
}

export interface SlapdInstance {
  url: string;
  port: number;
  dir: string;
  suffix: string;
  /** The root DN (cn=admin,<suffix>), which bypasses ACLs. */
  bindDN: string;
  bindPassword: string;
  /** slapd's stderr so far, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

const TEMPLATE = join(dirname(fileURLToPath(import.meta.url)), 'slapd-config.ldif');
/** sbin is not on every non-root PATH, but that is where Debian installs slapd. */
const SEARCH_DIRS = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];

/** Absolute path of an executable, or null when it is not installed. */
export function findExecutable(name: string): string | null {
  for (const dir of SEARCH_DIRS) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/**
 * Why the LDAP tests must be skipped, or null when they run. They are skipped only when slapd
 * is missing on a developer machine; under CI a missing slapd fails the tests instead.
 */
export function slapdSkipReason(): string | null {
  if (findExecutable('slapd') && findExecutable('slapadd')) return null;
  if (process.env.CI) return null;
  return 'slapd is not installed: skipping LDAP tests (install with scripts/ci-install.sh)';
}

/** `describe` for suites that need slapd; skips them with a printed reason when allowed. */
export function describeWithSlapd(name: string, fn: () => void): void {
  const reason = slapdSkipReason();
  if (reason) {
    console.warn(`${name}: ${reason}`);
    describe.skip(name, fn);
  } else {
    describe(name, fn);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function requireExecutable(name: string): string {
  const path = findExecutable(name);
  if (!path) throw new Error(`${name} is not installed; run scripts/ci-install.sh`);
  return path;
}

function writeConfig(dir: string, suffix: string, rootDN: string, rootPassword: string): void {
  const config = readFileSync(TEMPLATE, 'utf8')
    .replaceAll('@DIR@', dir)
    .replaceAll('@SUFFIX@', suffix)
    .replaceAll('@ROOTDN@', rootDN)
    .replaceAll('@ROOTPW@', rootPassword)
    .replaceAll('@MODULEPATH@', process.env.SLAPD_MODULE_PATH ?? '/usr/lib/ldap');
  writeFileSync(join(dir, 'config.ldif'), config);
  const dc = /^dc=([^,]+)/.exec(suffix)?.[1];
  if (!dc) throw new Error(`suffix must start with dc=: ${suffix}`);
  writeFileSync(join(dir, 'base.ldif'), `dn: ${suffix}\nobjectClass: dcObject\nobjectClass: organization\no: tenantry test\ndc: ${dc}\n`);
}

/** Resolves once slapd is ready: our child alive, its pid file written, and the port answering. */
async function waitReady(child: ChildProcess, dir: string, port: number, timeoutMs: number, log: () => string) {
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exited) throw new Error(`slapd exited during startup:\n${log()}`);
    if (existsSync(join(dir, 'slapd.pid')) && (await portAnswers(port)) && !exited) return () => exited;
    if (Date.now() > deadline) {
      child.kill('SIGTERM');
      throw new Error(`slapd did not start within ${timeoutMs} ms:\n${log()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Starts a private slapd; call `stop()` in afterAll. */
export async function startSlapd(options: SlapdOptions = {}): Promise<SlapdInstance> {
  const slapd = requireExecutable('slapd');
  const slapadd = requireExecutable('slapadd');
  const port = options.port ?? (await freePort());
  const suffix = options.suffix ?? 'dc=tenantry,dc=test';
  const rootPassword = options.rootPassword ?? 'secret';
  const bindDN = `cn=admin,${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'tenantry-slapd-'));
  mkdirSync(join(dir, 'slapd.d'));
  mkdirSync(join(dir, 'data'));
  writeConfig(dir, suffix, bindDN, rootPassword);
  execFileSync(slapadd, ['-n', '0', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'config.ldif')], { stdio: 'pipe' });
  execFileSync(slapadd, ['-n', '1', '-F', join(dir, 'slapd.d'), '-l', join(dir, 'base.ldif')], { stdio: 'pipe' });

  // stderr goes to a file: slapd stalls when an undrained pipe fills up.
  const logFile = join(dir, 'slapd.log');
  const fd = openSync(logFile, 'w');
  const child = spawn(slapd, ['-F', join(dir, 'slapd.d'), '-h', `ldap://127.0.0.1:${port}/`, '-d', 'none'], {
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const log = () => readFileSync(logFile, 'utf8');
  const hasExited = await waitReady(child, dir, port, options.startTimeoutMs ?? 60_000, log);

  return {
    url: `ldap://127.0.0.1:${port}`,
    port,
    dir,
    suffix,
    bindDN,
    bindPassword: rootPassword,
    log,
    async stop() {
      if (!hasExited()) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
