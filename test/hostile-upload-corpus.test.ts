// The hostile-input corpus against a live server: every case gets a clear 4xx with a `detail`
// and a stable `code`, or a 200 whose rows are all accounted for (predicted or listed as
// errors); never a 5xx, a crash or a hang; and after each one the server answers /health with
// no upload left in flight. Small cases are test/corpus/cases.json, large ones are generated
// as they are sent (test/corpus/generated.ts). What no HTTP client would send is in files of
// its own: content-length-mismatch, http-framing-refused, slow-client-receive.
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { RequestBody } from '../src/server/http.js';
import { uploadObserver } from '../src/server/routes/predict.js';
import { CORPUS_ENV, GENERATED, WIDE_ENV } from './corpus/generated.js';
import { corpusServer, skip } from './helpers/corpus-server.js';
import { FEATURE_HEADER, VALID_ROW, checkReply, send, settled, type Expect } from './helpers/hostile.js';
import { startTestServer, type TestServer } from './helpers/server.js';

const server = corpusServer();
let wide: TestServer | undefined;
/** The body of the upload the server accepted last: how much of it the server read. */
let lastBody: RequestBody | undefined;
/** Bytes of the last accepted upload the server has read (a function, so TS does not narrow). */
const serverRead = (): number | undefined => lastBody?.bytes;
t.before(() => {
  if (skip !== false) return;
  uploadObserver.created = (objs) => {
    lastBody = objs[1] as RequestBody;
  };
});
t.teardown(async () => {
  uploadObserver.created = undefined;
  await wide?.close();
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
  const text = (p.lines !== undefined ? `${p.lines.join('\n')}\n` : (p.body ?? ''))
    .replaceAll('$HEADER', FEATURE_HEADER)
    .replaceAll('$ROW', VALID_ROW);
  const enc = p.encoding ?? 'utf8';
  let bytes = enc === 'utf16be' ? Buffer.from(text, 'utf16le').swap16() : Buffer.from(text, enc);
  if (p.bom !== undefined) bytes = Buffer.concat([Buffer.from(BOMS[p.bom]), bytes]);
  return bytes;
}

function build(c: Case): { headers: Record<string, string>; body: Buffer } {
  if (c.multipart === undefined)
    return { headers: c.headers ?? {}, body: c.bodyBase64 !== undefined ? Buffer.from(c.bodyBase64, 'base64') : encode(c) };
  const boundary = c.multipart.boundary ?? 'corpus-boundary';
  const pieces: Buffer[] = [];
  for (const p of c.multipart.parts) {
    const disposition = `form-data; name="${p.name}"${p.filename === undefined ? '' : `; filename="${p.filename}"`}`;
    pieces.push(
      Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}\r\nContent-Type: ${p.type ?? 'text/csv'}\r\n\r\n`),
      encode(p),
      Buffer.from('\r\n'),
    );
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
  const srv = server();
  for (const c of corpus.cases) {
    const { headers, body } = build(c);
    const reply = await send(srv, { headers, body, timeoutMs: 10_000 });
    checkReply(t, reply, c.expect, c.name);
    await settled(t, srv, c.name);
  }
});

t.test('generated cases (test/corpus/generated.ts): large, streamed, never-ending', { skip }, async (t) => {
  const srv = server();
  for (const g of GENERATED) {
    let target = srv;
    if (g.server === 'wide') target = wide ??= await startTestServer({ ...CORPUS_ENV, ...WIDE_ENV });
    lastBody = undefined;
    const reply = await send(target, { headers: g.headers, body: g.body, timeoutMs: 30_000, maxSend: 64 * 1024 * 1024 });
    const read = serverRead();
    t.comment(`${g.name}: ${reply.status} in ${Math.round(reply.ms)} ms; client sent ${reply.sent} bytes, server read ${read ?? '?'}`);
    checkReply(t, reply, g.expect, g.name);
    if (g.maxRead !== undefined)
      t.ok(read !== undefined && read <= g.maxRead, `${g.name}: the server read ${read} bytes, at most ${g.maxRead}`);
    if (g.endless === true) t.ok(reply.sent < 64 * 1024 * 1024, `${g.name}: the server ended a body that never ends`);
    await settled(t, target, g.name);
  }
});
