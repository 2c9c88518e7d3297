// The stage sequence, written once. Both ways of scoring a body — the stream pipeline
// (runPipeline) and the buffered path for small bodies (scoreBuffer) — build their steps from
// an object keyed by these names and take them in this order, so a stage added here is a type
// error until both paths have it, and neither can run the stages in another order.
export const STAGE_SEQUENCE = ['parse', 'validate', 'batch', 'predict', 'log', 'sketch', 'format'] as const;

export type StageName = (typeof STAGE_SEQUENCE)[number];

/** One implementation per stage name. */
export type ByStage<T> = { readonly [K in StageName]: T };

/** The implementations in sequence order. */
export function inSequence<T>(impl: ByStage<T>): T[] {
  return STAGE_SEQUENCE.map((name) => impl[name]);
}
