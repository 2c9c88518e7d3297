/** Messages between the main thread and the prediction-log writer thread. */

export interface WriterInit {
  file: string;
  retentionRows: number;
  decisionThreshold: number;
  riskHigh: number;
  riskMedium: number;
}

/** One batch of predictions to log. */
export interface AppendItem {
  ts: number;
  requestId: string;
  modelVersion: string;
  nFeatures: number;
  rows: number;
  features: Float32Array;
  probabilities: Float32Array;
  rowIndex: Int32Array;
  targets: Float64Array;
  extIds: (string | null)[] | null;
  /** rows × the card's string features, row-major; absent or null for a numeric model. */
  strings?: string[] | null | undefined;
}

/** Batches of any requests, written in one transaction (group commit). */
export interface AppendRequest {
  type: 'append';
  id: number;
  items: AppendItem[];
}

export interface LabelRequest {
  type: 'label';
  id: number;
  /** Log ids and their labels. */
  ids: number[];
  targets: number[];
  ts: number;
}

export type WriterRequest = AppendRequest | LabelRequest | { type: 'close'; id: number };

export type WriterReply =
  | { type: 'ready' }
  | { type: 'appended'; id: number; results: { first: number; count: number }[]; deleted: number }
  | { type: 'labelled'; id: number; changed: number }
  | { type: 'closed'; id: number }
  | { type: 'error'; id: number; message: string; /** SQLite's error code, if it was SQLite's error. */ code?: string | undefined }
  | { type: 'fatal'; message: string };
