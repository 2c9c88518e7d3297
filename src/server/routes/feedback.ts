import { performance } from 'node:perf_hooks';
import { Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { z } from 'zod';
import { DriftlineError, toDriftlineError } from '../../errors.js';
import { createParse, createRequireUtf8, isKeyedRow, isRowError, type Header, type Parsed } from '../../pipeline/index.js';
import { admitUpload } from '../admission.js';
import { RequestBody, exchange, headersOf, sendError, sendJson } from '../http.js';
import type { ServiceState } from '../state.js';

// Items are kept until the whole body is in (all or nothing), so both the bytes and the count
// are bounded: 100,000 items of a request id, a row and a label fit well inside 16 MiB.
const MAX_BODY = 16 * 1024 * 1024;
const MAX_ITEMS = 100_000;

const label = z.coerce.number().refine((v) => v === 0 || v === 1, { error: 'target must be 0 or 1' });
const byRequestRow = z.object({ request_id: z.string().min(1), row: z.coerce.number().int().min(0), target: label });
const byId = z.object({ id: z.union([z.string().min(1), z.number()]).transform(String), target: label });
export const feedbackItem = z.union([byRequestRow, byId]);
type Item = z.infer<typeof feedbackItem>;

/** The body's parser: the same streamed, bounded parsers as /predict (depth, MAX_FIELD_BYTES, MAX_COLUMNS). */
function parserFor(s: ServiceState, contentType: string): Transform {
  const mime = contentType.split(';')[0]!.trim().toLowerCase();
  const limits = { maxFieldBytes: s.config.MAX_FIELD_BYTES, maxColumns: s.config.MAX_COLUMNS, maxRows: MAX_ITEMS };
  if (mime === 'application/json') return createParse('json', limits);
  if (mime === 'text/csv') return createParse('csv', limits);
  throw new DriftlineError('DL_ERR_UNSUPPORTED_MEDIA_TYPE', 'Send feedback as application/json or text/csv');
}

/** Collects parsed rows as feedback items, refusing the first bad one and any beyond MAX_ITEMS. */
class FeedbackItems extends Writable {
  readonly items: Item[] = [];
  private columns: readonly string[] = [];

  constructor() {
    super({ objectMode: true });
  }

  override _write(p: Parsed, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    try {
      if (p.kind === 'header') this.header(p);
      else p.rows.forEach((r, i) => this.add(r, p.first + i));
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private header(h: Header): void {
    this.columns = h.columns;
  }

  private add(r: Parameters<typeof isRowError>[0], index: number): void {
    const bad = (why: string): DriftlineError => new DriftlineError('DL_ERR_BAD_INPUT', `Item ${index}: ${why}`);
    if (isRowError(r)) throw bad(r.message);
    if (this.items.length >= MAX_ITEMS) throw new DriftlineError('DL_ERR_TOO_MANY_ROWS', `At most ${MAX_ITEMS} feedback items per request`);
    // Cells follow the header's columns; a JSON row shaped unlike the first (one body may name
    // some rows by request_id and row, others by id) comes with its own keys.
    const obj = isKeyedRow(r)
      ? Object.fromEntries(r.keys.map((k, i) => [k, r.values[i]]))
      : Object.fromEntries(this.columns.map((c, i) => [c, r[i]]));
    const p = feedbackItem.safeParse(obj);
    if (!p.success) throw bad('expected {request_id, row, target} or {id, target} with target 0 or 1');
    this.items.push(p.data);
  }
}

/** Reads and parses the body as it arrives: never more than a chunk of it in memory. */
async function readItems(body: RequestBody, parser: Transform): Promise<Item[]> {
  const sink = new FeedbackItems();
  try {
    await pipeline(body, createRequireUtf8(), parser, sink);
  } catch (err) {
    const e = toDriftlineError(err);
    if (e.code === 'DL_ERR_PAYLOAD_TOO_LARGE')
      throw new DriftlineError('DL_ERR_PAYLOAD_TOO_LARGE', `A feedback body is at most ${MAX_BODY} bytes`);
    throw e;
  }
  if (sink.items.length === 0) throw new DriftlineError('DL_ERR_EMPTY_BODY', 'No feedback items');
  return sink.items;
}

/**
 * POST /api/feedback: labels for predictions already logged, by (request_id, row) or by a
 * user `id` column that was passed through. All or nothing: if any id is unknown, nothing is
 * applied and the unknown ids are listed. The body is an upload like /predict's: admitted
 * against MAX_CONCURRENT_UPLOADS and parsed as it streams in.
 */
export function feedbackRoute(s: ServiceState): (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const t0 = performance.now();
    const ex = exchange(res);
    const h = headersOf(req, ['content-type', 'authorization']);
    const finish = s.track('/api/feedback', 'POST', t0);
    const denied = s.authorize(h.authorization ?? '');
    if (denied !== undefined) return void finish(sendError(ex, denied, { headers: [['www-authenticate', 'Bearer']] }));
    let parser: Transform;
    try {
      parser = parserFor(s, h['content-type'] ?? '');
    } catch (err) {
      return void finish(sendError(ex, err));
    }
    admitUpload(s, ex, finish, () => {
      const body = new RequestBody(ex, {
        maxBytes: Math.min(MAX_BODY, s.config.MAX_UPLOAD_BYTES),
        idleMs: s.config.REQUEST_IDLE_TIMEOUT_MS,
      });
      return apply(s, body, parser)
        .then(
          (answer) => {
            sendJson(ex, 200, answer);
            return 200;
          },
          (err: unknown) => (ex.aborted ? 499 : sendError(ex, err)),
        )
        .finally(() => {
          if (!body.destroyed) body.destroy();
        });
    });
  };
}

async function apply(s: ServiceState, body: RequestBody, parser: Transform): Promise<{ labelled: number; in_window: number }> {
  const items = await readItems(body, parser);
  const pairs = items.flatMap((it) => ('request_id' in it ? [{ requestId: it.request_id, row: it.row }] : []));
  const ids = items.flatMap((it) => ('id' in it ? [it.id] : []));
  const [byPair, byExt] = await Promise.all([s.store.findByRequestRow(pairs), s.store.findByExtId(ids)]);
  const key = (it: Item): string => ('request_id' in it ? `${it.request_id}#${it.row}` : it.id);
  const found = (it: Item): number | undefined => ('request_id' in it ? byPair.get(key(it)) : byExt.get(it.id));
  const unknown = items
    .filter((it) => found(it) === undefined)
    .map((it) => ('request_id' in it ? { request_id: it.request_id, row: it.row } : { id: it.id }));
  if (unknown.length > 0) {
    throw new DriftlineError(
      'DL_ERR_FEEDBACK_UNKNOWN_IDS',
      `${unknown.length} of ${items.length} feedback items name no logged prediction; nothing was applied`,
      {
        details: { unknown: unknown.slice(0, 100), n_unknown: unknown.length },
      },
    );
  }
  const logIds = items.map((it) => found(it)!);
  const targets = items.map((it) => it.target);
  await s.store.label(logIds, targets);
  let inWindow = 0;
  logIds.forEach((id, i) => {
    if (s.monitor.label(id, targets[i]!)) inWindow++;
  });
  return { labelled: items.length, in_window: inWindow };
}
