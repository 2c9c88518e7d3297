// What the PostgreSQL log does while the server cannot be reached: which failures mean "the
// connection is gone" (as opposed to a statement that failed), the error callers see for them,
// and how often a connection is tried again.
import { DriftlineError } from '../../errors.js';

// Socket-level failures (Node) and SQLSTATEs that say the session is gone or cannot start:
// class 08 (connection exception), 57P01–57P03 (terminated by an administrator, crash
// shutdown, cannot connect now: the server is starting or stopping), 53300 (too many
// connections). Anything else is a statement that failed on a live connection.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const SESSION_CODES = new Set(['57P01', '57P02', '57P03', '53300']);
// node-postgres raises these as plain Errors, without a code.
const CLIENT_MESSAGES = /connection terminated|connection timeout|timeout expired|not queryable|query read timeout/i;

/** True when `err` means the connection to PostgreSQL is lost or cannot be made. */
export function isConnectionFailure(err: unknown): boolean {
  if (err instanceof DriftlineError) return err.code === 'DL_ERR_STORE_UNAVAILABLE';
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SESSION_CODES.has(code) || code.startsWith('08'))) return true;
  if (err instanceof AggregateError) return err.errors.some(isConnectionFailure);
  return err instanceof Error && CLIENT_MESSAGES.test(err.message);
}

/** The error a caller gets when the log cannot be reached: a 503 that says when to retry. */
export function unavailable(cause: unknown, retryAfterMs = 1000): DriftlineError {
  if (cause instanceof DriftlineError && cause.code === 'DL_ERR_STORE_UNAVAILABLE') return cause;
  const why = cause instanceof Error ? cause.message || cause.constructor.name : String(cause);
  return new DriftlineError('DL_ERR_STORE_UNAVAILABLE', `The prediction log (PostgreSQL) cannot be reached: ${why}`, {
    cause,
    retryAfterS: Math.max(1, Math.ceil(retryAfterMs / 1000)),
  });
}

/** A failure as callers see it: unavailable when the connection is the cause, else as it was. */
export function classify(err: unknown, retryAfterMs?: number): unknown {
  return isConnectionFailure(err) ? unavailable(err, retryAfterMs) : err;
}

export interface BackoffOptions {
  /** The first delay's ceiling. */
  baseMs?: number;
  /** No delay grows beyond this. */
  capMs?: number;
}

/**
 * Capped exponential backoff with jitter: the n-th delay is drawn from [c/2, c] with
 * c = min(cap, base·2ⁿ). Half is fixed so that a retry never comes at once after a failure;
 * the random half keeps replicas that lost the server together from retrying in step.
 */
export class Backoff {
  private attempt = 0;
  private readonly baseMs: number;
  private readonly capMs: number;

  constructor(
    opts: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.baseMs = opts.baseMs ?? 100;
    this.capMs = opts.capMs ?? 5000;
  }

  /** The delay before the next attempt; each call doubles the ceiling up to the cap. */
  next(): number {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return ceiling / 2 + this.random() * (ceiling / 2);
  }

  /** After a success: the next failure starts again from the base. */
  reset(): void {
    this.attempt = 0;
  }
}
