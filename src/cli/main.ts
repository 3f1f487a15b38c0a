import { dataDirFrom } from '../core/config.js';
import { forwardToServer, runsOnServer } from './client.js';

/**
 * The `tenantry` entry point. With the embedded database and a server running on the data
 * directory, the command line goes to that server over its socket (docs/decisions.md, "CLI and a
 * running server"); otherwise the command runs in this process.
 */
export async function main(argv: string[]): Promise<void> {
  // `tenantry … | head -1` closes the pipe early: that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  if (runsOnServer(argv) && !process.env.DATABASE_URL) {
    const code = await forwardToServer(argv, dataDirFrom(process.env));
    if (code !== undefined) {
      process.exitCode = code;
      return;
    }
  }
  const { runCli } = await import('./program.js');
  const code = await runCli(argv);
  // A failed command (a start that cannot serve above all) must not linger on an open handle.
  if (code !== 0) process.exit(code);
}
