/*
 * The detail benchmark's client, in a process of its own (started by billing.bench.ts) so that
 * neither its memory nor its event loop is the server's: it streams the period's detail (with
 * `probe`, timing CortexAPI GETs on the idle server first and then one after another while the
 * detail streams), and prints what it measured as one line of JSON.
 */
import http from 'node:http';

export interface DetailClientResult {
  rows: number;
  bytes: number;
  ms: number;
  idleGets: number[];
  busyGets: number[];
  /** When the slowest GET beside the stream started (ISO, UTC): to hold against the database's log. */
  slowestBusyGetAt: string | null;
}

/** What billing.bench.ts hands the client, as JSON in its one argument. */
export interface DetailClientJob {
  port: number;
  detailPath: string;
  token: string;
  getBody: string;
  basicAuth: string;
  idleGets: number;
  /** Time GETs while the detail streams (and on the idle server before), or only stream it. */
  probe: boolean;
}

async function cortexGet(job: DetailClientJob): Promise<number> {
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const req = http.request(
      {
        port: job.port,
        method: 'POST',
        path: '/CortexAPI/Default.aspx',
        headers: { authorization: job.basicAuth, 'content-type': 'text/xml' },
      },
      (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`CortexAPI GET answered ${res.statusCode}`))));
      },
    );
    req.on('error', reject);
    req.end(job.getBody);
  });
  return Math.round(performance.now() - started);
}

/** Streams the detail, counting rows by their "billItemID" key without copying the body into strings. */
function streamDetail(job: DetailClientJob): Promise<{ rows: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get({ port: job.port, path: job.detailPath, headers: { authorization: `Bearer ${job.token}` } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`the detail answered ${res.statusCode}`));
        const marker = Buffer.from('"billItemID"');
        let tail = Buffer.alloc(0);
        let rows = 0;
        let bytes = 0;
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          for (let i = chunk.indexOf(marker); i !== -1; i = chunk.indexOf(marker, i + 1)) rows++;
          // A marker straddling two chunks is found in the joint of the previous chunk's end and this one's start.
          if (Buffer.concat([tail, chunk.subarray(0, marker.length - 1)]).indexOf(marker) !== -1) rows++;
          tail = Buffer.from(chunk.subarray(Math.max(0, chunk.length - (marker.length - 1))));
        });
        res.on('end', () => resolve({ rows, bytes }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function main(job: DetailClientJob): Promise<DetailClientResult> {
  const idleGets: number[] = [];
  if (job.probe) {
    await cortexGet(job); // the first verifies the password (scrypt); later ones hit the sign-in cache
    for (let i = 0; i < job.idleGets; i++) idleGets.push(await cortexGet(job));
  }
  const started = performance.now();
  let streaming = job.probe;
  const busyGets: number[] = [];
  let slowestBusyGetAt: string | null = null;
  let slowest = -1;
  const probe = (async () => {
    while (streaming) {
      const at = new Date().toISOString();
      const ms = await cortexGet(job);
      busyGets.push(ms);
      if (ms > slowest) [slowest, slowestBusyGetAt] = [ms, at];
    }
  })();
  const { rows, bytes } = await streamDetail(job).finally(() => (streaming = false));
  const ms = Math.round(performance.now() - started);
  await probe;
  return { rows, bytes, ms, idleGets, busyGets, slowestBusyGetAt };
}

process.stdout.write(JSON.stringify(await main(JSON.parse(process.argv[2]!) as DetailClientJob)) + '\n');
