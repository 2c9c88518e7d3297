import type { LogStore } from '../../src/store/index.js';

/**
 * Puts `rows` predictions straight into the log, in batches of `batch`, as the log stage would
 * (for reads and exports that need many rows without scoring them first). Features and
 * probabilities are a plain function of the row number.
 */
export async function logRows(
  store: Pick<LogStore, 'append'>,
  rows: number,
  opts: { batch?: number; requestId?: string } = {},
): Promise<void> {
  const batch = opts.batch ?? 1000;
  const jobs: Promise<unknown>[] = [];
  for (let first = 0; first < rows; first += batch) {
    const n = Math.min(batch, rows - first);
    const features = new Float32Array(n * 8);
    const probabilities = new Float32Array(n);
    const rowIndex = new Int32Array(n);
    for (let r = 0; r < n; r++) {
      for (let f = 0; f < 8; f++) features[r * 8 + f] = (first + r) * 8 + f;
      probabilities[r] = ((first + r) % 1000) / 1000;
      rowIndex[r] = first + r;
    }
    jobs.push(
      store.append({
        ts: Date.now(),
        requestId: opts.requestId ?? 'bulk',
        modelVersion: 'test',
        nFeatures: 8,
        rows: n,
        features,
        probabilities,
        rowIndex,
        targets: new Float64Array(n).fill(Number.NaN),
        extIds: null,
      }),
    );
  }
  await Promise.all(jobs);
}
