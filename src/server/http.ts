import { performance } from 'node:perf_hooks';
import { Readable, Writable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';
import { DriftlineError, toDriftlineError } from '../errors.js';

const REASONS: Record<number, string> = {
  200: 'OK', 204: 'No Content', 304: 'Not Modified', 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found',
  405: 'Method Not Allowed', 406: 'Not Acceptable', 408: 'Request Timeout', 413: 'Payload Too Large',
  415: 'Unsupported Media Type', 429: 'Too Many Requests', 499: 'Client Closed Request', 500: 'Internal Server Error', 503: 'Service Unavailable',
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

/**
 * Per-request state shared by the route and the stream adapters. uWS invalidates `res` on
 * abort; every write checks `aborted` first.
 */
export interface Exchange {
  res: HttpResponse;
  aborted: boolean;
  /** Status and headers are out; from here on only the body can follow. */
  started: boolean;
  status: number;
  onAbort: (() => void)[];
  /** performance.now() of the last progress either way: body bytes in, or response bytes taken. */
  active: number;
  /** We have paused the upload (the pipeline is full); see holdUpload. */
  uploadPaused: boolean;
  /** A re-pause is scheduled for the next tick. */
  repauseQueued: boolean;
}

export function exchange(res: HttpResponse): Exchange {
  const ex: Exchange = { res, aborted: false, started: false, status: 200, onAbort: [], active: performance.now(), uploadPaused: false, repauseQueued: false };
  res.onAborted(() => {
    ex.aborted = true;
    for (const f of ex.onAbort) f();
  });
  return ex;
}

function writeHead(ex: Exchange, status: number, headers: readonly (readonly [string, string])[]): void {
  ex.res.writeStatus(statusLine(status));
  for (const [k, v] of SECURITY_HEADERS) ex.res.writeHeader(k, v);
  for (const [k, v] of headers) ex.res.writeHeader(k, v);
  ex.started = true;
  ex.status = status;
}

/**
 * Sends a whole response (corked, as required outside the handler's first tick); `close` ends
 * the connection after it. For an answer given before the request body was read to its end,
 * see sendError's `close`.
 */
export function send(ex: Exchange, status: number, body: string | Buffer, headers: readonly (readonly [string, string])[] = [], close = false): void {
  if (ex.aborted || ex.started) return;
  ex.res.cork(() => {
    writeHead(ex, status, headers);
    ex.res.end(body, close);
  });
}

export function sendJson(ex: Exchange, status: number, body: unknown, headers: readonly (readonly [string, string])[] = [], close = false): void {
  send(ex, status, JSON.stringify(body), [['content-type', 'application/json'], ...headers], close);
}

/**
 * Error body as the original service gave it: `{"detail": …}`, plus a stable code. `close`
 * says the request body was not read to its end: the answer then goes out with endAfterLinger.
 */
export function sendError(ex: Exchange, err: unknown, opts: { headers?: readonly (readonly [string, string])[]; close?: boolean } = {}): number {
  const e = toDriftlineError(err);
  const status = e.status === 499 ? 400 : e.status;
  const headers = [['content-type', 'application/json'] as const, ...(opts.headers ?? [])];
  if (opts.close !== true) send(ex, status, JSON.stringify(e.toJSON()), headers);
  else if (!ex.aborted && !ex.started) {
    ex.res.cork(() => {
      writeHead(ex, status, [...headers, ['connection', 'close']]);
      ex.res.write(JSON.stringify(e.toJSON()));
    });
    endAfterLinger(ex);
  }
  return status;
}

// An answered upload's unread rest is read and dropped until the client has been quiet this
// long, or for this long at most (nginx's lingering_timeout / lingering_time, scaled down).
const LINGER_QUIET_MS = 100;
const LINGER_MAX_MS = 1000;

/**
 * Ends a response (already written, not yet ended) whose request body is still arriving, and
 * closes the connection. Ending it at once closes the socket with the upload unread; the kernel
 * then resets the connection, and a client still sending gets ECONNRESET instead of the answer
 * that was already on its way (uWS closes such a socket itself, whatever `end` is told). So the
 * upload is drained first: until the client finishes it, falls quiet (it has read the answer
 * and stopped), or LINGER_MAX_MS pass.
 */
export function endAfterLinger(ex: Exchange): void {
  if (ex.aborted) return;
  const t0 = performance.now();
  ex.active = t0;
  let ended = false;
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    // Not end(…, true): once the head is out, uWS writes its "Connection: close" header line
    // into the chunked body. With upload bytes still unread it closes the socket anyway.
    if (!ex.aborted) ex.res.cork(() => ex.res.end());
  };
  const check = (): void => {
    const now = performance.now();
    if (now - t0 >= LINGER_MAX_MS || now - ex.active >= LINGER_QUIET_MS) finish();
    else timer = setTimeout(check, LINGER_QUIET_MS / 2);
  };
  let timer = setTimeout(check, LINGER_QUIET_MS);
  ex.onAbort.push(() => {
    ended = true;
    clearTimeout(timer);
  });
  // Replaces the body's handler; a body we had paused must flow again to be drained.
  ex.res.onData((_chunk, isLast) => {
    ex.active = performance.now();
    if (isLast) setImmediate(finish);
  });
  ex.uploadPaused = false;
  ex.res.resume();
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

  override _final(cb: (err?: Error | null) => void): void {
    const ex = this.ex;
    if (!ex.aborted) {
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
 * The request body as a Readable. uWS hands chunks that are neutered after the callback, so
 * each is copied; when the pipeline is full the socket is paused (res.pause) until read again.
 *
 * The idle timeout counts progress either way (`Exchange.active`). While the response is backed
 * up we pause the upload ourselves, and a client reading its results slowly must not be cut
 * off for "sending nothing"; one that neither sends nor reads is.
 */
export class RequestBody extends Readable {
  bytes = 0;

  constructor(private readonly ex: Exchange, private readonly opts: { maxBytes: number; idleMs: number }) {
    super({ highWaterMark: 256 * 1024 });
    ex.active = performance.now();
    // One timer re-armed for what is left, rather than cleared and set again on every chunk.
    const check = (): void => {
      if (this.destroyed || this.readableEnded) return;
      const quiet = performance.now() - ex.active;
      if (quiet >= opts.idleMs) this.timeout();
      else idle = setTimeout(check, opts.idleMs - quiet);
    };
    let idle = setTimeout(check, opts.idleMs);
    ex.onAbort.push(() => {
      clearTimeout(idle);
      this.destroy(new DriftlineError('DL_ERR_ABORTED', 'The client went away'));
    });
    ex.res.onData((ab, isLast) => {
      ex.active = performance.now();
      if (this.destroyed) return;
      this.bytes += ab.byteLength;
      if (this.bytes > opts.maxBytes) {
        this.destroy(new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The body is larger than ${opts.maxBytes} bytes (MAX_UPLOAD_BYTES)`));
        return;
      }
      const more = ab.byteLength === 0 || this.push(Buffer.from(ab.slice(0)));
      if (isLast) {
        clearTimeout(idle);
        this.push(null);
        return;
      }
      // On every chunk that finds the buffer full, not only the first: uWS may have undone
      // the last pause (holdUpload).
      if (!more) holdUpload(ex);
    });
    this.once('close', () => clearTimeout(idle));
  }

  override _read(): void {
    if (this.ex.uploadPaused && !this.ex.aborted) {
      this.ex.uploadPaused = false;
      this.ex.res.resume();
    }
  }

  private timeout(): void {
    if (!this.readableEnded) {
      const what = this.ex.started ? 'No request data arrived and no response data was read' : 'No request data';
      this.destroy(new DriftlineError('DL_ERR_TIMEOUT', `${what} for ${this.opts.idleMs} ms (REQUEST_IDLE_TIMEOUT_MS)`));
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
    let timer: NodeJS.Timeout | undefined;
    const arm = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => reject(new DriftlineError('DL_ERR_TIMEOUT', `No request data for ${idleMs} ms (REQUEST_IDLE_TIMEOUT_MS)`)), idleMs);
    };
    ex.onAbort.push(() => {
      clearTimeout(timer);
      reject(new DriftlineError('DL_ERR_ABORTED', 'The client went away'));
    });
    arm();
    ex.res.onData((ab, isLast) => {
      ex.active = performance.now();
      const n = Math.min(ab.byteLength, length - at);
      if (n > 0) Buffer.from(ab, 0, n).copy(buf, at);
      at += n;
      if (!isLast) return arm();
      clearTimeout(timer);
      resolve(at === length ? buf : buf.subarray(0, at));
    });
  });
}

/** Reads a small body whole (feedback, subscriptions), bounded by maxBytes. */
export async function readSmallBody(ex: Exchange, maxBytes: number, idleMs: number): Promise<Buffer> {
  const body = new RequestBody(ex, { maxBytes, idleMs });
  const parts: Buffer[] = [];
  for await (const c of body) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** Copies what a handler needs from the stack-allocated request before any await. */
export function headersOf(req: { getHeader(k: string): string }, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.map((k) => [k, req.getHeader(k)]));
}
