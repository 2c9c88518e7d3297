// POST /api/feedback used to read its body whole and JSON.parse it: a 16 MiB body of nested
// brackets took the server from ~180 MB to ~1 GB and blocked its loop for seconds, and feedback
// was not counted against MAX_CONCURRENT_UPLOADS. It is now parsed as it streams in, with
// /predict's bounds, and admitted as an upload.
import t from 'tap';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { rssOf, startChildServer } from './helpers/child-server.js';
import { send, sleep } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer } from './helpers/server.js';

const skip = !existsSync(`${BUNDLED_MODEL}/model.onnx`)
  ? 'the bundled model is not built (models/credit-default/v1)'
  : !existsSync('/proc/self/status')
    ? 'needs /proc to read the server process RSS'
    : false;

const MB = 1024 * 1024;

/** 16 MiB: 8 MiB of `[` then 8 MiB of `]`, in 64 KiB chunks. */
async function* nestedBrackets(): AsyncGenerator<Buffer> {
  const open = Buffer.alloc(64 * 1024, '[');
  const close = Buffer.alloc(64 * 1024, ']');
  for (let i = 0; i < 128; i++) yield open;
  for (let i = 0; i < 128; i++) yield close;
}

t.test(
  'ten concurrent 16 MiB nested-bracket feedback bodies keep the server within 50 MB of idle',
  { skip, timeout: 90_000 },
  async (t) => {
    const srv = await startChildServer();
    const child = srv.child;
    t.teardown(() => srv.kill());
    // Warm the route (first-use code and buffers) before taking the idle figure.
    for (let i = 0; i < 3; i++) await send(srv, { path: '/api/feedback', headers: { 'content-type': 'application/json' }, body: '[[[]]]' });
    await sleep(500);
    const idle = Math.max(rssOf(child.pid!), rssOf(child.pid!));
    let peak = idle;
    let cut = false;
    const sampler = setInterval(() => {
      if (child.exitCode !== null) return;
      peak = Math.max(peak, rssOf(child.pid!));
      // The unbounded parse climbs to gigabytes; stop it well before that on a shared machine.
      if (peak - idle > 400 * MB && !cut) {
        cut = true;
        child.kill('SIGKILL');
      }
    }, 5);
    const replies = await Promise.all(
      Array.from({ length: 10 }, () =>
        send(srv, {
          path: '/api/feedback',
          headers: { 'content-type': 'application/json' },
          body: nestedBrackets,
          timeoutMs: 60_000,
        }).catch((err: unknown) => ({ status: -1, body: Buffer.from(String(err)) })),
      ),
    );
    await sleep(300);
    clearInterval(sampler);
    t.comment(`idle ${(idle / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB`);
    t.notOk(cut, 'the server was not stopped for runaway memory');
    t.ok(peak - idle <= 50 * MB, `peak RSS ${((peak - idle) / MB).toFixed(1)} MB above idle (at most 50)`);
    for (const r of replies) {
      t.equal(r.status, 400, 'each nested body is refused');
      if (r.status === 400)
        t.match(JSON.parse(r.body.toString()) as unknown, { code: 'DL_ERR_BAD_INPUT', detail: /nested deeper than 64/ });
    }
  },
);

t.test(
  'feedback is an upload: it holds a MAX_CONCURRENT_UPLOADS slot, beyond it 429 with Retry-After',
  { skip, timeout: 30_000 },
  async (t) => {
    const srv = await startTestServer({ MAX_CONCURRENT_UPLOADS: '1', MAX_FIELD_BYTES: '1024' });
    t.teardown(() => srv.close());
    // One feedback upload that has sent only part of its body holds the only slot.
    const holder = net.connect(srv.port, '127.0.0.1');
    holder.on('error', () => undefined);
    holder.write(
      'POST /api/feedback HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n[{"id":"a","target":1}',
    );
    await sleep(300);
    t.equal(srv.service.state.uploads.size, 1, 'the partial feedback upload is counted');
    const fb = await send(srv, { path: '/api/feedback', headers: { 'content-type': 'application/json' }, body: '[{"id":"b","target":0}]' });
    t.equal(fb.status, 429, 'a second feedback is refused');
    t.equal(fb.headers['retry-after'], '1');
    t.match(JSON.parse(fb.body.toString()) as unknown, { code: 'DL_ERR_TOO_MANY_REQUESTS' });
    const pr = await send(srv, { path: '/predict', headers: { 'content-type': 'text/csv' }, body: 'a,b\n1,2\n' });
    t.equal(pr.status, 429, '/predict shares the same count');
    holder.destroy();
    let after = 429;
    for (let i = 0; i < 50 && after === 429; i++) {
      await sleep(50);
      after = (await send(srv, { path: '/api/feedback', headers: { 'content-type': 'application/json' }, body: '[{"id":"b","target":0}]' }))
        .status;
    }
    t.equal(after, 404, 'once the holder went away, feedback is admitted (and the id is unknown)');
  },
);

t.test('feedback bodies have /predict bounds: MAX_FIELD_BYTES per value, a row cap, JSON depth', { skip, timeout: 30_000 }, async (t) => {
  const srv = await startTestServer({ MAX_FIELD_BYTES: '1024' });
  t.teardown(() => srv.close());
  const post = (body: string, type = 'application/json') => send(srv, { path: '/api/feedback', headers: { 'content-type': type }, body });
  const long = await post(JSON.stringify([{ id: 'x'.repeat(5000), target: 1 }]));
  t.equal(long.status, 413);
  t.match(JSON.parse(long.body.toString()) as unknown, { code: 'DL_ERR_FIELD_TOO_LARGE' });
  const many = await post(JSON.stringify(Array.from({ length: 100_001 }, (_, i) => ({ id: i, target: 1 }))));
  t.equal(many.status, 413);
  t.match(JSON.parse(many.body.toString()) as unknown, { code: 'DL_ERR_TOO_MANY_ROWS' });
  const csvMany = await post(`id,target\n${Array.from({ length: 100_001 }, (_, i) => `${i},1`).join('\n')}\n`, 'text/csv');
  t.equal(csvMany.status, 413, 'the same cap for CSV');
  const deep = await post(`${'['.repeat(100)}${']'.repeat(100)}`);
  t.equal(deep.status, 400);
  t.match(JSON.parse(deep.body.toString()) as unknown, { code: 'DL_ERR_BAD_INPUT', detail: /nested deeper than 64/ });
});
