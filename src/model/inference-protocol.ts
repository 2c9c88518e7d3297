/** Messages between the main thread and the inference worker. */
export type WorkerRequest = { type: 'run'; id: number; data: Float32Array; rows: number } | { type: 'close' };

export type WorkerReply =
  | { type: 'ready' }
  | { type: 'closed' }
  | { type: 'result'; id: number; probabilities: Float32Array; computeMs: number }
  | { type: 'error'; id: number; error: { code: string; message: string } }
  | { type: 'fatal'; error: { code: string; message: string } };
