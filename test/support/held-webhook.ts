import http from 'node:http';

/**
 * A webhook receiver that holds every delivery unanswered until `release()`, then answers them and
 * all later ones with 200: a provisioning step stays InProgress exactly as long as a test needs,
 * whatever the machine's speed. `close()` releases and stops it.
 */
export async function heldWebhook(): Promise<{ url: string; arrived: Promise<void>; release: () => void; close: () => Promise<void> }> {
  let arrive!: () => void;
  const arrived = new Promise<void>((r) => (arrive = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      arrive();
      void released.then(() => res.writeHead(200).end('{}'));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = () =>
    new Promise<void>((r) => {
      release();
      server.closeAllConnections();
      server.close(() => r());
    });
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/hook`, arrived, release, close };
}
