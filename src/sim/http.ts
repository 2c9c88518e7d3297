// Sends rows as the original traffic daemon did: POST /predict, multipart, the CSV in a field
// named `file`. Uses Node's fetch, FormData and Blob, so it needs no client library.
import type { SendResult } from './loop.js';

/** The /predict URL for a base URL (`http://host:8000`) or a URL already ending in /predict. */
export function predictUrl(base: string): URL {
  const u = new URL(base);
  if (!/\/predict\/?$/.test(u.pathname)) u.pathname = `${u.pathname.replace(/\/+$/, '')}/predict`;
  return u;
}

export interface PostOptions {
  apiKey?: string | undefined;
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

export async function postCsv(url: URL, csv: string, o: PostOptions = {}): Promise<SendResult> {
  const form = new FormData();
  form.append('file', new Blob([csv], { type: 'text/csv' }), 'simulated.csv');
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 30_000);
  const res = await fetch(url, {
    method: 'POST',
    body: form,
    headers: { accept: 'application/json', ...(o.apiKey === undefined ? {} : { authorization: `Bearer ${o.apiKey}` }) },
    signal: o.signal === undefined ? timeout : AbortSignal.any([timeout, o.signal]),
  });
  const text = await res.text();
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
