export type Severity = 'info' | 'warning' | 'critical';

/** One drifted column as the dashboard shows it: its test, score and threshold. */
export interface DriftedColumn {
  column: string;
  test: string;
  test_display_name: string;
  /** A p-value drifts at or below its threshold, a distance at or above it. */
  kind: 'p_value' | 'distance';
  score: number | null;
  threshold: number;
}

/** One alert message: a rule going into violation (`firing`) or back within bounds (`resolved`). */
export interface Alert {
  id: string;
  rule: string;
  title: string;
  severity: Severity;
  status: 'firing' | 'resolved';
  message: string;
  /** The value the rule compared, when it is a number. */
  value: number | null;
  threshold: number | null;
  /** What triggered it: e.g. the drifted features and their scores. */
  values: Record<string, unknown>;
  /** Drift rules: the columns drifted in the snapshot the rule read (none when it resolves). */
  drifted?: DriftedColumn[];
  model: { name: string; version: string };
  at: string;
  /** For a `resolved` alert: the id of the alert it resolves. */
  resolves?: string;
}

export interface DeliveryState {
  channel: string;
  state: 'pending' | 'sending' | 'sent';
  attempts: number;
  last_error: string | null;
  sent_at: string | null;
}
