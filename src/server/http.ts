import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { DriftlineError, toDriftlineError } from '../errors.js';

const REASONS: Record<number, string> = {
  200: 'OK',
  204: 'No Content',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  408: 'Request Timeout',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  499: 'Client Closed Request',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export const statusLine = (code: number): string => `${code} ${REASONS[code] ?? 'Status'}`;

/** Headers every response carries; the dashboard's CSP allows only this origin. */
export const SECURITY_HEADERS: readonly (readonly [string, string])[] = [
  ['x-content-type-options', 'nosniff'],
  ['referrer-policy', 'no-referrer'],
  ['x-frame-options', 'DENY'],
  ['cross-origin-resource-policy', 'same-origin'],
];

export const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self' ws: wss:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** What the service asks of a client sending a body, besides the idle timeout. */
export interface ReceiveRules {
  /** Body bytes per second, averaged over each window in which the upload is not paused; 0: no rule. */
  minRate: number;
  windowMs: number;
}

/** Outside a front door (tests that drive a stream adapter by hand) only the idle timeout applies. */
const NO_RATE: ReceiveRules = { minRate: 0, windowMs: 10_000 };

/**
 * Per-request state shared by the route and the stream adapters. uWS invalidates `res` on
 * abort; every write checks `aborted` first.
 */
export interface Exchange {
  res: HttpResponse;
  aborted: boolean;
  /** Status and headers are out; from here on only the body can follow. */
  started: boolean;
  /** The response has ended (a HEAD response ends with its head). */
  ended: boolean;
  status: number;
  onAbort: (() => void)[];
  /** performance.now() of the last progress either way: body bytes in, or response bytes taken. */
  active: number;
  /** We have paused the upload (the pipeline is full); see holdUpload. */
  uploadPaused: boolean;
  /** A re-pause is scheduled for the next tick. */
  repauseQueued: boolean;
  /** A HEAD request: answered as GET is, without the body. */
  head: boolean;
  /** The request body: none declared, not read yet, being read, read to its end. */
  body: 'none' | 'unread' | 'reading' | 'done';
  /** Body bytes received so far. */
  received: number;
  /** Milliseconds the upload has spent paused by us, and since when it is paused now. */
  pausedMs: number;
  pausedSince: number | undefined;
  receive: ReceiveRules;
}

const exchanges = new WeakMap<HttpResponse, Exchange>();

/** The request's Exchange: the one its front door made (see routes), or a new one. */
export function exchange(res: HttpResponse): Exchange {
  return exchanges.get(res) ?? newExchange(res);
}

function newExchange(res: HttpResponse): Exchange {
  const ex: Exchange = {
    res,
    aborted: false,
    started: false,
    ended: false,
    status: 200,
    onAbort: [],
    active: performance.now(),
    uploadPaused: false,
    repauseQueued: false,
    head: false,
    body: 'none',
    received: 0,
    pausedMs: 0,
    pausedSince: undefined,
    receive: NO_RATE,
  };
  res.onAborted(() => {
    ex.aborted = true;
    for (const f of ex.onAbort) f();
  });
  exchanges.set(res, ex);
  return ex;
}

export type Handler = (res: HttpResponse, req: HttpRequest) => void;

/**
 * Request framing uWS lets through and a proxy may read otherwise (request smuggling): a second
 * Content-Length (uWS takes the first and parses the rest of the body as a new request), a
 * Transfer-Encoding other than one `chunked` (uWS waits for a body it will never frame). uWS
 * itself drops Content-Length with Transfer-Encoding before any handler; it is checked here too
 * in case a later version lets it through.
 */
function framingProblem(req: HttpRequest): string | undefined {
  let lengths = 0;
  let encodings = 0;
  let chunked = true;
  req.forEach((k, v) => {
    if (k === 'content-length') lengths++;
    else if (k === 'transfer-encoding') {
      encodings++;
      if (v.trim().toLowerCase() !== 'chunked') chunked = false;
    }
  });
  if (lengths > 1) return 'The request has more than one Content-Length header';
  if (lengths > 0 && encodings > 0) return 'The request has both Content-Length and Transfer-Encoding';
  if (encodings > 1 || !chunked) return 'The only Transfer-Encoding accepted is a single `chunked`';
  return undefined;
}

/**
 * Registers routes behind one front door, which every request passes before its handler: it
 * makes the Exchange (noting whether a body is coming, so that any early answer drains it; and
 * the receive rules), refuses ambiguous framing with 400 and a closed connection, and answers
 * HEAD on every GET route as GET would, without the body. Headers are walked only when a body
 * is declared, so a plain GET costs two header lookups.
 */
export function routes(
  app: TemplatedApp,
  receive: ReceiveRules,
): { get(p: string, h: Handler): void; post(p: string, h: Handler): void; any(p: string, h: Handler): void } {
  const door =
    (h: Handler, head = false): Handler =>
    (res, req) => {
      const ex = newExchange(res);
      ex.receive = receive;
      ex.head = head;
      const length = req.getHeader('content-length');
      const encoding = req.getHeader('transfer-encoding');
      if (length !== '' || encoding !== '') {
        ex.body = length === '0' && encoding === '' ? 'none' : 'unread';
        const problem = framingProblem(req);
        if (problem !== undefined) return refuseFraming(ex, new DriftlineError('DL_ERR_BAD_FRAMING', problem));
      }
      h(res, req);
    };
  return {
    get: (p, h) => {
      app.get(p, door(h));
      app.head(p, door(h, true));
    },
    post: (p, h) => void app.post(p, door(h)),
    any: (p, h) => void app.any(p, door(h)),
  };
}

function writeHead(ex: Exchange, status: number, headers: readonly (readonly [string, string])[]): void {
  ex.res.writeStatus(statusLine(status));
  for (const [k, v] of SECURITY_HEADERS) ex.res.writeHeader(k, v);
  for (const [k, v] of headers) ex.res.writeHeader(k, v);
  ex.started = true;
  ex.status = status;
}

/**
 * 400 for a request whose body cannot be framed safely, and the connection closed, so that no
 * byte after it is taken for a request. Not from the handler: uWS would go on to route what
 * follows in the same read. A tick later uWS has either closed the connection itself (a
 * request followed while this one was unanswered: it is never routed) or not, and then
 * end(…, true) answers and closes.
 */
function refuseFraming(ex: Exchange, err: DriftlineError): void {
  setImmediate(() => {
    if (ex.aborted || ex.started) return;
    ex.res.cork(() => {
      writeHead(ex, err.status, [['content-type', 'application/json']]);
      ex.res.end(JSON.stringify(err.toJSON()), true);
    });
    ex.ended = true;
  });
}

/** Ends the response with `body`, or, for HEAD, with its length and no body bytes. */
function endWith(ex: Exchange, body: string | Buffer): void {
  if (ex.head) {
    ex.res.writeHeader('content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length));
    ex.res.endWithoutBody();
  } else ex.res.end(body);
  ex.ended = true;
}

/**
 * Sends a whole response (corked, as required outside the handler's first tick). An answer
 * given while the request body is still unread goes out through answerBeforeBody.
 */
export function send(ex: Exchange, status: number, body: string | Buffer, headers: readonly (readonly [string, string])[] = []): void {
  if (ex.aborted || ex.started) return;
  if (ex.body === 'unread' || ex.body === 'reading') return answerBeforeBody(ex, status, body, headers);
  ex.res.cork(() => {
    writeHead(ex, status, headers);
    endWith(ex, body);
  });
}

export function sendJson(ex: Exchange, status: number, body: unknown, headers: readonly (readonly [string, string])[] = []): void {
  send(ex, status, JSON.stringify(body), [['content-type', 'application/json'], ...headers]);
}

/**
 * Error body as the original service gave it: `{"detail": …}`, plus a stable code. Where the
 * request body stands (unread, being read) the Exchange knows, so an early answer needs no flag.
 */
export function sendError(ex: Exchange, err: unknown, opts: { headers?: readonly (readonly [string, string])[] } = {}): number {
  const e = toDriftlineError(err);
  const status = e.status === 499 ? 400 : e.status;
  // An error that knows when a retry may succeed says so, wherever it was raised.
  const retry: [string, string][] =
    e.retryAfterS !== undefined && !opts.headers?.some(([k]) => k === 'retry-after')
      ? [['retry-after', String(Math.max(1, Math.ceil(e.retryAfterS)))]]
      : [];
  send(ex, status, JSON.stringify(e.toJSON()), [['content-type', 'application/json'], ...retry, ...(opts.headers ?? [])]);
  return status;
}

// An answered upload's unread rest is read and dropped until the client has been quiet this
// long, or for this long or this many bytes at most (nginx's lingering_timeout /
// lingering_time, scaled down; the bytes bound what a fast client can make us read for nothing).
// Quiet counts from the client's last byte, before the answer or after: one still sending must
// pause longer than a trickle's gaps (a byte every 200 ms in test/slow-client-receive.test.ts).
const LINGER_QUIET_MS = 500;
const LINGER_CHECK_MS = 50;
const LINGER_MAX_MS = 2000;
const LINGER_MAX_BYTES = 8 * 1024 * 1024;

/**
 * The one path for an answer given before the request body was read to its end (a refusal,
 * a limit, a timeout). Closing the connection with the upload unread makes the kernel reset
 * it, and a client still sending gets ECONNRESET instead of the answer; leaving the request
 * unanswered until its body is read makes a client that waits for the answer hang. So:
 *
 * - if the rest of the body is already here (it is handed over right after the handler
 *   returns, from the same read), the answer goes out once it is read, as any other, and the
 *   connection stays open: a request pipelined behind it is answered too;
 * - otherwise the answer goes out at once with `Connection: close`, and the connection is
 *   closed after lingering (see linger).
 */
function answerBeforeBody(ex: Exchange, status: number, body: string | Buffer, headers: readonly (readonly [string, string])[]): void {
  let answered = false;
  const answerNow = (): void => {
    if (answered || ex.aborted) return;
    answered = true;
    ex.res.cork(() => {
      writeHead(ex, status, [...headers, ['connection', 'close']]);
      if (!ex.head) ex.res.write(body);
    });
    linger(ex, true);
  };
  if (ex.body === 'done') {
    answerNow();
    return;
  }
  drain(ex, (isLast) => {
    if (!isLast || answered || ex.aborted) return;
    answered = true;
    ex.res.cork(() => {
      writeHead(ex, status, headers);
      endWith(ex, body);
    });
  });
  setImmediate(answerNow);
}

/** What every body reader notes of an arriving chunk: progress, bytes, whether it was the last. */
function received(ex: Exchange, bytes: number, isLast: boolean): void {
  ex.active = performance.now();
  ex.received += bytes;
  if (isLast) ex.body = 'done';
}

/** Reads and drops the rest of the body (resuming it if we had paused it). */
function drain(ex: Exchange, then: (isLast: boolean) => void): void {
  ex.body = 'reading';
  // Replaces the body's handler; a body we had paused must flow again to be drained.
  ex.res.onData((ab, isLast) => {
    received(ex, ab.byteLength, isLast);
    then(isLast);
  });
  if (ex.uploadPaused) {
    ex.uploadPaused = false;
    ex.res.resume();
  }
}

/**
 * Ends a response (already written, not yet ended) whose request body is still arriving, and
 * closes the connection: the upload is drained first, until the client finishes it, falls
 * quiet (it has read the answer and stopped), or LINGER_MAX_MS / LINGER_MAX_BYTES pass.
 */
export function endAfterLinger(ex: Exchange): void {
  linger(ex, false);
}

/**
 * `cut`: an answer refusing the body; a client still sending when lingering is over is not
 * listening, and is cut off (the answer went out long ago). Not so for results streamed in
 * step with the upload: that client reads them as it sends, and gets the end of the response.
 */
function linger(ex: Exchange, cut: boolean): void {
  if (ex.aborted) return;
  const t0 = performance.now();
  const from = ex.received;
  let ended = false;
  const finish = (stillSending: boolean): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    if (ex.aborted) return;
    // Otherwise the response ends, and the client closes as told (not end(…, true): once the
    // head is out, uWS writes its "Connection: close" header line into the chunked body).
    if (stillSending && cut) ex.res.close();
    else {
      ex.res.cork(() => {
        if (ex.head) ex.res.endWithoutBody();
        else ex.res.end();
      });
      ex.ended = true;
    }
  };
  const check = (): void => {
    const now = performance.now();
    if (now - ex.active >= LINGER_QUIET_MS) finish(false);
    else if (now - t0 >= LINGER_MAX_MS) finish(true);
    else timer = setTimeout(check, LINGER_CHECK_MS);
  };
  let timer = setTimeout(check, 0);
  ex.onAbort.push(() => {
    ended = true;
    clearTimeout(timer);
  });
  if (ex.body === 'done') return finish(false);
  drain(ex, (isLast) => {
    if (isLast) setImmediate(() => finish(false));
    else if (ex.received - from > LINGER_MAX_BYTES) finish(true);
  });
}

/**
 * Pauses the upload, and keeps it paused. uWS does not: a write that backs up makes uSockets
 * poll the socket for reading again, and a pause made inside one of uWS's callbacks while a
 * write is backed up is undone when the callback returns. Measured: a client that never read
 * its results had the server take its whole 30 MB upload into memory, res.pause() on every
 * chunk notwithstanding; paused again from outside the callback, the server read 0.1 MB
 * (test/hardening-slow-reader.test.ts keeps it so). So after anything that can undo it, the
 * pause is made again a tick later.
 */
function holdUpload(ex: Exchange): void {
  ex.uploadPaused = true;
  ex.pausedSince ??= performance.now();
  ex.res.pause();
  repauseSoon(ex);
}

function repauseSoon(ex: Exchange): void {
  if (ex.repauseQueued) return;
  ex.repauseQueued = true;
  setImmediate(() => {
    ex.repauseQueued = false;
    if (ex.uploadPaused && !ex.aborted) ex.res.pause();
  });
}

/**
 * The response as a Writable: status and headers go out with the first byte (so a failure
 * before any output can still become an error status), then chunked writes that respect uWS
 * backpressure through onWritable.
 */
export class ResponseSink extends Writable {
  /** The callback of a write waiting for uWS to drain. */
  private waiting: ((err?: Error) => void) | undefined;

  constructor(
    private readonly ex: Exchange,
    private readonly head: () => { status: number; headers: readonly (readonly [string, string])[] },
  ) {
    super({ highWaterMark: 64 * 1024, decodeStrings: false });
    ex.onAbort.push(() => this.release(new DriftlineError('DL_ERR_ABORTED', 'The client went away')));
  }

  private release(err?: Error): void {
    const cb = this.waiting;
    this.waiting = undefined;
    cb?.(err);
  }

  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const ex = this.ex;
    if (ex.aborted) return cb(new DriftlineError('DL_ERR_ABORTED', 'The client went away'));
    // HEAD: the head goes out with the first byte, as for GET; the bytes themselves are dropped.
    if (ex.head) {
      if (!ex.started) ex.res.cork(() => this.endHead());
      return cb();
    }
    let ok = true;
    ex.res.cork(() => {
      if (!ex.started) {
        const { status, headers } = this.head();
        writeHead(ex, status, headers);
      }
      ok = ex.res.write(chunk);
    });
    if (ok) {
      ex.active = performance.now();
      return cb();
    }
    if (ex.uploadPaused) repauseSoon(ex);
    this.waiting = cb;
    ex.res.onWritable(() => {
      ex.active = performance.now();
      if (ex.uploadPaused) repauseSoon(ex);
      this.release();
      return true;
    });
  }

  private endHead(): void {
    const { status, headers } = this.head();
    writeHead(this.ex, status, headers);
    this.ex.res.endWithoutBody();
    this.ex.ended = true;
  }

  override _final(cb: (err?: Error | null) => void): void {
    const ex = this.ex;
    if (ex.head) {
      if (!ex.aborted && !ex.started) ex.res.cork(() => this.endHead());
    } else if (!ex.aborted) {
      ex.res.cork(() => {
        if (!ex.started) {
          const { status, headers } = this.head();
          writeHead(ex, status, headers);
        }
        ex.res.end();
      });
    }
    cb();
  }
}

/**
 * uWS drops, unanswered, a body that averages under 16 KiB/s over its ~10 s timer (and a body
 * that sends nothing for as long). While the service reads a body its own rules govern instead
 * (REQUEST_IDLE_TIMEOUT_MS, REQUEST_MIN_RECEIVE_RATE), and they answer: so the library's timer
 * is re-armed on every check. resume() re-arms it (pause() does not touch it); an upload we hold
 * paused is paused again in the same tick, before the socket can be read.
 */
function holdOffLibraryTimer(ex: Exchange): void {
  ex.res.pause();
  ex.res.resume();
  if (ex.uploadPaused) ex.res.pause();
}

const pausedTotal = (ex: Exchange, now: number): number => ex.pausedMs + (ex.pausedSince === undefined ? 0 : now - ex.pausedSince);

/**
 * The receive rules every body reader is held to, in one place: no progress either way for
 * idleMs (body bytes in, response bytes taken), or, while the upload is not paused by us, less
 * than ex.receive.minRate bytes/s over a window. `fail` gets the DL_ERR_TIMEOUT; the reader
 * turns it into a 408, or an in-band error once the response has started. Returns a stop.
 */
function guardReceive(ex: Exchange, idleMs: number, fail: (err: DriftlineError) => void): () => void {
  const { minRate, windowMs } = ex.receive;
  // Checks at least every second: the library's timer fires 8 s after it was armed at the soonest.
  const period = Math.max(10, Math.min(1000, idleMs / 4, windowMs / 4));
  let from = performance.now();
  let fromBytes = ex.received;
  let fromPaused = pausedTotal(ex, from);
  let stopped = false;
  const tick = (): void => {
    if (stopped || ex.aborted || ex.body === 'done') return;
    const now = performance.now();
    if (now - ex.active >= idleMs) {
      const what = ex.started ? 'No request data arrived and no response data was read' : 'No request data';
      return fail(new DriftlineError('DL_ERR_TIMEOUT', `${what} for ${idleMs} ms (REQUEST_IDLE_TIMEOUT_MS)`));
    }
    const reading = now - from - (pausedTotal(ex, now) - fromPaused);
    if (reading >= windowMs) {
      const rate = ((ex.received - fromBytes) * 1000) / reading;
      if (rate < minRate) {
        return fail(
          new DriftlineError(
            'DL_ERR_TIMEOUT',
            `The body arrived at ${Math.floor(rate)} bytes/s over ${Math.round(reading)} ms, below REQUEST_MIN_RECEIVE_RATE (${minRate} bytes/s)`,
          ),
        );
      }
      from = now;
      fromBytes = ex.received;
      fromPaused = pausedTotal(ex, now);
    }
    holdOffLibraryTimer(ex);
    timer = setTimeout(tick, period);
  };
  let timer = setTimeout(tick, period);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}

/**
 * The request body as a Readable. uWS hands chunks that are neutered after the callback, so
 * each is copied; when the pipeline is full the socket is paused (res.pause) until read again.
 *
 * The idle timeout counts progress either way (`Exchange.active`). While the response is backed
 * up we pause the upload ourselves, and a client reading its results slowly must not be cut
 * off for "sending nothing"; one that neither sends nor reads is.
 */
export class RequestBody extends Readable {
  bytes = 0;

  constructor(
    private readonly ex: Exchange,
    opts: { maxBytes: number; idleMs: number },
  ) {
    super({ highWaterMark: 256 * 1024 });
    ex.active = performance.now();
    ex.body = 'reading';
    const stop = guardReceive(ex, opts.idleMs, (err) => {
      if (!this.readableEnded) this.destroy(err);
    });
    ex.onAbort.push(() => {
      stop();
      this.destroy(new DriftlineError('DL_ERR_ABORTED', 'The client went away'));
    });
    ex.res.onData((ab, isLast) => {
      received(ex, ab.byteLength, isLast);
      if (this.destroyed) return;
      this.bytes += ab.byteLength;
      if (this.bytes > opts.maxBytes) {
        this.destroy(new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The body is larger than ${opts.maxBytes} bytes (MAX_UPLOAD_BYTES)`));
        return;
      }
      const more = ab.byteLength === 0 || this.push(Buffer.from(ab.slice(0)));
      if (isLast) {
        stop();
        this.push(null);
        return;
      }
      // On every chunk that finds the buffer full, not only the first: uWS may have undone
      // the last pause (holdUpload).
      if (!more) holdUpload(ex);
    });
    this.once('close', stop);
  }

  override _read(): void {
    const ex = this.ex;
    if (ex.uploadPaused && !ex.aborted) {
      ex.uploadPaused = false;
      if (ex.pausedSince !== undefined) ex.pausedMs += performance.now() - ex.pausedSince;
      ex.pausedSince = undefined;
      ex.res.resume();
    }
  }
}

/**
 * Reads a body of known, small length whole, straight into one buffer: the fast path for small
 * uploads, without the Readable that a streamed upload needs.
 */
export function readDeclaredBody(ex: Exchange, length: number, idleMs: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const buf = Buffer.allocUnsafe(length);
    let at = 0;
    ex.active = performance.now();
    ex.body = 'reading';
    const stop = guardReceive(ex, idleMs, reject);
    ex.onAbort.push(() => {
      stop();
      reject(new DriftlineError('DL_ERR_ABORTED', 'The client went away'));
    });
    ex.res.onData((ab, isLast) => {
      received(ex, ab.byteLength, isLast);
      const n = Math.min(ab.byteLength, length - at);
      if (n > 0) Buffer.from(ab, 0, n).copy(buf, at);
      at += n;
      if (!isLast) return;
      stop();
      resolve(at === length ? buf : buf.subarray(0, at));
    });
  });
}

/** Copies what a handler needs from the stack-allocated request before any await. */
export function headersOf(req: { getHeader(k: string): string }, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, req.getHeader(k)]));
}
