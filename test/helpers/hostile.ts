// Clients for hostile-input tests: an HTTP client that streams a body from a generator and
// counts what it got out before the server answered, a raw-socket exchange for requests no
// well-behaved client sends (with its head and answer readers), and the checks every corpus
// case shares.
import http, { type IncomingHttpHeaders } from 'node:http';
import net from 'node:net';
import type { Test } from 'tap';
import type { TestServer } from './server.js';

export const FEATURE_HEADER = 'credit_limit,age,pay_delay_sep,pay_delay_aug,bill_amt_sep,bill_amt_aug,pay_amt_sep,pay_amt_aug';
export const VALID_ROW = '20000,24,2,2,3913,3102,0,689';
export const VALID_OBJECT = {
  credit_limit: 20000,
  age: 24,
  pay_delay_sep: 2,
  pay_delay_aug: 2,
  bill_amt_sep: 3913,
  bill_amt_aug: 3102,
  pay_amt_sep: 0,
  pay_amt_aug: 689,
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** Body bytes handed to the socket in all, and by the time the response head arrived. */
  sent: number;
  sentAtResponse: number;
  /** The response body ended normally (not cut by a reset or close). */
  complete: boolean;
  ms: number;
}

export type Body = Buffer | string | (() => AsyncIterable<Buffer>);

/**
 * POSTs to `path` on a fresh connection. A generator body goes out chunked, with backpressure,
 * until it ends, an error status arrives, or the server closes: so a never-ending body ends
 * when the server cuts it off.
 * `maxSend` bounds a body the server never stops reading (the test then fails, not hangs).
 */
export function send(
  srv: { url: string },
  opts: { path?: string; method?: string; headers?: Record<string, string>; body?: Body; timeoutMs?: number; maxSend?: number },
): Promise<Reply> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    let sent = 0;
    let sentAtResponse = -1;
    let head: http.IncomingMessage | undefined;
    const chunks: Buffer[] = [];
    let complete = false;
    let settled = false;
    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (head === undefined) {
        resolve({ status: 0, headers: {}, body: Buffer.alloc(0), sent, sentAtResponse: sent, complete: false, ms: performance.now() - t0 });
        return;
      }
      resolve({
        status: head.statusCode ?? 0,
        headers: head.headers,
        body: Buffer.concat(chunks),
        sent,
        sentAtResponse,
        complete,
        ms: performance.now() - t0,
      });
    };
    const req = http.request(`${srv.url}${opts.path ?? '/predict'}`, {
      method: opts.method ?? 'POST',
      headers: opts.headers ?? {},
      agent: false,
    });
    const timeoutMs = opts.timeoutMs ?? 15_000;
    const timer = setTimeout(() => {
      settled = true;
      req.destroy();
      reject(new Error(`no complete answer within ${timeoutMs} ms (status ${head?.statusCode ?? 'none'}, ${sent} bytes sent)`));
    }, timeoutMs);
    req.on('response', (res) => {
      head = res;
      sentAtResponse = sent;
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        complete = true;
      });
      res.on('close', finish);
      res.on('error', () => undefined);
    });
    // EPIPE / ECONNRESET when the server closes on an early answer: what was read still counts.
    req.on('error', () => setImmediate(finish));
    req.on('close', () => setTimeout(finish, head === undefined ? 0 : 1000));
    const body = opts.body;
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      const buf = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      sent = buf.length;
      req.end(buf);
      return;
    }
    void (async () => {
      const maxSend = opts.maxSend ?? 256 * 1024 * 1024;
      try {
        for await (const chunk of body()) {
          // An error head ends the upload; a 200 streams results while the body still goes up.
          if ((head !== undefined && (head.statusCode ?? 0) >= 300) || complete || req.destroyed || settled) return;
          if (sent > maxSend) {
            settled = true;
            clearTimeout(timer);
            req.destroy();
            reject(new Error(`the server kept reading: ${sent} bytes sent and no answer`));
            return;
          }
          sent += chunk.length;
          if (!req.write(chunk)) {
            // One pair of listeners per wait, removed after it (a 'close' left behind per wait
            // piles up on a long upload).
            await new Promise<void>((r) => {
              const done = (): void => {
                req.off('drain', done).off('close', done);
                r();
              };
              req.on('drain', done).on('close', done);
            });
          }
          // Lets the response head in between chunks, as a real client's event loop would.
          await new Promise((r) => setImmediate(r));
        }
        // A 200 that started streaming results before the last chunk still needs the upload
        // ended, or the server waits for the rest of a body that never comes.
        if ((head === undefined || (head.statusCode ?? 0) < 300) && !req.destroyed) req.end();
      } catch {
        // the request was torn down under the generator
      }
    })();
  });
}

/** A whole exchange on a raw socket: what came back, and whether the server closed it. */
export function rawExchange(
  port: number,
  data: Buffer | string,
  opts: { waitMs: number; until?: (text: string) => boolean },
): Promise<{ text: string; closed: boolean; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    const done = (): void => {
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed, ms: performance.now() - t0 });
    };
    const timer = setTimeout(done, opts.waitMs);
    s.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      if (opts.until?.(text) === true) done();
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      closed = true;
      done();
    });
    s.write(data);
  });
}

/** Decodes an HTTP/1.1 chunked body (as a raw socket receives it). */
export function unchunk(body: string): string {
  let out = '';
  let at = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', at);
    if (eol === -1) return out;
    const size = Number.parseInt(body.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += body.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}

/** A raw `POST /predict` head declaring `cl` as its Content-Length, whatever body follows. */
export const rawPostHead = (cl: number | string, extra = ''): string =>
  `POST /predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/csv\r\nContent-Length: ${cl}\r\n${extra}\r\n`;
/** The status of a raw HTTP/1.1 answer; 0 when there is none. */
export const statusOf = (text: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
/** The body of a raw HTTP/1.1 answer, unchunked when it came chunked. */
export const bodyOf = (text: string): string => {
  const at = text.indexOf('\r\n\r\n');
  const head = text.slice(0, at);
  const rest = text.slice(at + 4);
  return /transfer-encoding: chunked/i.test(head) ? unchunk(rest) : rest;
};
/** A CSV upload of the feature header and one or two valid rows. */
export const CSV_ONE_ROW = `${FEATURE_HEADER}\n${VALID_ROW}\n`;
export const CSV_TWO_ROWS = `${FEATURE_HEADER}\n${VALID_ROW}\n${VALID_ROW}\n`;

/** RFC 4180 records (quotes, doubled quotes, line breaks inside quotes). */
export function parseCsvText(text: string): string[][] {
  const records: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      records.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length > 0) records.push([...row, cell]);
  return records;
}

export interface Expect {
  status: number;
  code?: string;
  /** A pattern the error's `detail` must match. */
  detail?: string;
  /** A status-200 reply instead, whose body ends with an error of `code`, is accepted too. */
  inband?: boolean;
  rows?: number;
  errors?: [number, string | null, string][];
  /** CSV output: the `note` column of the predicted rows, in order. */
  csvNotes?: string[];
  summary?: Record<string, unknown>;
}

interface JsonResult {
  results: { row: number }[];
  errors: { row: number; column: string | null; message: string }[];
  n_rows: number;
  n_rejected: number;
  error?: { code: string; detail: string };
  [k: string]: unknown;
}

/** The in-band error a streamed 200 ended with, if any (JSON `error` member, NDJSON error line). */
export function inbandError(text: string): { code: string; detail: string } | undefined {
  const trimmed = text.trim();
  if (trimmed.startsWith('{"model_version"')) {
    try {
      return (JSON.parse(trimmed) as JsonResult).error;
    } catch {
      return undefined;
    }
  }
  const last = trimmed.slice(trimmed.lastIndexOf('\n') + 1);
  try {
    const line = JSON.parse(last) as { error?: { code?: string; detail?: string }; row?: number };
    return line.row === undefined && typeof line.error?.code === 'string' ? (line.error as { code: string; detail: string }) : undefined;
  } catch {
    return undefined;
  }
}

/** Checks a reply against a corpus expectation; every reply is also held to "never a 5xx". */
export function checkReply(t: Test, reply: Reply, want: Expect, name: string): void {
  t.ok(
    reply.status >= 200 && reply.status < 500,
    `${name}: answered, not with a 5xx (got ${reply.status === 0 ? 'no answer: the connection was reset or closed' : reply.status})`,
  );
  t.equal(reply.headers['x-content-type-options'], 'nosniff', `${name}: nosniff`);
  const text = reply.body.toString('utf8');
  // A reset or a malformed chunked body would lose the answer, or leave the client unsure of it.
  t.ok(reply.complete, `${name}: the response arrived whole (not cut by a reset, well-formed)`);
  if (want.status >= 400) {
    if (want.inband === true && reply.status === 200) {
      const e = inbandError(text);
      t.equal(e?.code, want.code, `${name}: 200 streamed, then the error in-band`);
      if (want.detail !== undefined) t.match(e?.detail ?? '', new RegExp(want.detail), `${name}: in-band detail`);
      return;
    }
    t.equal(reply.status, want.status, `${name}: status`);
    t.match(String(reply.headers['content-type']), /^application\/json/, `${name}: a JSON error body`);
    let j: { detail?: unknown; code?: unknown } = {};
    try {
      j = JSON.parse(text) as typeof j;
    } catch {
      t.fail(`${name}: the error body is JSON: ${text.slice(0, 200)}`);
    }
    t.equal(j.code, want.code, `${name}: code`);
    t.ok(typeof j.detail === 'string' && j.detail.length > 10, `${name}: a detail (${String(j.detail)})`);
    if (want.detail !== undefined) t.match(j.detail, new RegExp(want.detail), `${name}: detail says why`);
    return;
  }
  t.equal(reply.status, 200, `${name}: status (${text.slice(0, 300)})`);
  if (want.csvNotes !== undefined) {
    const [head, ...records] = parseCsvText(text);
    t.same(head?.slice(-3), ['probability', 'prediction', 'risk_level'], `${name}: CSV header`);
    const at = head?.indexOf('note') ?? -1;
    t.same(
      records.map((r) => r[at]),
      want.csvNotes,
      `${name}: passed-through cells, intact`,
    );
    t.ok(
      records.every((r) => r.length === head?.length),
      `${name}: every CSV record has the header's width`,
    );
    return;
  }
  const j = JSON.parse(text) as JsonResult;
  t.equal(j.error, undefined, `${name}: no in-band error`);
  if (want.rows !== undefined) t.equal(j.n_rows, want.rows, `${name}: rows predicted`);
  t.equal(j.results.length, j.n_rows, `${name}: one result per predicted row`);
  t.equal(j.errors.length, j.n_rejected, `${name}: one error per rejected row`);
  if (want.errors !== undefined) {
    t.same(
      j.errors.map((e) => [e.row, e.column]),
      want.errors.map(([r, c]) => [r, c]),
      `${name}: rejected rows and columns`,
    );
    want.errors.forEach(([row, , pattern], i) => t.match(j.errors[i]?.message ?? '', new RegExp(pattern), `${name}: row ${row} says why`));
  }
  const seen = [...j.results.map((r) => r.row), ...j.errors.map((e) => e.row)].sort((a, b) => a - b);
  t.same(
    seen,
    Array.from({ length: j.n_rows + j.n_rejected }, (_, i) => i),
    `${name}: every row number once, as a result or an error`,
  );
  for (const [k, v] of Object.entries(want.summary ?? {})) t.same(j[k], v, `${name}: ${k}`);
}

/** The server answers /health and has no upload left in flight (waits for teardown). */
export async function settled(t: Test, srv: TestServer, name: string, ms = 5000): Promise<void> {
  const until = performance.now() + ms;
  while (srv.service.state.uploads.size > 0 && performance.now() < until) await sleep(10);
  t.equal(srv.service.state.uploads.size, 0, `${name}: no upload left in flight`);
  const h = await fetch(`${srv.url}/health`, { signal: AbortSignal.timeout(2000) });
  t.equal(h.status, 200, `${name}: /health answers`);
  await h.text();
}
