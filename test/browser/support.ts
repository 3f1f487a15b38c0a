/**
 * Browser tests of the web console: a real Tenantry server (fresh database, port 0) serving the
 * built console, and Debian's Chromium driven by playwright-core. No browser is downloaded.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { CONSOLE_DIST } from '../../src/api/web-console/bundle-report.js';
import { startProvisioningEngine, type ProvisioningEngine } from '../../src/provisioning/engine.js';
import type { Config } from '../../src/core/config.js';
import { openTestContext, type TestContext } from '../support/test-db.js';
import { TEST_ADMIN } from '../support/engine.js';
import { PASSWORD, type Tenant } from '../support/fixtures.js';

export const CHROMIUM = process.env.TENANTRY_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, headless, throw-away Chromium (playwright adds --headless and a fresh profile dir). */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export interface ConsoleServer {
  t: TestContext;
  app: FastifyInstance;
  url: string;
  /** Starts the provisioning engine (once): requests queued so far then run. */
  startProvisioning(): Promise<void>;
  close(): Promise<void>;
}

export interface ConsoleServerOptions {
  provisioning?: boolean;
  config?: Partial<Config>;
}

/** Starts Tenantry on a fresh database; `provisioning` also runs the engine so requests finish. */
export async function startConsoleServer(opts: ConsoleServerOptions = {}): Promise<ConsoleServer> {
  if (!fs.existsSync(path.join(CONSOLE_DIST, 'index.html'))) {
    throw new Error(`the console is not built (${CONSOLE_DIST}): run "npm run build:web" (npm ci does it)`);
  }
  const t = await openTestContext(opts.config);
  const app = await buildServer(t.ctx);
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  let engine: ProvisioningEngine | undefined;
  const startProvisioning = async () => {
    engine ??= await startProvisioningEngine(t.ctx, { pollingIntervalSeconds: 1, backoffSeconds: 1, backoffMaxSeconds: 1 });
  };
  if (opts.provisioning) await startProvisioning();
  return {
    t,
    app,
    url,
    startProvisioning,
    close: async () => {
      await app.close();
      await engine?.stop();
      await t.close();
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: 60_000 });
}

export interface OpenedPage {
  context: BrowserContext;
  page: Page;
}

/** A fresh browser profile (cookies, storage) pointed at the server. */
export async function newConsolePage(browser: Browser, server: ConsoleServer): Promise<OpenedPage> {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 } });
  context.setDefaultTimeout(50_000);
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  (page as PageWithProblems).problems = problems;
  return { context, page };
}

type PageWithProblems = Page & { problems?: string[] };

/** Uncaught errors in the page's scripts since it opened (a test expects none). */
export function pageErrors(page: Page): string[] {
  return (page as PageWithProblems).problems ?? [];
}

export interface SignInAs {
  user: string;
  password: string;
}

export const ADMIN: SignInAs = { user: TEST_ADMIN.user, password: TEST_ADMIN.password };

/** Signs in through the sign-in page, as a person would. */
export async function signIn(page: Page, user: SignInAs = ADMIN): Promise<void> {
  await page.goto('/sign-in');
  await page.getByLabel('User name').fill(user.user);
  await page.getByLabel(/^Password/).fill(user.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
}

/** How a tenant's first user (made by the fixtures) signs in. */
export function adminOf(tenant: Tenant): SignInAs {
  return { user: tenant.adminUser.name, password: PASSWORD };
}

/** The server and Chromium that a describe's tests share. */
export interface ConsoleSuite {
  /** Read inside hooks and tests: the suite's beforeAll starts it. */
  readonly server: ConsoleServer;
  readonly browser: Browser;
  /** A fresh browser profile pointed at the server. */
  newPage(): Promise<OpenedPage>;
  /** A fresh browser profile signed in through the sign-in page (default: the provider's administrator). */
  signedInPage(user?: SignInAs): Promise<OpenedPage>;
}

/**
 * Starts a server and Chromium before the enclosing describe's tests and closes both after them.
 * Hooks declared after this call run once both have started (to add data) and before they close.
 */
export function useConsole(opts: ConsoleServerOptions = {}): ConsoleSuite {
  let started: { server: ConsoleServer; browser: Browser } | undefined;
  beforeAll(async () => {
    const [server, browser] = await Promise.all([startConsoleServer(opts), launchChromium()]);
    started = { server, browser };
  });
  afterAll(async () => {
    await started?.browser.close();
    await started?.server.close();
  });
  const ready = () => {
    if (!started) throw new Error('the console suite has not started: use it inside hooks and tests');
    return started;
  };
  return {
    get server() {
      return ready().server;
    },
    get browser() {
      return ready().browser;
    },
    newPage: () => newConsolePage(ready().browser, ready().server),
    signedInPage: async (user) => {
      const opened = await newConsolePage(ready().browser, ready().server);
      await signIn(opened.page, user);
      return opened;
    },
  };
}

const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

/** Runs axe-core in the page (WCAG 2.1 A/AA rules) and answers the serious and critical violations. */
export async function seriousA11yViolations(page: Page): Promise<AxeViolation[]> {
  // A dialog fading in has half its contrast: judge the page once its transitions have ended.
  await page.evaluate(() => Promise.all(document.getAnimations().map((a) => a.finished.catch(() => undefined))));
  // Evaluated through the DevTools protocol: the console's Content-Security-Policy rightly refuses inline <script> tags.
  await page.evaluate(axeSource);
  const violations = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, opts: object): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
    });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

export async function expectNoSeriousA11yViolations(page: Page): Promise<void> {
  expect(await seriousA11yViolations(page), `axe-core on ${page.url()}`).toEqual([]);
}

/** Saves a screenshot for the README (docs/screenshots/NAME.png) when TENANTRY_SCREENSHOTS=1. */
export async function screenshot(page: Page, name: string): Promise<void> {
  if (process.env.TENANTRY_SCREENSHOTS !== '1') return;
  const dir = path.resolve(import.meta.dirname, '../../docs/screenshots');
  fs.mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: false });
}
