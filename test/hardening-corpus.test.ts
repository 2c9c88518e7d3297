// The hostile-input corpus against a live server: every case gets a clear 4xx with a `detail`
// and a stable `code`, or a 200 whose rows are all accounted for (predicted or listed as
// errors); never a 5xx, a crash or a hang; and after each one the server answers /health with
// no upload left in flight. Small cases are test/corpus/cases.json, large ones are generated
// as they are sent (test/corpus/generated.ts), and the ones no HTTP client would send are raw
// socket exchanges below.
import t from 'tap';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import type { RequestBody } from '../src/server/http.js';
import { uploadObserver } from '../src/server/routes/predict.js';
import { CORPUS_ENV, GENERATED, WIDE_ENV } from './corpus/generated.js';
import { FEATURE_HEADER, VALID_ROW, checkReply, rawExchange, send, settled, sleep, unchunk, type Expect } from './helpers/hostile.js';
import { BUNDLED_MODEL, startTestServer, type TestServer } from './helpers/server.js';

const skip = existsSync(`${BUNDLED_MODEL}/model.onnx`) ? false : 'the bundled model is not built (models/credit-default/v1)';

let srv: TestServer;
let wide: TestServer | undefined;
/** The body of the upload the server accepted last: how much of it the server read. */
let lastBody: RequestBody | undefined;
/** Bytes of the last accepted upload the server has read (a function, so TS does not narrow). */
const serverRead = (): number | undefined => lastBody?.bytes;
t.before(async () => {
  if (skip !== false) return;
  srv = await startTestServer({ ...CORPUS_ENV });
  uploadObserver.created = (objs) => {
    lastBody = objs[1] as RequestBody;
  };
});
t.teardown(async () => {
  uploadObserver.created = undefined;
  await wide?.close();
  await srv?.close();
});

interface Part {
  name: string;
  filename?: string;
  type?: string;
  body?: string;
  lines?: string[];
  encoding?: Encoding;
  bom?: Encoding;
}
type Encoding = 'utf8' | 'latin1' | 'utf16le' | 'utf16be';
interface Case extends Omit<Part, 'name'> {
  name: string;
  headers?: Record<string, string>;
  bodyBase64?: string;
  multipart?: { parts: Part[]; boundary?: string; contentType?: string; truncate?: number; keep?: number };
  expect: Expect;
}

const BOMS: Record<Encoding, number[]> = { utf8: [0xef, 0xbb, 0xbf], utf16le: [0xff, 0xfe], utf16be: [0xfe, 0xff], latin1: [] };

function encode(p: Omit<Part, 'name'>): Buffer {
  const text = (p.lines !== undefined ? `${p.lines.join('\n')}\n` : (p.body ?? '')).replaceAll('$HEADER', FEATURE_HEADER).replaceAll('$ROW', VALID_ROW);
  const enc = p.encoding ?? 'utf8';
  let bytes = enc === 'utf16be' ? Buffer.from(text, 'utf16le').swap16() : Buffer.from(text, enc);
  if (p.bom !== undefined) bytes = Buffer.concat([Buffer.from(BOMS[p.bom]), bytes]);
  return bytes;
}

function build(c: Case): { headers: Record<string, string>; body: Buffer } {
  if (c.multipart === undefined) return { headers: c.headers ?? {}, body: c.bodyBase64 !== undefined ? Buffer.from(c.bodyBase64, 'base64') : encode(c) };
  const boundary = c.multipart.boundary ?? 'corpus-boundary';
  const pieces: Buffer[] = [];
  for (const p of c.multipart.parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    pieces.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${p.type ?? 'text/csv'}\r\n\r\n`), encode(p), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  let body = Buffer.concat(pieces);
  if (c.multipart.truncate !== undefined) body = body.subarray(0, body.length - c.multipart.truncate);
  if (c.multipart.keep !== undefined) body = body.subarray(0, c.multipart.keep);
  return { headers: { 'content-type': c.multipart.contentType ?? `multipart/form-data; boundary=${boundary}`, ...c.headers }, body };
}

const corpus = JSON.parse(readFileSync(new URL('./corpus/cases.json', import.meta.url), 'utf8')) as { cases: Case[] };

t.test('the corpus is large enough to mean something', async (t) => {
  t.ok(corpus.cases.length + GENERATED.length >= 40, `${corpus.cases.length} file cases + ${GENERATED.length} generated`);
  t.same(new Set(corpus.cases.map((c) => c.name)).size, corpus.cases.length, 'case names are unique');
});

t.test('small cases (test/corpus/cases.json)', { skip }, async (t) => {
  for (const c of corpus.cases) {
    const { headers, body } = build(c);
    const reply = await send(srv, { headers, body, timeoutMs: 10_000 });
    checkReply(t, reply, c.expect, c.name);
    await settled(t, srv, c.name);
  }
});

t.test('generated cases (test/corpus/generated.ts): large, streamed, never-ending', { skip }, async (t) => {
  for (const g of GENERATED) {
    let target = srv;
    if (g.server === 'wide') target = wide ??= await startTestServer({ ...CORPUS_ENV, ...WIDE_ENV });
    lastBody = undefined;
    const reply = await send(target, { headers: g.headers, body: g.body, timeoutMs: 30_000, maxSend: 64 * 1024 * 1024 });
    const read = serverRead();
    t.comment(`${g.name}: ${reply.status} in ${Math.round(reply.ms)} ms; client sent ${reply.sent} bytes, server read ${read ?? '?'}`);
    checkReply(t, reply, g.expect, g.name);
    if (g.maxRead !== undefined) t.ok(read !== undefined && read <= g.maxRead, `${g.name}: the server read ${read} bytes, at most ${g.maxRead}`);
    if (g.endless === true) t.ok(reply.sent < 64 * 1024 * 1024, `${g.name}: the server ended a body that never ends`);
    await settled(t, target, g.name);
  }
});

const request = (cl: number | string, extra = ''): string =>
  `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: ${cl}\r\n${extra}\r\n`;
const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
const bodyOf = (text: string): string => {
  const at = text.indexOf('\r\n\r\n');
  const head = text.slice(0, at);
  const rest = text.slice(at + 4);
  return /transfer-encoding: chunked/i.test(head) ? unchunk(rest) : rest;
};
const TWO = `${FEATURE_HEADER}\n${VALID_ROW}\n${VALID_ROW}\n`;
const ONE = `${FEATURE_HEADER}\n${VALID_ROW}\n`;

t.test('Content-Length shorter than the body: only the declared bytes are scored', { skip }, async (t) => {
  const r = await rawExchange(srv.port, request(ONE.length) + TWO, { waitMs: 5000, until: (s) => s.includes('"n_rows"') });
  t.equal(statusOf(r.text), 200);
  const j = JSON.parse(bodyOf(r.text)) as { n_rows: number; n_rejected: number };
  t.same([j.n_rows, j.n_rejected], [1, 0], 'the row past Content-Length is not part of the upload');
  await settled(t, srv, 'short Content-Length');
});

// The server answers these as soon as it can, but the client still owes body bytes it will never
// send: uWS keeps such a connection until its own 10 s idle timeout. The three run at once to
// wait for that only once.
t.test('Content-Length lies and oversized declarations: a complete answer, then the connection is closed', { skip }, async (t) => {
  const wait = { waitMs: 15_000 };
  const [idle, partial, oversized] = await Promise.all([
    rawExchange(srv.port, request(500) + FEATURE_HEADER, wait),
    rawExchange(srv.port, request(TWO.length + 100) + TWO, wait),
    rawExchange(srv.port, request(5 * 1024 * 1024) + TWO, wait),
  ]);
  const complete = (text: string): boolean => text.endsWith('\r\n0\r\n\r\n');

  t.equal(statusOf(idle.text), 408, 'longer than the body, nothing scorable yet: 408');
  t.match(JSON.parse(bodyOf(idle.text)), { code: 'DL_ERR_TIMEOUT', detail: /REQUEST_IDLE_TIMEOUT_MS/ });
  t.ok(complete(idle.text), 'a well-formed chunked answer');

  // A small declared body is read whole before scoring (the buffered path): its rows are not
  // scored before the body is complete, so the answer is the 408. A streamed upload answers
  // with its rows' results, then the timeout in-band.
  if (statusOf(partial.text) === 408) {
    t.match(JSON.parse(bodyOf(partial.text)), { code: 'DL_ERR_TIMEOUT' }, 'longer than a small body: 408, nothing half-scored');
  } else {
    t.equal(statusOf(partial.text), 200, 'longer than the body, rows sent: their results…');
    const j = JSON.parse(bodyOf(partial.text)) as { results: unknown[]; error: { code: string } };
    t.equal(j.results.length, 2, 'both rows scored');
    t.equal(j.error.code, 'DL_ERR_TIMEOUT', '…then the error that ended the upload, in-band');
  }
  t.ok(complete(partial.text), 'a well-formed chunked answer (no stray header in the body)');

  t.equal(statusOf(oversized.text), 413, 'declared beyond MAX_UPLOAD_BYTES: 413');
  t.match(JSON.parse(bodyOf(oversized.text)), { code: 'DL_ERR_PAYLOAD_TOO_LARGE', detail: /MAX_UPLOAD_BYTES/ });
  t.ok(complete(oversized.text), 'a well-formed chunked answer');

  for (const [name, r] of [['idle', idle], ['oversized', oversized]] as const) {
    t.match(r.text, /\r\nconnection: close\r\n/i, `${name}: the answer says the connection will close`);
  }
  for (const [name, r] of [['idle', idle], ['partial', partial], ['oversized', oversized]] as const) {
    t.ok(r.closed && r.ms < 13_000, `${name}: the server closed the connection (${Math.round(r.ms)} ms)`);
  }
  await settled(t, srv, 'Content-Length lies');
});

t.test('framing the HTTP parser refuses: the connection is dropped, nothing is scored', { skip }, async (t) => {
  const cases: [string, string][] = [
    // Both headers is the request-smuggling shape; uWS drops it rather than pick one.
    ['Content-Length and Transfer-Encoding', `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n${TWO.length.toString(16)}\r\n${TWO}\r\n0\r\n\r\n`],
    ['a negative Content-Length', request(-5) + TWO],
    ['a Content-Length that is not a number', request('12abc') + TWO],
    // uWS takes at most 9 digits; larger bodies come chunked and are counted as they stream.
    ['a 10-digit Content-Length', request(1_000_000_000) + TWO],
    ['malformed chunk sizes', `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${TWO}\r\n0\r\n\r\n`],
    // uWS takes 64 KiB of headers, not 256 KiB: it bounds what a request head can cost.
    ['256 KiB of request headers', `POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nX-Big: ${'a'.repeat(256 * 1024)}\r\nContent-Length: ${TWO.length}\r\n\r\n${TWO}`],
  ];
  for (const [name, data] of cases) {
    const r = await rawExchange(srv.port, data, { waitMs: 3000 });
    const status = statusOf(r.text);
    t.ok(r.closed, `${name}: the connection is closed (${Math.round(r.ms)} ms)`);
    t.notOk(r.text.includes('"n_rows"'), `${name}: nothing was scored`);
    t.ok(status === 0 || (status >= 400 && status < 500), `${name}: no answer, or a 4xx (${status})`);
    await settled(t, srv, name);
  }
});

t.test('slowloris and slow bodies: others are served meanwhile, the dribblers are cut off', { skip }, async (t) => {
  const head = `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nX-Pad: ${'a'.repeat(4000)}\r\n\r\n`;
  const dribblers: { closed: boolean; at: number; timer?: NodeJS.Timeout }[] = [];
  const t0 = performance.now();
  const dribble = (data: string, everyMs: number): void => {
    const d: (typeof dribblers)[number] = { closed: false, at: 0 };
    const s = net.connect(srv.port, '127.0.0.1');
    let i = 0;
    s.on('error', () => undefined);
    s.on('close', () => {
      d.closed = true;
      d.at = performance.now() - t0;
      clearInterval(d.timer);
    });
    d.timer = setInterval(() => {
      if (i < data.length && !s.destroyed) s.write(data[i++]!);
    }, everyMs);
    dribblers.push(d);
  };
  // 20 clients sending their headers a byte at a time; 5 whose headers are whole but whose body
  // comes a byte every 200 ms (uWS wants 16 KiB/s of body on average).
  for (let i = 0; i < 20; i++) dribble(head, 100);
  const slowBody = `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: ${TWO.length}\r\n\r\n`;
  for (let i = 0; i < 5; i++) {
    const s = net.connect(srv.port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(slowBody);
    const d: (typeof dribblers)[number] = { closed: false, at: 0 };
    let k = 0;
    d.timer = setInterval(() => {
      if (k < TWO.length && !s.destroyed) s.write(TWO[k++]!);
    }, 200);
    s.on('close', () => {
      d.closed = true;
      d.at = performance.now() - t0;
      clearInterval(d.timer);
    });
    dribblers.push(d);
  }
  await sleep(500);
  t.equal(srv.service.state.uploads.size, 5, 'the slow bodies hold upload slots meanwhile');
  const latencies: number[] = [];
  while (performance.now() - t0 < 8000) {
    const r = await send(srv, { headers: { 'content-type': 'text/csv' }, body: TWO, timeoutMs: 3000 });
    t.equal(r.status, 200, 'another client is served while they dribble');
    latencies.push(r.ms);
    await sleep(250);
  }
  t.ok(Math.max(...latencies) < 2000, `${latencies.length} requests served meanwhile, slowest ${Math.round(Math.max(...latencies))} ms`);
  while (dribblers.some((d) => !d.closed) && performance.now() - t0 < 20_000) await sleep(100);
  for (const d of dribblers) clearInterval(d.timer);
  t.ok(dribblers.every((d) => d.closed), `every dribbling socket was closed by the server (last at ${Math.round(Math.max(...dribblers.map((d) => d.at)))} ms)`);
  await settled(t, srv, 'slowloris');
});

t.test('many concurrent uploads aborted at random points: nothing left in flight', { skip }, async (t) => {
  const big = `${FEATURE_HEADER}\n${`${VALID_ROW}\n`.repeat(20_000)}`;
  let rnd = 42;
  const random = (): number => {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    return rnd / 2147483648;
  };
  const aborted = await Promise.all(
    Array.from({ length: 100 }, () => {
      const cut = Math.floor(random() * big.length);
      const after = Math.floor(random() * 60);
      const accept = ['application/json', 'application/x-ndjson', 'text/csv'][Math.floor(random() * 3)]!;
      return new Promise<number>((resolve) => {
        const req = http.request(`${srv.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv', accept }, agent: false });
        req.on('error', () => resolve(0));
        req.on('response', (res) => {
          res.resume();
          res.on('error', () => undefined);
        });
        req.on('close', () => resolve(1));
        req.write(big.slice(0, cut));
        setTimeout(() => req.destroy(), after);
      });
    }),
  );
  t.equal(aborted.length, 100);
  await settled(t, srv, '100 aborted uploads');
  const r = await send(srv, { headers: { 'content-type': 'text/csv' }, body: TWO });
  t.equal(r.status, 200, 'a normal upload still works');
  t.match(JSON.parse(r.body.toString()), { n_rows: 2 });
});

t.test('MAX_CONCURRENT_UPLOADS: one upload too many gets 429 with Retry-After, and a slot frees up', { skip }, async (t) => {
  const narrow = await startTestServer({ ...CORPUS_ENV, MAX_CONCURRENT_UPLOADS: '2', REQUEST_IDLE_TIMEOUT_MS: '5000' });
  t.teardown(() => narrow.close());
  const held = [0, 1].map(() => {
    const req = http.request(`${narrow.url}/predict`, { method: 'POST', headers: { 'content-type': 'text/csv' }, agent: false });
    const done = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    req.write(`${FEATURE_HEADER}\n`);
    return { req, done };
  });
  while (narrow.service.state.uploads.size < 2) await sleep(5);
  const refused = await send(narrow, { headers: { 'content-type': 'text/csv' }, body: TWO });
  checkReply(t, refused, { status: 429, code: 'DL_ERR_TOO_MANY_REQUESTS', detail: 'MAX_CONCURRENT_UPLOADS' }, 'third upload');
  t.equal(refused.headers['retry-after'], '1');
  for (const h of held) h.req.end(`${VALID_ROW}\n`);
  t.same(await Promise.all(held.map((h) => h.done)), [200, 200], 'the two held uploads finish');
  await settled(t, narrow, 'after the held uploads');
  const again = await send(narrow, { headers: { 'content-type': 'text/csv' }, body: TWO });
  t.equal(again.status, 200, 'a slot is free again');
});

t.test('GET /predict is 405 with Allow: POST', { skip }, async (t) => {
  const r = await send(srv, { method: 'GET' });
  checkReply(t, r, { status: 405, code: 'DL_ERR_METHOD_NOT_ALLOWED' }, 'GET /predict');
  t.equal(r.headers.allow, 'POST');
});
