import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { hostname } from 'node:os';
import { z } from 'zod';
import { DriftlineError } from './errors.js';

// src/config.ts and dist/config.js both sit one level below the package root.
export const PACKAGE_ROOT = fileURLToPath(new URL('../', import.meta.url));

// An empty variable (`PORT=`) means "not set", as shells and .env files commonly produce it.
const unsetIfEmpty = (v: unknown): unknown => (typeof v === 'string' && v.trim() === '' ? undefined : v);

const int = (min: number, max: number, dflt: number, maxReason = '') =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ error: 'expected an integer' })
      .int({ error: 'expected an integer' })
      .min(min, { error: `must be ≥ ${min}` })
      .max(max, { error: `must be ≤ ${max}${maxReason}` })
      .default(dflt),
  );

const num = (min: number, max: number, dflt: number) =>
  z.preprocess(
    unsetIfEmpty,
    z.coerce
      .number({ error: 'expected a number' })
      .min(min, { error: `must be ≥ ${min}` })
      .max(max, { error: `must be ≤ ${max}` })
      .default(dflt),
  );

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['0', 'false', 'no', 'off']);
const bool = (dflt: boolean) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return dflt;
        const s = v.trim().toLowerCase();
        if (TRUE.has(s)) return true;
        if (FALSE.has(s)) return false;
        ctx.addIssue({ code: 'custom', message: 'expected one of 1/0, true/false, yes/no, on/off' });
        return z.NEVER;
      }),
  );

const str = (dflt: string) => z.preprocess(unsetIfEmpty, z.string().default(dflt));
const optionalStr = () => z.preprocess(unsetIfEmpty, z.string().optional());
const dir = (dflt: string) => z.preprocess(unsetIfEmpty, z.string().default(dflt)).transform((p) => path.resolve(p));

const url = (protocols: readonly string[]) =>
  z.preprocess(
    unsetIfEmpty,
    z
      .string()
      .refine((v) => URL.canParse(v) && protocols.includes(new URL(v).protocol), {
        error: `expected a URL (${protocols.join(' or ')})`,
      })
      .optional(),
  );

/** The largest Content-Length uWebSockets.js lets a handler answer (it takes at most 9 digits). */
export const UWS_MAX_CONTENT_LENGTH = 999_999_999;

export const configSchema = z.object({
  PORT: int(0, 65535, 8000),
  HOST: str('127.0.0.1'),
  MODEL_DIR: dir(path.join(PACKAGE_ROOT, 'models', 'credit-default', 'v1')),
  DATA_DIR: dir(path.join(PACKAGE_ROOT, 'data')),
  REPORTS_DIR: dir(path.join(PACKAGE_ROOT, 'reports')),
  LOG_LEVEL: z.preprocess(unsetIfEmpty, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  ALLOW_UWS_FALLBACK: bool(false),

  // Inference and batching
  INFERENCE_THREADS: int(1, 64, 1),
  // 1024 rows: bench/inference.bench.ts peaks at 256–1024 rows with the main thread idle, and
  // keeps rising to 1024+ while it is busy parsing; past 1024 a small upload waits for nothing.
  BATCH_MAX_ROWS: int(1, 1_000_000, 1024),
  BATCH_MAX_WAIT_MS: num(0, 10_000, 2),
  DYNAMIC_BATCHING: bool(true),

  // Drift
  WINDOW_ROWS: int(1, 10_000_000, 5000),
  DRIFT_SHARE_THRESHOLD: num(0, 1, 0.5),
  DRIFT_OVERRIDES: optionalStr(),
  DRIFT_PUSH_MS: int(10, 3_600_000, 250),
  DRIFT_HISTORY_MS: int(100, 86_400_000, 10_000),
  DRIFT_HISTORY_RETENTION: int(1, 100_000_000, 100_000),

  // Prediction log
  LOG_RETENTION_ROWS: int(1, 1_000_000_000, 1_000_000),
  // Set: the log is in PostgreSQL and every replica's window follows it (docs/scale-out.md).
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  // The `replica` label on /metrics when DATABASE_URL is set; the host name by default (a pod's name).
  REPLICA_ID: str(hostname()),
  // With DATABASE_URL: leader election (src/store/pg/leader.ts). A dead leader is replaced within
  // about LEADER_RETRY_MS; one cut off from the database stops leading after LEADER_KEEPALIVE_MS
  // + LEADER_TIMEOUT_MS, and PostgreSQL frees its lock after LEADER_SESSION_TIMEOUT_MS.
  LEADER_RETRY_MS: int(10, 600_000, 1000),
  LEADER_KEEPALIVE_MS: int(10, 600_000, 1000),
  LEADER_TIMEOUT_MS: int(10, 600_000, 2000),
  LEADER_SESSION_TIMEOUT_MS: int(100, 3_600_000, 5000),
  // A PostgreSQL outbox claim older than this is taken to have lost its sender and is sent
  // again; at least a minute, since a channel may take 15 s per step of a send (channels.ts).
  OUTBOX_LEASE_MS: int(60_000, 86_400_000, 300_000),

  // Access and limits
  API_KEY: optionalStr(),
  // Below 1e9: uWebSockets.js closes the connection of a request that declares a 10-digit
  // Content-Length (its handler runs, but no answer goes out: measured on 20.30), so a larger
  // limit could never be answered with its 413.
  MAX_UPLOAD_BYTES: int(
    1,
    UWS_MAX_CONTENT_LENGTH,
    512 * 1024 * 1024,
    ' (uWebSockets.js drops a request declaring 1000000000 bytes or more unanswered)',
  ),
  MAX_ROWS_PER_REQUEST: int(1, Number.MAX_SAFE_INTEGER, 10_000_000),
  MAX_FIELD_BYTES: int(16, 1 << 30, 64 * 1024),
  MAX_COLUMNS: int(1, 1_000_000, 1000),
  REQUEST_IDLE_TIMEOUT_MS: int(100, 3_600_000, 30_000),
  // 16 KiB/s over 10 s: the rule uWebSockets.js applied on its own (and now never gets to: the
  // service keeps the library's timer from firing while a body is read, and answers 408 itself).
  REQUEST_MIN_RECEIVE_RATE: int(0, 1 << 30, 16 * 1024),
  REQUEST_RECEIVE_WINDOW_MS: int(100, 3_600_000, 10_000),
  MAX_CONCURRENT_UPLOADS: int(1, 100_000, 64),
  SHUTDOWN_TIMEOUT_MS: int(0, 600_000, 10_000),
  WS_ALLOWED_ORIGINS: optionalStr(),

  // Alerts
  SMTP_URL: url(['smtp:', 'smtps:']),
  ALERT_EMAIL_FROM: optionalStr(),
  ALERT_EMAIL_TO: optionalStr(),
  SLACK_WEBHOOK_URL: url(['http:', 'https:']),
  ALERT_COOLDOWN_S: int(0, 86_400 * 7, 300),
  ALERT_RULES_FILE: optionalStr(),
  ALERT_RULES: optionalStr(),
  // Rules otherwise run only on fresh snapshots, i.e. only while rows arrive: without this
  // re-reading, a yes/no rule waiting for its clean evaluations stays firing once traffic stops.
  // 5 s: such a rule (3 clean evaluations) resolves about 15 s after the last rows; a reading
  // of the cached snapshot costs microseconds.
  ALERT_EVAL_MS: int(10, 3_600_000, 5000),
  ALERT_RETRY_BASE_MS: int(10, 3_600_000, 1000),
  ALERT_RETRY_MAX_MS: int(10, 86_400_000, 300_000),

  // Demo
  SIMULATE_TRAFFIC: bool(false),
  /** Drift scenarios for the simulated traffic (`age+8@10m`); checked against the card at start-up. */
  SIMULATE_DRIFT: optionalStr(),
});

// Rules between settings, checked once each setting is valid on its own.
const checkedSchema = configSchema.superRefine((c, ctx) => {
  // The server must never end a live elector's session: its quietest spell is one interval
  // plus one check's timeout (leader.ts says the same of its options).
  const quiet = Math.max(c.LEADER_RETRY_MS, c.LEADER_KEEPALIVE_MS) + c.LEADER_TIMEOUT_MS;
  if (c.LEADER_SESSION_TIMEOUT_MS <= quiet)
    ctx.addIssue({
      code: 'custom',
      path: ['LEADER_SESSION_TIMEOUT_MS'],
      message: `must exceed max(LEADER_RETRY_MS, LEADER_KEEPALIVE_MS) + LEADER_TIMEOUT_MS (${quiet})`,
    });
});

/** Values that must never reach a log line, an error message or a response. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['API_KEY', 'SMTP_URL', 'SLACK_WEBHOOK_URL', 'DATABASE_URL']);

export type Config = Readonly<z.infer<typeof configSchema>>;

/** Parses an environment into a frozen config, or throws listing every problem at once. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const result = checkedSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const key = i.path.join('.');
      const shown = SECRET_KEYS.has(key) ? '<redacted>' : JSON.stringify(env[key]);
      return `${key}=${shown}: ${i.message}`;
    });
    throw new DriftlineError('DL_ERR_CONFIG', `Invalid configuration:\n  - ${problems.join('\n  - ')}`, {
      details: { problems },
    });
  }
  return Object.freeze(result.data);
}

let cached: Config | undefined;

/** The process-wide config, parsed from process.env once. */
export function loadConfig(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}
