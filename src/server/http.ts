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
}

export function exchange(res: HttpResponse): Exchange {
  const ex: Exchange = { res, aborted: false, started: false, status: 200, onAbort: [] };
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
 * Sends a whole response (corked, as required outside the handler's first tick). An error sent
 * before the body was read to its end closes the connection, so the client stops uploading.
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

/** Error body as the original service gave it: `{"detail": …}`, plus a stable code. */
export function sendError(ex: Exchange, err: unknown, opts: { headers?: readonly (readonly [string, string])[]; close?: boolean } = {}): number {
  const e = toDriftlineError(err);
  const status = e.status === 499 ? 400 : e.status;
  sendJson(ex, status, e.toJSON(), opts.headers ?? [], opts.close === true);
  return status;
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
    if (ok) return cb();
    this.waiting = cb;
    ex.res.onWritable(() => {
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
 */
export class RequestBody extends Readable {
  bytes = 0;
  private paused = false;

  constructor(private readonly ex: Exchange, private readonly opts: { maxBytes: number; idleMs: number }) {
    super({ highWaterMark: 256 * 1024 });
    let idle = setTimeout(() => this.timeout(), opts.idleMs);
    ex.onAbort.push(() => {
      clearTimeout(idle);
      this.destroy(new DriftlineError('DL_ERR_ABORTED', 'The client went away'));
    });
    ex.res.onData((ab, isLast) => {
      clearTimeout(idle);
      if (this.destroyed) return;
      this.bytes += ab.byteLength;
      if (this.bytes > opts.maxBytes) {
        this.destroy(new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `The body is larger than ${opts.maxBytes} bytes (MAX_UPLOAD_BYTES)`));
        return;
      }
      const more = ab.byteLength === 0 || this.push(Buffer.from(ab.slice(0)));
      if (isLast) {
        this.push(null);
        return;
      }
      idle = setTimeout(() => this.timeout(), opts.idleMs);
      if (!more && !this.paused) {
        this.paused = true;
        ex.res.pause();
      }
    });
    this.once('close', () => clearTimeout(idle));
  }

  override _read(): void {
    if (this.paused && !this.ex.aborted) {
      this.paused = false;
      this.ex.res.resume();
    }
  }

  private timeout(): void {
    if (!this.readableEnded) {
      this.destroy(new DriftlineError('DL_ERR_TIMEOUT', `No request data for ${this.opts.idleMs} ms (REQUEST_IDLE_TIMEOUT_MS)`));
    }
  }
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
