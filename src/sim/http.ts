// Sends rows as the original traffic daemon did: POST /predict, multipart, the CSV in a field
// named `file`. Uses Node's fetch, FormData and Blob, so it needs no client library.
import type { SendResult } from './loop.js';

/** The /predict URL for a base URL (`http://host:8000`) or a URL already ending in /predict. */
export function predictUrl(base: string): URL {
  const u = new URL(base);
  if (!/\/predict\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/predict`;
  return u;
}

// What the system call or undici said, in words a user can act on; fetch itself only says
// "fetch failed" and keeps the reason in `cause`.
const CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host name lookup failed (DNS unavailable)',
  ETIMEDOUT: 'connection timed out',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EADDRNOTAVAIL: 'address not available',
  UND_ERR_SOCKET: 'connection closed before a response',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
};

/** The first error code along err.cause (and an AggregateError's errors, as when every address of localhost refused). */
function causeCode(err: unknown, depth = 0): string | undefined {
  if (depth > 4 || err === null || typeof err !== 'object') return undefined;
  const e = err as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') return e.code;
  for (const inner of [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])]) {
    const code = causeCode(inner, depth + 1);
    if (code !== undefined) return code;
  }
  return undefined;
}

/** Why no HTTP response came from `url`, e.g. `connection refused at http://127.0.0.1:8000 (ECONNREFUSED)`. */
export function whyNoResponse(err: unknown, url: URL, timeoutMs: number): string {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') return `no response within ${timeoutMs / 1000} s from ${url.origin}`;
  if (name === 'AbortError') return `stopped before ${url.origin} answered`;
  const code = causeCode(err);
  if (code !== undefined) return `${CAUSES[code] ?? code} at ${url.origin}${CAUSES[code] === undefined ? '' : ` (${code})`}`;
  // No code (undici's own refusals, such as "bad port"): its message is the reason.
  const inner = err instanceof Error && err.cause instanceof Error ? err.cause : err;
  return `${inner instanceof Error ? inner.message : String(inner)} at ${url.origin}`;
}

export interface PostOptions {
  apiKey?: string | undefined;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

export async function postCsv(url: URL, csv: string, o: PostOptions = {}): Promise<SendResult> {
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'simulated.csv');
  const timeoutMs = o.timeoutMs ?? 30_000;
  const timeout = AbortSignal.timeout(timeoutMs);
  let res: Response;
  let text: string;
  try {
    res = await fetch(url, {
      method: 'POST',
      body: form,
      headers: { accept: 'application/json', ...(o.apiKey === undefined ? {} : { authorization: `Bearer ${o.apiKey}` }) },
      signal: o.signal === undefined ? timeout : AbortSignal.any([timeout, o.signal]),
    });
    text = await res.text();
  } catch (err) {
    throw new Error(whyNoResponse(err, url, timeoutMs), { cause: err });
  }
  let body: { n_rows?: unknown; n_rejected?: unknown; detail?: unknown } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // A proxy's HTML error page, say: the status says enough.
  }
  const count = (v: unknown): number => (typeof v === 'number' ? v : 0);
  return {
    status: res.status,
    n_rows: count(body.n_rows),
    n_rejected: count(body.n_rejected),
    ...(res.ok ? {} : { error: typeof body.detail === 'string' ? body.detail : `HTTP ${res.status}` }),
  };
}
