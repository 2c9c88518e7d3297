import pg from 'pg';
import type { AppendItem } from '../../src/store/log-protocol.js';

/** The card's cut-offs the PostgreSQL log tests open their logs with. */
export const RULES = { decisionThreshold: 0.5, risk: { high: 0.75, medium: 0.5 } };

/** A batch of two features whose first carries `tag`, so a test can tell batches apart. */
export function batch(tag: number, rows = 3, requestId = `r${tag}`): AppendItem {
  const features = new Float32Array(rows * 2);
  const probabilities = new Float32Array(rows);
  const rowIndex = new Int32Array(rows);
  const targets = new Float64Array(rows).fill(Number.NaN);
  for (let i = 0; i < rows; i++) {
    features[i * 2] = tag;
    features[i * 2 + 1] = i;
    probabilities[i] = (i % 10) / 10;
    rowIndex[i] = i;
  }
  return { ts: 1000 + tag, requestId, modelVersion: 'v1', nFeatures: 2, rows, features, probabilities, rowIndex, targets, extIds: null };
}

/** Rows in a replica's drift window, as /api/drift says. */
export async function windowRows(srv: { url: string }): Promise<number> {
  return ((await (await fetch(`${srv.url}/api/drift`)).json()) as { window_rows: number }).window_rows;
}

/** Rows per request id in the shared log, read straight from PostgreSQL. */
export async function loggedByRequest(url: string): Promise<Map<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ request_id: string; n: string }>(
      'SELECT request_id, sum(rows) AS n FROM prediction_batches GROUP BY request_id',
    );
    return new Map(r.rows.map((x) => [x.request_id, Number(x.n)]));
  } finally {
    await c.end();
  }
}
