// Regression: `driftline simulate` against a service that was not running printed
// "no response: fetch failed", fetch's own words, which hide the reason (kept in err.cause).
import net from 'node:net';
import { Writable } from 'node:stream';
import t from 'tap';
import { simulate } from '../src/cli/simulate.js';
import { postCsv } from '../src/sim/index.js';
import { BUNDLED_MODEL } from './helpers/server.js';

/** A port that was just free: listened on, then closed, so nothing answers there. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((resolve) => srv.close(resolve));
  return port;
}

const sink = (f: (s: string) => void): Writable => new Writable({ write: (c: Buffer, _e, cb) => (f(c.toString()), cb()) });

t.test('simulate against a service that is not running says connection refused and where', async (t) => {
  const port = await closedPort();
  let out = '';
  const totals = await simulate(
    { url: `http://127.0.0.1:${port}`, rowsPerRequest: '2', interval: '0', requests: '1', seed: '1', model: BUNDLED_MODEL },
    { stdout: sink((s) => (out += s)), stderr: sink(() => {}) },
  );
  t.same([totals?.requests, totals?.failures], [1, 1]);
  t.match(out, `no response: connection refused at http://127.0.0.1:${port} (ECONNREFUSED)`);
  t.notMatch(out, /fetch failed/);
});

t.test('a service that accepts the connection but never answers is reported as a timeout', async (t) => {
  // Accepts and reads, never writes: what a hung process behind the port looks like.
  const silent = net.createServer((sock) => sock.resume());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => silent.close(resolve)));
  const { port } = silent.address() as net.AddressInfo;
  const err = await postCsv(new URL(`http://127.0.0.1:${port}/predict`), 'a\n1\n', { timeoutMs: 500 }).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  t.equal(err?.message, `no response within 0.5 s from http://127.0.0.1:${port}`);
});
