import { DriftlineError } from '../errors.js';

/** SQLite's own word that the file is damaged (extended codes included), or is no database. */
export function isCorruption(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB');
}

/**
 * One place that tells a damaged database from any other failure, for every connection to the
 * service's database file (the log reader, the log writer's replies, drift history). The first
 * corruption is reported once (the service logs it at error level and /ready turns 503); every
 * failed statement after it is still classified, so each caller's error carries the code.
 */
export class StoreHealth {
  private first: DriftlineError | undefined;
  /** Connections to a shared log (PostgreSQL) that are down now, by name, with why. */
  private readonly down = new Map<string, Error>();

  constructor(
    private readonly file: string,
    private readonly onCorrupt: (err: DriftlineError) => void = () => undefined,
  ) {}

  /** The first corruption seen, if any. */
  get corruption(): DriftlineError | undefined {
    return this.first;
  }

  /**
   * Why the shared log cannot be reached now (one of its connections is down and cannot be
   * made again), or undefined. The log's writer and followers report it as it changes, so
   * /ready answers from here without a query of its own.
   */
  get unreachable(): DriftlineError | undefined {
    const [part, err] = this.down.entries().next().value ?? [];
    if (part === undefined || err === undefined) return undefined;
    return new DriftlineError('DL_ERR_STORE_UNAVAILABLE', `The prediction log (PostgreSQL) cannot be reached (${part}: ${err.message})`, {
      retryAfterS: 1,
    });
  }

  /** A connection of the shared log went down (`err`) or is back (undefined). */
  reachability(part: string, err: Error | undefined): void {
    if (err === undefined) this.down.delete(part);
    else this.down.set(part, err);
  }

  /** A failed statement's error as callers should see it: DL_ERR_STORE_CORRUPT for a damaged file, else as it was. */
  check(err: unknown): unknown {
    if (err instanceof DriftlineError && err.code === 'DL_ERR_STORE_CORRUPT') return err;
    if (!isCorruption(err)) return err;
    const code = String((err as { code: string }).code);
    const e = new DriftlineError(
      'DL_ERR_STORE_CORRUPT',
      `The database ${this.file} is damaged (${code}: ${(err as Error).message}); stop the service and run PRAGMA integrity_check on it`,
      { cause: err, details: { sqlite_code: code } },
    );
    if (this.first === undefined) {
      this.first = e;
      this.onCorrupt(e);
    }
    return e;
  }

  /** Runs a statement (or a few) and classifies what it throws. */
  run<T>(f: () => T): T {
    try {
      return f();
    } catch (err) {
      throw this.check(err);
    }
  }
}
