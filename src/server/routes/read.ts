import { performance } from 'node:perf_hooks';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { DriftlineError } from '../../errors.js';
import { originalResult } from '../../model/index.js';
import { originalDrift } from '../../monitor/index.js';
import type { LoggedRow } from '../../store/index.js';
import { exchange, send, sendError, sendJson, type Exchange } from '../http.js';
import { streamRead } from '../stream-read.js';
import type { StateRoute } from '../start/gate.js';
import type { ServiceState } from '../state.js';
import { csvCell } from '../../csv-cell.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void;

// Rows decoded per store read during an export: a page is decoded in one go, so it is kept well
// inside one time slice of streamRead.
const EXPORT_PAGE_ROWS = 256;

/** Wraps a GET handler with timing, metrics and a JSON error on throw. */
function get(s: ServiceState, route: string, fn: (ex: Exchange, req: HttpRequest) => number | Promise<number>): Handler {
  return (res, req) => {
    const t0 = performance.now();
    const ex = exchange(res);
    const finish = s.track(route, 'GET', t0);
    try {
      const r = fn(ex, req);
      if (typeof r === 'number') finish(r);
      else r.then(finish, (err: unknown) => finish(sendError(ex, err)));
    } catch (err) {
      finish(sendError(ex, err));
    }
  };
}

/** The last predictions, as the original dashboard showed them. */
function resultRow(s: ServiceState, r: LoggedRow): Record<string, unknown> {
  return {
    ...originalResult(s.card, r),
    request_id: r.request_id,
    ts: new Date(r.ts).toISOString(),
    features: Object.fromEntries(s.card.features.map((f, i) => [f.name, r.features[i]])),
  };
}

function intParam(req: HttpRequest, key: string, dflt: number, max: number): number {
  const raw = req.getQuery(key) ?? '';
  if (raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Query parameter ${key} must be a non-negative integer, not ${JSON.stringify(raw)}`);
  return Math.min(n, max);
}

/** `since` as epoch milliseconds or an ISO date. */
function sinceParam(req: HttpRequest): number {
  const raw = req.getQuery('since') ?? '';
  if (raw === '') return 0;
  const n = /^\d+$/.test(raw) ? Number(raw) : Date.parse(raw);
  if (Number.isNaN(n))
    throw new DriftlineError(
      'DL_ERR_BAD_INPUT',
      `Query parameter since must be epoch milliseconds or an ISO date, not ${JSON.stringify(raw)}`,
    );
  return n;
}

type Read = (s: ServiceState, ex: Exchange, req: HttpRequest) => number | Promise<number>;

/** The original dashboard's JSON: row count, the last 100 results, drift per column, and the snapshot. */
const dashboardData: Read = async (s, ex) => {
  const [count, recent] = await Promise.all([s.store.count(), s.store.recent(100)]);
  const snap = s.monitor.current();
  sendJson(ex, 200, {
    status: 'ok',
    data: {
      n_rows: count,
      results: recent.map((r) => resultRow(s, r)),
      drift: originalDrift(snap),
    },
    snapshot: snap,
  });
  return 200;
};

const driftSnapshot: Read = (s, ex) => {
  sendJson(ex, 200, s.monitor.current());
  return 200;
};

const driftHistory: Read = (s, ex, req) => {
  const since = sinceParam(req);
  const limit = intParam(req, 'limit', 1000, 100_000);
  async function* body(): AsyncGenerator<string> {
    yield `{"since":${since},"points":[`;
    let first = true;
    for await (const point of s.history.pointsJson(since, limit)) {
      yield first ? point : `,${point}`;
      first = false;
    }
    yield ']}';
  }
  // Streamed like an export: up to 100,000 points is tens of MB of JSON.
  return streamRead(ex, {
    format: 'json',
    headers: [
      ['content-type', 'application/json'],
      ['cache-control', 'no-store'],
    ],
    body: body(),
    route: '/api/drift/history',
    log: s.log,
  });
};

const driftTrend: Read = (s, ex, req) => {
  const column = req.getQuery('column') ?? '';
  const names = [...s.profile.features.map((f) => f.name), 'prediction'];
  if (!names.includes(column)) throw new DriftlineError('DL_ERR_BAD_INPUT', `Query parameter column must be one of ${names.join(', ')}`);
  sendJson(ex, 200, s.monitor.window.quantileTrend(column));
  return 200;
};

const modelCard: Read = (s, ex) => {
  sendJson(ex, 200, s.card);
  return 200;
};

const referenceProfile: Read = (s, ex) => {
  sendJson(ex, 200, s.profile);
  return 200;
};

function exportFormat(req: HttpRequest): 'ndjson' | 'csv' {
  const format = req.getQuery('format') || 'ndjson';
  if (format !== 'ndjson' && format !== 'csv') throw new DriftlineError('DL_ERR_BAD_INPUT', 'Query parameter format must be ndjson or csv');
  return format;
}

/** One logged prediction as a line of the export. */
function predictionLine(format: 'ndjson' | 'csv', names: string[], r: LoggedRow): string {
  return format === 'csv'
    ? `${[r.id, new Date(r.ts).toISOString(), csvCell(r.request_id), r.row, csvCell(r.model_version), ...r.features, r.probability, r.prediction, r.risk_level, r.target ?? '', csvCell(r.ext_id)].join(',')}\n`
    : `${JSON.stringify({ ...r, features: Object.fromEntries(names.map((n, i) => [n, r.features[i]])) })}\n`;
}

/**
 * The logged rows after `after` up to `newest` (the newest when the export began), in id order,
 * as text a page at a time.
 */
async function* loggedLines(s: ServiceState, after: number, newest: number, line: (r: LoggedRow) => string): AsyncGenerator<string> {
  // Page by page as the response is pulled: memory stays flat however many rows are asked for.
  while (after < newest) {
    const page = await s.store.page(after, EXPORT_PAGE_ROWS);
    if (page.length === 0) return;
    let text = '';
    for (const r of page) {
      if (r.id > newest) break;
      text += line(r);
    }
    if (text !== '') yield text;
    after = page.at(-1)!.id;
  }
}

const predictionsExport: Read = async (s, ex, req) => {
  const limit = intParam(req, 'limit', 100, s.config.LOG_RETENTION_ROWS);
  const format = exportFormat(req);
  const names = s.card.features.map((f) => f.name);
  const newest = (await s.store.recent(1))[0]?.id ?? 0;
  async function* body(): AsyncGenerator<string> {
    if (format === 'csv') yield `id,ts,request_id,row,model_version,${names.join(',')},probability,prediction,risk_level,target,ext_id\n`;
    yield* loggedLines(s, Math.max(0, newest - limit), newest, (r) => predictionLine(format, names, r));
  }
  return streamRead(ex, {
    format,
    headers: [
      ['content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson'],
      ['cache-control', 'no-store'],
    ],
    body: body(),
    route: '/api/predictions',
    log: s.log,
  });
};

const prometheusMetrics: Read = async (s, ex) => {
  const text = await s.metrics.registry.metrics();
  send(ex, 200, text, [['content-type', s.metrics.registry.contentType]]);
  return 200;
};

/** What fires now, the newest alerts and the undelivered ones. */
const alertsList: Read = async (s, ex, req) => {
  const n = Number(req.getQuery('limit') || 100);
  const limit = Number.isInteger(n) && n > 0 ? Math.min(n, 10_000) : 100;
  const { outbox } = s.alerting;
  const [firing, alerts, undelivered] = await Promise.all([s.alerting.firing(), outbox.recent(limit), outbox.undelivered()]);
  sendJson(ex, 200, { firing, alerts, undelivered });
  return 200;
};

// In registration order; the path is also the route's name in the metrics.
const READS: [route: string, read: Read][] = [
  ['/dashboard/data', dashboardData],
  ['/api/drift', driftSnapshot],
  ['/api/drift/history', driftHistory],
  ['/api/drift/trend', driftTrend],
  ['/api/model', modelCard],
  ['/api/reference', referenceProfile],
  ['/api/predictions', predictionsExport],
  ['/metrics', prometheusMetrics],
  ['/api/alerts', alertsList],
];

/** The GET routes that read the state: the window, the history, the log, the card, the metrics. */
export function registerReadRoutes(app: { get(p: string, make: StateRoute): unknown }): void {
  for (const [route, read] of READS) app.get(route, (s) => get(s, route, (ex, req) => read(s, ex, req)));
}
