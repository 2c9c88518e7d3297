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
