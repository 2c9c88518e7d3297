import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import csv from 'csv-parser';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { z } from 'zod';
import { DriftlineError } from '../../errors.js';
import { exchange, headersOf, readSmallBody, sendError, sendJson } from '../http.js';
import type { ServiceState } from '../state.js';

const MAX_BODY = 16 * 1024 * 1024;
const MAX_ITEMS = 100_000;

const label = z.coerce.number().refine((v) => v === 0 || v === 1, { error: 'target must be 0 or 1' });
const byRequestRow = z.object({ request_id: z.string().min(1), row: z.coerce.number().int().min(0), target: label });
const byId = z.object({ id: z.union([z.string().min(1), z.number()]).transform(String), target: label });
export const feedbackItem = z.union([byRequestRow, byId]);
type Item = z.infer<typeof feedbackItem>;

async function parseBody(body: Buffer, contentType: string): Promise<unknown[]> {
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/json') {
    let v: unknown;
    try {
      v = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new DriftlineError('DL_ERR_BAD_INPUT', `Malformed JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(v)) throw new DriftlineError('DL_ERR_BAD_INPUT', 'Feedback must be a JSON array of {request_id, row, target} or {id, target}');
    return v;
  }
  if (mime === 'text/csv') {
    const rows: unknown[] = [];
    for await (const r of Readable.from([body]).pipe(csv({ mapHeaders: ({ header }) => header.replace(/^\uFEFF/, '').trim() }))) rows.push(r);
    return rows;
  }
  throw new DriftlineError('DL_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send feedback as application/json or text/csv');
}

/**
 * POST /api/feedback: labels for predictions already logged, by (request_id, row) or by a
 * user `id` column that was passed through. All or nothing: if any id is unknown, nothing is
 * applied and the unknown ids are listed.
 */
export function feedbackRoute(s: ServiceState): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const t0 = performance.now();
    const ex = exchange(res);
    const h = headersOf(req, ['content-type', 'authorization']);
    const finish = s.track('/api/feedback', 'POST', t0);
    const denied = s.authorize(h.authorization ?? '');
    // An answer given before the body was read to its end goes out with `close` (sendError).
    if (denied !== undefined) return void finish(sendError(ex, denied, { headers: [['www-authenticate', 'Bearer']], close: true }));
    let read = false;
    void (async () => {
      try {
        const body = await readSmallBody(ex, MAX_BODY, s.config.REQUEST_IDLE_TIMEOUT_MS);
        read = true;
        const raw = await parseBody(body, h['content-type'] ?? '');
        if (raw.length === 0) throw new DriftlineError('DL_ERR_EMPTY_BODY', 'No feedback items');
        if (raw.length > MAX_ITEMS) throw new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `At most ${MAX_ITEMS} feedback items per request`);
        const items: Item[] = raw.map((r, i) => {
          const p = feedbackItem.safeParse(r);
          if (!p.success) throw new DriftlineError('DL_ERR_BAD_INPUT', `Item ${i}: expected {request_id, row, target} or {id, target} with target 0 or 1`);
          return p.data;
        });
        const pairs = items.flatMap((it) => ('request_id' in it ? [{ requestId: it.request_id, row: it.row }] : []));
        const ids = items.flatMap((it) => ('id' in it ? [it.id] : []));
        const byPair = s.store.findByRequestRow(pairs);
        const byExt = s.store.findByExtId(ids);
        const key = (it: Item): string => ('request_id' in it ? `${it.request_id}#${it.row}` : it.id);
        const found = (it: Item): number | undefined => ('request_id' in it ? byPair.get(key(it)) : byExt.get(it.id));
        const unknown = items.filter((it) => found(it) === undefined).map((it) => ('request_id' in it ? { request_id: it.request_id, row: it.row } : { id: it.id }));
        if (unknown.length > 0) {
          throw new DriftlineError('DL_ERR_FEEDBACK_UNKNOWN_IDS', `${unknown.length} of ${items.length} feedback items name no logged prediction; nothing was applied`, {
            details: { unknown: unknown.slice(0, 100), n_unknown: unknown.length },
          });
        }
        const logIds = items.map((it) => found(it)!);
        const targets = items.map((it) => it.target);
        await s.store.label(logIds, targets);
        let inWindow = 0;
        logIds.forEach((id, i) => {
          if (s.monitor.label(id, targets[i]!)) inWindow++;
        });
        sendJson(ex, 200, { labelled: items.length, in_window: inWindow });
        finish(200);
      } catch (err) {
        finish(sendError(ex, err, { close: !read }));
      }
    })();
  };
}
