import fs from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import { inTransaction } from '../core/db/database.js';
import { loadConfig } from '../core/config.js';
import { openRuntime } from '../core/runtime.js';
import { runBilling } from '../billing/run/run-billing.js';
import { loadDemo } from '../demo/demo.js';
import { demoJobs, demoQuantities, startPsaDemo } from '../demo/psa-demo.js';
import { jobsEnv } from '../jobs/env.js';
import { createJob, deleteJob, getJob, listJobs, setJobEnabled, updateJob, type JobInput } from '../jobs/job.service.js';
import { JobRunner } from '../jobs/runner.js';
import { getRun, listRuns, logsToCsv, LOG_SORTS, runLogs, type LogSort, type RunDetail } from '../jobs/run.service.js';
import { startJobScheduler } from '../jobs/scheduler.js';
import type { AppContext } from '../core/context.js';
import type { Caller } from '../tenancy/caller.js';
import { printAs, printTable, withRuntime } from './context.js';
import { commandPath, setExitCode, untilInterrupted } from './scope.js';

const id =
  (label: string) =>
  (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${label} must be a whole number.`);
    return Number(value);
  };

interface JobOptions {
  label?: string;
  task?: string;
  logLevel?: string;
  cron?: string;
  parameters?: string;
  secretsFile?: string;
  disabled?: boolean;
}

/** JSON given inline or as @file. */
function readJson(value: string): string {
  return value.startsWith('@') ? fs.readFileSync(commandPath(value.slice(1)), 'utf8') : value;
}

/** Secrets come from a file or stdin ("-"), never from the command line, so they stay out of shell history and the process list. */
async function readSecrets(file: string): Promise<string> {
  if (file !== '-') return fs.readFileSync(commandPath(file), 'utf8');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function jobInput(opts: JobOptions): Promise<JobInput> {
  return {
    label: opts.label,
    task: opts.task,
    logLevel: opts.logLevel,
    cron: opts.cron,
    ...(opts.parameters === undefined ? {} : { parameters: readJson(opts.parameters) }),
    ...(opts.secretsFile === undefined ? {} : { secrets: await readSecrets(opts.secretsFile) }),
    ...(opts.disabled ? { enabled: false } : {}),
  };
}

function withJobOptions(cmd: Command): Command {
  return cmd
    .option('--label <text>', 'a meaningful name, e.g. "Transfer Billing Data to Autotask on 27th of the Month"')
    .option('--log-level <level>', 'Error, Warning, Info or Verbose')
    .option(
      '--cron <expression>',
      'when it runs, in the provider\'s time zone (tenantry billing settings): 5 fields ("0 22 26 * *") or 6 with seconds first',
    )
    .option('--parameters <json|@file>', 'the task parameters as JSON (defaults fill what is left out)')
    .option('--secrets-file <path|->', 'the secrets JSON, from a file or "-" for stdin; replaces all stored secrets');
}

/** A job named as the operator knows it: its label beside its id. */
async function jobName(ctx: AppContext, caller: Caller, jobId: number): Promise<string> {
  return `job ${jobId} "${(await getJob(ctx.db, caller, await jobsEnv(ctx), jobId)).label}"`;
}

/** A finished run as its detail (--json) or as lines to read. */
async function showRun(ctx: AppContext, caller: Caller, runId: number, json: boolean | undefined): Promise<RunDetail> {
  const run = await getRun(ctx.db, caller, runId);
  const job = await jobName(ctx, caller, run.jobId);
  printAs(run, json, (r) => printRun(r, job));
  return run;
}

function printRun(run: RunDetail, job: string): void {
  console.log(`run ${run.id} of ${job}${run.dryRun ? ' (dry run: nothing was written)' : ''}: ${run.status}`);
  console.log(`  ${run.message ?? ''}`);
  console.log(
    `  log: ${run.counts.errors} errors, ${run.counts.warnings} warnings, ${run.counts.info} info, ${run.counts.verbose} verbose — tenantry jobs log ${run.id}`,
  );
  if (run.changes.length) {
    // A run waiting for approval (RequireApproval) has written nothing yet: say so, and how to go on.
    console.log(
      run.dryRun
        ? '\nchanges the run would make:'
        : run.status === 'AwaitingApproval'
          ? `\nchanges awaiting approval (tenantry jobs approve ${run.id} | tenantry jobs reject ${run.id}):`
          : '\nchanges made:',
    );
    printTable(
      run.changes.map((c) => ({
        customer: c.customerCode,
        company: c.billingId,
        sku: c.sku,
        line: c.line,
        action: c.action,
        from: c.from,
        to: c.to,
      })),
      ['customer', 'company', 'sku', 'line', 'action', 'from', 'to'],
    );
  }
}

async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY) throw new InvalidArgumentError('not a terminal: add --yes to confirm');
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

export function registerJobsCommands(program: Command): void {
  const jobs = program.command('jobs').description('scheduled jobs: PSA billing sync and the billing run (Configuration > Jobs)');

  jobs
    .command('list')
    .description('list jobs with their next run and last result')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const list = await listJobs(ctx.db, caller, await jobsEnv(ctx));
        if (opts.json) return console.log(JSON.stringify(list, null, 2));
        printTable(
          list.map((j) => ({
            id: j.id,
            label: j.label,
            task: j.taskLabel,
            level: j.logLevel,
            cron: j.cron,
            zone: j.timeZone,
            enabled: j.enabled,
            next: j.nextRunAt,
            last: j.lastRun ? `${j.lastRun.status} (run ${j.lastRun.id})` : '',
          })),
          ['id', 'label', 'task', 'level', 'cron', 'zone', 'enabled', 'next', 'last'],
        );
      });
    });

  withJobOptions(
    jobs.command('create').description('create a job').requiredOption('--task <task>', 'autotask-psa, connectwise-psa or billing-run'),
  )
    .option('--disabled', 'create it disabled')
    .action(async (opts: JobOptions) => {
      const input = await jobInput(opts);
      await withRuntime(async (ctx, caller) => {
        const env = await jobsEnv(ctx);
        const job = await inTransaction(ctx.db, (tx) => createJob(tx, caller, env, input));
        console.log(
          `created job ${job.id} (${job.taskLabel}); next run ${job.nextRunAt?.toISOString() ?? 'none (disabled)'} ${job.timeZone === 'UTC' ? '' : `(${job.timeZone})`}`,
        );
      });
    });

  withJobOptions(
    jobs.command('edit').description('change a job; secrets given replace the stored ones').argument('<id>', 'job id', id('job id')),
  ).action(async (jobId: number, opts: JobOptions) => {
    const input = await jobInput(opts);
    await withRuntime(async (ctx, caller) => {
      const job = await inTransaction(ctx.db, async (tx) => updateJob(tx, caller, await jobsEnv(ctx), jobId, input));
      console.log(`updated job ${job.id}; next run ${job.nextRunAt?.toISOString() ?? 'none'}`);
    });
  });

  jobs
    .command('run')
    .description('run a job now in this process and wait for the result')
    .argument('<id>', 'job id', id('job id'))
    .option('--dry-run', 'compute and show the changes without writing to the PSA')
    .option('--json', 'print the finished run as JSON')
    .action(async (jobId: number, opts: { dryRun?: boolean; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const runner = new JobRunner(ctx, await jobsEnv(ctx));
        const run = await runner.runNow(caller, jobId, { dryRun: opts.dryRun ?? false });
        await showRun(ctx, caller, run.id, opts.json);
        if (run.status === 'Failed') setExitCode(1);
      });
    });

  // RequireApproval (issue 11 §7): a run's diff waits until someone approves or rejects it.
  jobs
    .command('approve')
    .description(
      'approve a run awaiting approval: writes exactly its diff if neither the PSA nor the billing changed since, else shows the new diff to approve',
    )
    .argument('<run>', 'run id', id('run id'))
    .option('--json', 'print the run as JSON')
    .action(async (runId: number, opts: { json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const run = await new JobRunner(ctx, await jobsEnv(ctx)).approve(caller, runId);
        await showRun(ctx, caller, run.id, opts.json);
        if (run.status === 'Failed') setExitCode(1);
      });
    });
  jobs
    .command('reject')
    .description('reject a run awaiting approval: it ends and nothing is written')
    .argument('<run>', 'run id', id('run id'))
    .action(async (runId: number) => {
      await withRuntime(async (ctx, caller) => {
        const run = await new JobRunner(ctx, await jobsEnv(ctx)).reject(caller, runId);
        console.log(`run ${run.id} rejected`);
      });
    });

  for (const [name, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    jobs
      .command(name)
      .description(enabled ? 'let the job run on its schedule again' : 'stop the job from running on its schedule')
      .argument('<id>', 'job id', id('job id'))
      .action(async (jobId: number) => {
        await withRuntime(async (ctx, caller) => {
          const job = await inTransaction(ctx.db, async (tx) => setJobEnabled(tx, caller, await jobsEnv(ctx), jobId, enabled));
          console.log(`job ${job.id} ${enabled ? `enabled; next run ${job.nextRunAt?.toISOString()}` : 'disabled'}`);
        });
      });
  }

  jobs
    .command('delete')
    .description('delete a job with its runs and logs')
    .argument('<id>', 'job id', id('job id'))
    .option('--yes', 'do not ask for confirmation')
    .action(async (jobId: number, opts: { yes?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const job = await getJob(ctx.db, caller, await jobsEnv(ctx), jobId);
        if (!opts.yes && !(await confirm(`Delete job ${job.id} "${job.label}" and all its runs?`))) {
          console.log('not deleted');
          return;
        }
        await inTransaction(ctx.db, (tx) => deleteJob(tx, caller, jobId));
        console.log(`deleted job ${jobId}`);
      });
    });

  jobs
    .command('runs')
    .description("a job's run history, newest first")
    .argument('<id>', 'job id', id('job id'))
    .option('--limit <n>', 'how many', id('limit'), 20)
    .option('--json', 'print JSON')
    .action(async (jobId: number, opts: { limit: number; json?: boolean }) => {
      await withRuntime(async (ctx, caller) => {
        const runs = await listRuns(ctx.db, caller, jobId, { limit: opts.limit });
        if (opts.json) return void console.log(JSON.stringify(runs, null, 2));
        console.log(`runs of ${await jobName(ctx, caller, jobId)}, newest first:`);
        printTable(
          runs.map((r) => ({
            run: r.id,
            status: r.status,
            trigger: r.trigger + (r.dryRun ? ' (dry)' : ''),
            scheduled: r.scheduledFor,
            started: r.startedAt,
            finished: r.finishedAt,
            errors: r.counts.errors,
            warnings: r.counts.warnings,
            changed: r.counts.changed,
          })),
          ['run', 'status', 'trigger', 'scheduled', 'started', 'finished', 'errors', 'warnings', 'changed'],
        );
      });
    });

  jobs
    .command('log')
    .description("a run's log entries (code, level, message)")
    .argument('<run>', 'run id', id('run id'))
    .option('--csv', 'print CSV for a spreadsheet')
    .option('--json', 'print JSON')
    .option('--sort <key>', `sort by ${LOG_SORTS.join(', ')}`, 'time')
    .option('--desc', 'descending order')
    .option('--search <text>', 'only entries whose code or message contains this')
    .action(async (runId: number, opts: { csv?: boolean; json?: boolean; sort: string; desc?: boolean; search?: string }) => {
      if (!(LOG_SORTS as readonly string[]).includes(opts.sort))
        throw new InvalidArgumentError(`--sort must be one of ${LOG_SORTS.join(', ')}`);
      await withRuntime(async (ctx, caller) => {
        const entries = await runLogs(ctx.db, caller, runId, {
          sort: opts.sort as LogSort,
          order: opts.desc ? 'desc' : 'asc',
          search: opts.search,
        });
        if (opts.csv) return void process.stdout.write(logsToCsv(entries));
        if (opts.json) return void console.log(JSON.stringify(entries, null, 2));
        const run = await getRun(ctx.db, caller, runId);
        console.log(`log of run ${runId} of ${await jobName(ctx, caller, run.jobId)}:`);
        printTable(
          entries.map((e) => ({ time: e.time, code: e.code, level: e.level, message: e.message })),
          ['time', 'code', 'level', 'message'],
        );
      });
    });

  jobs
    .command('worker')
    .description('run the job scheduler in this process (extra processes need DATABASE_URL; `tenantry start` runs one already)')
    .action(async () => {
      const { ctx } = await openRuntime(loadConfig());
      const scheduler = await startJobScheduler(ctx);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await scheduler.stop();
      await ctx.database.close();
    });

  // The psa group adds `psa mapping` to the same command.
  const psa =
    program.commands.find((c) => c.name() === 'psa') ??
    program.command('psa').description('PSA integrations (Autotask, ConnectWise): simulators and per-customer sync settings');
  psa
    .command('simulate')
    .description('start Autotask and ConnectWise simulators holding the demo customers, sync them, and show the quantities change')
    .option('--once', 'exit after the demonstration instead of keeping the simulators up')
    .action(async (opts: { once?: boolean }) => {
      const demo = await startPsaDemo();
      try {
        await withRuntime(async (ctx, caller) => {
          console.log(await loadDemo(ctx, caller));
          await runBilling(ctx.db, caller, {});
          const env = await jobsEnv(ctx);
          const runner = new JobRunner(ctx, env);
          const before = demoQuantities(demo);
          for (const input of demoJobs(demo)) {
            const existing = (await listJobs(ctx.db, caller, env)).find((j) => j.label === input.label);
            const job = await inTransaction(ctx.db, (tx) =>
              existing ? updateJob(tx, caller, env, existing.id, input) : createJob(tx, caller, env, input),
            );
            console.log(`\n== ${job.label} (job ${job.id})`);
            await showRun(ctx, caller, (await runner.runNow(caller, job.id, { dryRun: true })).id, false);
            await showRun(ctx, caller, (await runner.runNow(caller, job.id)).id, false);
          }
          const after = demoQuantities(demo);
          console.log('\nquantities in the simulated PSAs (before → after):');
          printTable(
            after.map((r) => {
              const b = before.find((x) => x.billingId === r.billingId && x.sku === r.sku);
              return {
                company: r.billingId,
                sku: r.sku,
                autotask: `${b?.autotask ?? 0} → ${r.autotask}`,
                connectwise: `${b?.connectwise ?? 0} → ${r.connectwise}`,
              };
            }),
            ['company', 'sku', 'autotask', 'connectwise'],
          );
        });
        if (opts.once) return;
        console.log(`\nAutotask simulator:   ${demo.autotask.restRoot}`);
        console.log(`ConnectWise simulator: ${demo.connectwise.apiUrl}`);
        console.log(
          'The demo jobs point at these simulators while this command runs; run them again with `tenantry jobs run ID` from another terminal (on PostgreSQL). Ctrl-C stops.',
        );
        await untilInterrupted();
      } finally {
        await demo.stop();
      }
    });
}
