import type { ModelCard } from '../model/card.js';
import { openSession, runSession, sessionSpec } from '../model/session.js';

/**
 * Runs the written graph through onnxruntime exactly as the service opens it (same checks of
 * input and output against the card, one intra-op thread) and returns the largest
 * |P_onnx − P_trainer| over the rows. One thread matters: onnxruntime parallelises the tree
 * sum over threads, and a different summation order moves float32 results by a few ulps.
 */
export async function onnxMaxAbsDiff(
  modelPath: string,
  card: ModelCard,
  x: Float32Array,
  rows: number,
  expected: Float32Array,
): Promise<number> {
  const spec = sessionSpec(card, modelPath, 1);
  const session = await openSession(spec);
  try {
    const p = await runSession(session, spec, x, rows);
    let worst = 0;
    for (let i = 0; i < rows; i++) worst = Math.max(worst, Math.abs(p[i]! - expected[i]!));
    return worst;
  } finally {
    await session.release();
  }
}
