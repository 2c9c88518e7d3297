import pg from 'pg';
import { DriftlineError } from '../../errors.js';
import { loggedRow, windowRow, type LoggedRow, type WindowRow } from '../log-reader.js';
import type { AppendItem } from '../log-protocol.js';
import { decode, types, type BatchRow, type CommittedBatch } from './batch.js';
import { Backoff, classify, isConnectionFailure, unavailable, type BackoffOptions } from './faults.js';
import { Follower, type FollowOptions } from './follow.js';
import { inTransaction, openPool } from './pool.js';
import { migrateAt } from './schema.js';
import * as sql from './sql.js';

/** Batches merged into one transaction at most: 16 parameters each, well under PostgreSQL's 65 535. */
const GROUP_MAX = 256;
// Batches that may wait for the writer. A replica's uploads already bound what they hand over
// (MAX_CONCURRENT_UPLOADS × the log stage's two in flight), so this only bites when the writer
// stalls: four full groups wait, the rest are refused at once rather than held in memory.
const QUEUE_MAX = 4 * GROUP_MAX;
// A connection attempt to a server that does not answer (a dropped route, not a refused port)
// gives up after this; the attempt is retried with backoff.
const CONNECT_TIMEOUT_MS = 5000;
// How long the check of a COMMIT that got no answer waits for the transaction to end.
const IN_DOUBT_WAIT_MS = 5000;
// Batches deleted per retention transaction, and labels or ext ids per one: each delete is
// short, so a reader or a replica's writer never waits behind a long one.
const PRUNE_BATCHES = 64;
const PRUNE_IDS = 5000;

export interface PgPredictionLogOptions {
  connectionString: string;
  decisionThreshold: number;
  risk: { high: number; medium: number };
  /**
   * Told when one of the log's connections is lost and cannot be made again (`down` says why),
   * and when it is back (`down` undefined). `part` names the connection: `writer`, `follower#n`.
   */
  onReachability?: (part: string, down: Error | undefined) => void;
  /** Delays between attempts to reconnect while PostgreSQL cannot be reached. */
  backoff?: BackoffOptions;
  /** Batches that may wait for the writer; more are refused with DL_ERR_STORE_UNAVAILABLE. */
  queueMax?: number;
}

/** Where a batch went: its place in the global order (null for an empty batch) and its row ids. */
export interface Appended {
  position: number | null;
  first: number;
  count: number;
}

/** How the writer connection shows in pg_stat_activity. */
export const WRITER_APP = 'driftline-writer';

const bytes = (a: ArrayBufferView): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

/**
 * Writes a group of batches inside the caller's open transaction: claims their positions and
 * row ids (locking log_head until that transaction ends, see sql.ts), inserts them, and queues
 * the notification that commit delivers. Exported so that tests can hold a transaction open
 * between this and the commit.
 */
export async function writeBatches(
  client: pg.ClientBase,
  items: readonly AppendItem[],
  rules: { decisionThreshold: number; risk: { high: number; medium: number } },
): Promise<Appended[]> {
  const full = items.filter((m) => m.rows > 0);
  const rowCount = full.reduce((n, m) => n + m.rows, 0);
  if (full.length === 0) return items.map(() => ({ position: null, first: 0, count: 0 }));
  const head = (await client.query<{ position: number; next_id: number }>(sql.CLAIM, [full.length, rowCount])).rows[0]!;
  let position = head.position;
  let next = head.next_id;
  const params: unknown[] = [];
  const extIds: number[] = [];
  const extValues: string[] = [];
  const results = items.map((m): Appended => {
    if (m.rows === 0) return { position: null, first: next, count: 0 };
    const r = { position: ++position, first: next, count: m.rows };
    params.push(
      r.position,
      r.first,
      m.rows,
      m.ts,
      m.requestId,
      m.modelVersion,
      m.nFeatures,
      rules.decisionThreshold,
      rules.risk.high,
      rules.risk.medium,
      bytes(m.rowIndex.subarray(0, m.rows)),
      bytes(m.features.subarray(0, m.rows * m.nFeatures)),
      bytes(m.probabilities.subarray(0, m.rows)),
      bytes(m.targets.subarray(0, m.rows)),
      m.extIds === null ? null : JSON.stringify(m.extIds.slice(0, m.rows)),
      m.strings === undefined || m.strings === null ? null : JSON.stringify(m.strings),
    );
    if (m.extIds !== null) {
      for (let i = 0; i < m.rows; i++) {
        const e = m.extIds[i];
        if (e !== null && e !== undefined) {
          extIds.push(r.first + i);
          extValues.push(e);
        }
      }
    }
    next += m.rows;
    return r;
  });
  await client.query(sql.insertBatches(full.length), params);
  if (extIds.length > 0) await client.query(sql.INSERT_EXT_IDS, [extIds, extValues]);
  await client.query(sql.NOTIFY, [String(position)]);
  return results;
}

/**
 * The prediction log on PostgreSQL, shared by every replica: one row per batch, each batch at
 * a position in one global order that followers apply in turn. Writes go through one
 * connection, batches waiting for it sharing a transaction (group commit); an append resolves
 * only after its commit.
 */
export class PgPredictionLog {
  private readonly queue: { input: AppendItem; resolve: (r: Appended) => void; reject: (e: unknown) => void }[] = [];
  private writing = false;
  private writer: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  /** Set while the writer cannot connect: appends are refused at once until an attempt succeeds. */
  private down: { err: unknown; retryAt: number } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private closed: Promise<void> | undefined;
  private readonly followers = new Set<Follower>();
  private followerCount = 0;

  private constructor(
    private readonly opts: PgPredictionLogOptions,
    private readonly reader: pg.Pool,
  ) {
    this.backoff = new Backoff(opts.backoff);
  }

  static async open(opts: PgPredictionLogOptions): Promise<PgPredictionLog> {
    await migrateAt(opts.connectionString, 'the PostgreSQL prediction log');
    // Reads (tail, count) never wait behind the writer's transaction.
    const reader = openPool({ connectionString: opts.connectionString, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
    return new PgPredictionLog(opts, reader);
  }

  /**
   * Appends one batch; resolves once it is committed, with its position and row ids. While
   * PostgreSQL cannot be reached it is refused at once (DL_ERR_STORE_UNAVAILABLE, with when to
   * retry), never queued: a refused batch was not committed and is not acknowledged.
   */
  append(input: AppendItem): Promise<Appended> {
    if (this.closed !== undefined) return Promise.reject(new DriftlineError('DL_ERR_INTERNAL', 'The prediction log is closed'));
    if (this.down !== undefined) return Promise.reject(this.refusal());
    if (this.queue.length >= (this.opts.queueMax ?? QUEUE_MAX))
      return Promise.reject(unavailable(new Error(`${this.queue.length} batches are already waiting for the writer`)));
    return new Promise((resolve, reject) => {
      this.queue.push({ input, resolve, reject });
      this.flush();
    });
  }

  /** True while the writer cannot connect (appends are refused). */
  get unreachable(): boolean {
    return this.down !== undefined;
  }

  private refusal(): DriftlineError {
    return unavailable(this.down?.err ?? new Error('not connected'), (this.down?.retryAt ?? Date.now()) - Date.now());
  }

  /** One attempt to (re)connect the writer; a failure marks it down and schedules the next. */
  private connectWriter(): Promise<pg.Client> {
    if (this.writer !== undefined) return Promise.resolve(this.writer);
    this.connecting ??= (async () => {
      const c = new pg.Client({
        connectionString: this.opts.connectionString,
        types,
        application_name: WRITER_APP,
        connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      });
      c.on('error', (err) => this.lost(c, err));
      try {
        await c.connect();
      } catch (err) {
        void c.end().catch(() => undefined);
        this.markDown(err);
        throw unavailable(err, this.down!.retryAt - Date.now());
      }
      if (this.closed !== undefined) {
        void c.end().catch(() => undefined);
        throw new DriftlineError('DL_ERR_INTERNAL', 'The prediction log is closed');
      }
      this.writer = c;
      this.markUp();
      return c;
    })().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  /**
   * The writer's connection dropped (idle, or under a transaction): connect again at once, so
   * that one killed backend costs at most the group that was on it. If that attempt fails the
   * writer is down and retries with backoff.
   */
  private lost(c: pg.Client, err: unknown): void {
    if (this.writer !== c) return;
    this.writer = undefined;
    void c.end().catch(() => undefined);
    if (this.closed === undefined && this.down === undefined) this.retry();
    else if (this.closed === undefined) this.markDown(err);
  }

  private retry(): void {
    this.connectWriter().then(
      () => this.flush(),
      () => undefined, // markDown scheduled the next attempt
    );
  }

  private markDown(err: unknown): void {
    const first = this.down === undefined;
    this.down = { err, retryAt: Date.now() + this.backoff.next() };
    // Whatever waits now would only wait for an attempt that has just failed.
    for (const g of this.queue.splice(0)) g.reject(this.refusal());
    if (first) this.opts.onReachability?.('writer', err instanceof Error ? err : new Error(String(err)));
    if (this.closed !== undefined) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.retry(), this.down.retryAt - Date.now());
    this.retryTimer.unref();
  }

  private markUp(): void {
    this.backoff.reset();
    if (this.down === undefined) return;
    this.down = undefined;
    this.opts.onReachability?.('writer', undefined);
  }

  // Every batch waiting when the writer comes free goes into one transaction: many small
  // requests cost one claim and one commit, not one each.
  private flush(): void {
    if (this.writing || this.queue.length === 0) return;
    const group = this.queue.splice(0, GROUP_MAX);
    this.writing = true;
    (async () => {
      const c = await this.connectWriter();
      let written: Appended[] | undefined;
      try {
        await c.query('BEGIN');
        written = await writeBatches(
          c,
          group.map((g) => g.input),
          { decisionThreshold: this.opts.decisionThreshold, risk: this.opts.risk },
        );
        await c.query('COMMIT');
        return written;
      } catch (err) {
        await c.query('ROLLBACK').catch(() => this.lost(c, err));
        if (isConnectionFailure(err)) this.lost(c, err);
        // Lost during COMMIT, which may have taken: ask, so that a group that did commit is
        // acknowledged, not refused (and logged twice when its clients retry).
        if (written !== undefined && isConnectionFailure(err) && (await this.committed(group, written))) return written;
        throw err;
      }
    })()
      .then(
        (results) => group.forEach((g, i) => g.resolve(results[i]!)),
        (err: unknown) => {
          // Not committed (or, if the connection dropped during COMMIT, not known to be): the
          // batches are refused, so no client is told they were logged.
          const e = isConnectionFailure(err)
            ? unavailable(err, this.down === undefined ? 1000 : this.down.retryAt - Date.now())
            : err instanceof DriftlineError
              ? err
              : new DriftlineError('DL_ERR_INTERNAL', `Prediction log: ${err instanceof Error ? err.message : String(err)}`, {
                  cause: err,
                });
          for (const g of group) g.reject(e);
        },
      )
      .finally(() => {
        this.writing = false;
        this.flush();
      });
  }

  /**
   * Whether a group whose COMMIT got no answer is in the log: its first batch is at the
   * position it claimed, with its request id and first row id (positions of a rolled-back
   * group are claimed again by the next, so the position alone says nothing). The read waits
   * for log_head's lock, held by the lost transaction until the server has finished it.
   */
  private async committed(group: readonly { input: AppendItem }[], written: readonly Appended[]): Promise<boolean> {
    const i = written.findIndex((w) => w.position !== null);
    if (i === -1) return true; // only empty batches: nothing was to be written
    const claimed = written[i]!;
    return inTransaction(this.reader, async (c) => {
      await c.query(`SET LOCAL lock_timeout = ${IN_DOUBT_WAIT_MS}`);
      await c.query(sql.WAIT_FOR_WRITERS);
      const row = (await c.query<{ request_id: string; first_id: number }>(sql.AT_POSITION, [claimed.position])).rows[0];
      return row !== undefined && row.request_id === group[i]!.input.requestId && Number(row.first_id) === claimed.first;
    }).catch(() => false); // not known: refused, as before the check
  }

  /** A read on the reader pool; a lost or refused connection is DL_ERR_STORE_UNAVAILABLE. */
  private async read<R extends pg.QueryResultRow>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.reader.query<R>(text, params);
    } catch (err) {
      throw classify(err);
    }
  }

  /** Labels rows by id (feedback); ids not in the log are ignored. Returns how many were labelled. */
  async label(ids: number[], targets: number[]): Promise<number> {
    return inTransaction(this.reader, async (c) => {
      const r = await c.query<{ id: number; target: number }>(`${sql.SET_LABELS} RETURNING id, target`, [ids, targets, Date.now()]);
      // The same labels as an event in the log's label order, for every replica's window.
      if (r.rows.length > 0) {
        await c.query(sql.LABEL_EVENT, [r.rows.map((l) => l.id), r.rows.map((l) => l.target)]);
        await c.query(sql.NOTIFY, ['labels']);
      }
      return r.rows.length;
    }).catch((err: unknown) => {
      throw classify(err);
    });
  }

  /** Log ids for (request_id, row) pairs, keyed `request#row`; pairs not logged are absent. */
  async findByRequestRow(pairs: readonly { requestId: string; row: number }[]): Promise<Map<string, number>> {
    const wanted = new Set(pairs.map((p) => `${p.requestId}#${p.row}`));
    const requests = [...new Set(pairs.map((p) => p.requestId))];
    const out = new Map<string, number>();
    if (requests.length === 0) return out;
    const r = await this.read<{ request_id: string; first_id: number; rows: number; row_index: Buffer }>(sql.BY_REQUESTS, [requests]);
    for (const b of r.rows) {
      const index = new Int32Array(Uint8Array.from(b.row_index).buffer);
      for (let i = 0; i < b.rows; i++) {
        const key = `${b.request_id}#${index[i]}`;
        if (wanted.has(key)) out.set(key, b.first_id + i);
      }
    }
    return out;
  }

  /** Log ids for user-supplied `id` values (the newest row when an id was sent twice). */
  async findByExtId(ids: readonly string[]): Promise<Map<string, number>> {
    const r = await this.read<{ ext_id: string; id: number }>(sql.BY_EXT_IDS, [[...new Set(ids)]]);
    return new Map(r.rows.map((x) => [x.ext_id, x.id]));
  }

  /** Feedback labels applied to a run of batches contiguous in ids (one read, on `c` inside a transaction). */
  private async labelled(rows: readonly BatchRow[], c?: pg.PoolClient): Promise<CommittedBatch[]> {
    const batches = rows.map(decode);
    if (batches.length === 0) return batches;
    const lo = Math.min(...batches.map((b) => b.first));
    const hi = Math.max(...batches.map((b) => b.first + b.rows));
    const byFirst = new Map(batches.map((b) => [b.first, b]));
    const starts = [...byFirst.keys()].sort((a, b) => a - b);
    const labels =
      c === undefined
        ? this.read<{ id: number; target: number }>(sql.LABELS_IN, [lo, hi])
        : c.query<{ id: number; target: number }>(sql.LABELS_IN, [lo, hi]);
    for (const l of (await labels).rows) {
      // The batch holding id l.id: the last start at or before it.
      let i = starts.length - 1;
      while (i > 0 && starts[i]! > l.id) i--;
      const b = byFirst.get(starts[i]!)!;
      if (l.id < b.first + b.rows) b.targets[l.id - b.first] = l.target;
    }
    return batches;
  }

  /** The newest rows, newest first, labels applied (as the SQLite log's `recent`). */
  async recent(limit: number): Promise<LoggedRow[]> {
    const out: LoggedRow[] = [];
    let before = Number.MAX_SAFE_INTEGER;
    while (out.length < limit) {
      const page = (await this.read<BatchRow>(sql.BEFORE, [before, 64])).rows;
      if (page.length === 0) break;
      for (const d of await this.labelled(page)) {
        for (let r = d.rows - 1; r >= 0 && out.length < limit; r--) out.push(loggedRow(d, r));
      }
      before = page.at(-1)!.position;
    }
    return out;
  }

  /** Up to `limit` rows with ids after `afterId`, in id order (as the SQLite log's `page`). */
  async page(afterId: number, limit: number): Promise<LoggedRow[]> {
    const out: LoggedRow[] = [];
    let after = afterId;
    const holding = (await this.read<BatchRow>(sql.HOLDING, [after + 1])).rows[0];
    let rows = holding !== undefined && holding.first_id + holding.rows > after + 1 ? [holding] : [];
    while (out.length < limit) {
      if (rows.length === 0) rows = (await this.read<BatchRow>(sql.AFTER_ID, [after, 64])).rows;
      if (rows.length === 0) break;
      for (const d of await this.labelled(rows)) {
        for (let r = Math.max(0, after + 1 - d.first); r < d.rows && out.length < limit; r++) out.push(loggedRow(d, r));
        after = d.first + d.rows - 1;
        if (out.length >= limit) break;
      }
      rows = [];
    }
    return out;
  }

  /**
   * Retention, by the SQLite log's rule: keeps at least `keepRows` rows, deleting the oldest
   * whole batches beyond them, with their labels and ext ids. Each chunk is its own short
   * transaction that never locks log_head, so appends go on meanwhile; rows appended meanwhile
   * are pruned at the next call. Only one replica should call it (the leader): two would only
   * delete the same rows twice. Returns the rows deleted.
   */
  async prune(keepRows: number, chunk: { batches?: number; ids?: number } = {}): Promise<number> {
    const head = (await this.read<{ next_id: number; lo: number | null }>(sql.HEAD)).rows[0]!;
    if (head.lo === null || head.next_id - head.lo <= keepRows) return 0;
    const kept = (await this.read<{ first_id: number }>(sql.HOLDING_FIRST_ID, [head.next_id - keepRows])).rows[0]?.first_id ?? head.lo;
    // Labels and ext ids after their batches: a label sent meanwhile for a deleted row is
    // refused by SET_LABELS once the batches are gone.
    for (const [drop, size] of [
      [sql.DROP_BATCHES, chunk.batches ?? PRUNE_BATCHES],
      [sql.DROP_LABELS, chunk.ids ?? PRUNE_IDS],
      [sql.DROP_EXT_IDS, chunk.ids ?? PRUNE_IDS],
    ] as const) {
      // Chunk by chunk until one deletes less than a chunk, or the log closes.
      while (this.closed === undefined && ((await this.read(drop, [kept, size])).rowCount ?? 0) >= size);
    }
    return kept - head.lo;
  }

  /** Rows in the log: ids are contiguous, so no scan. */
  async count(): Promise<number> {
    const h = (await this.read<{ next_id: number; lo: number | null }>(sql.HEAD)).rows[0]!;
    return h.lo === null ? 0 : h.next_id - h.lo;
  }

  /** The position of the newest committed batch (0 when empty). */
  async head(): Promise<number> {
    return (await this.read<{ position: number }>(sql.HEAD)).rows[0]!.position;
  }

  /**
   * The last `n` rows, oldest first, labels applied, and the position they end at: a window
   * rebuilt from them then follows from that position on.
   */
  async tail(n: number): Promise<{ rows: WindowRow[]; position: number; labelSeq: number }> {
    // One snapshot for the batches and their labels, so the position matches the rows.
    const read = async (c: pg.PoolClient): Promise<{ rows: WindowRow[]; position: number; labelSeq: number }> => {
      const page: BatchRow[] = [];
      let covered = 0;
      let before = Number.MAX_SAFE_INTEGER;
      while (covered < n) {
        const more = (await c.query<BatchRow>(sql.BEFORE, [before, 64])).rows;
        if (more.length === 0) break;
        for (const row of more) {
          if (covered >= n) break;
          page.push(row);
          covered += row.rows;
          before = row.position;
        }
      }
      // Labels for the whole span in one read: ids are contiguous in position order.
      const batches = await this.labelled(page, c);
      const out: WindowRow[] = [];
      for (const b of batches) for (let r = b.rows - 1; r >= 0 && out.length < n; r--) out.push(windowRow(b, r));
      const position = batches[0]?.position ?? (await c.query<{ position: number }>(sql.HEAD)).rows[0]!.position;
      // The labels above are those of every label event up to this one.
      const labelSeq = (await c.query<{ label_seq: number }>(sql.LABEL_SEQ)).rows[0]!.label_seq;
      return { rows: out.reverse(), position, labelSeq };
    };
    return inTransaction(this.reader, read, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY').catch((err: unknown) => {
      throw classify(err);
    });
  }

  /**
   * Delivers every batch committed after position `after`, in order, each once, to `onBatch`
   * (own appends included), woken by LISTEN/NOTIFY with polling as the fallback. Resolves once
   * caught up with what was committed when it started.
   */
  async follow(after: number, onBatch: (b: CommittedBatch) => unknown, opts: FollowOptions = {}): Promise<Follower> {
    const part = `follower#${++this.followerCount}`;
    const f = new Follower(this.opts.connectionString, after, onBatch, {
      backoff: this.opts.backoff,
      ...opts,
      onReachability: (down) => {
        opts.onReachability?.(down);
        this.opts.onReachability?.(part, down);
      },
    });
    this.followers.add(f);
    try {
      await f.start();
    } catch (err) {
      this.followers.delete(f);
      await f.close();
      throw err;
    }
    return f;
  }

  /** Waits for every append handed over so far, then closes every connection. */
  close(): Promise<void> {
    this.closed ??= (async () => {
      while (this.writing || this.queue.length > 0) await new Promise((r) => setTimeout(r, 1));
      clearTimeout(this.retryTimer);
      await this.connecting?.catch(() => undefined);
      await Promise.all([...this.followers].map((f) => f.close()));
      await this.writer?.end().catch(() => undefined);
      await this.reader.end().catch(() => undefined);
    })();
    return this.closed;
  }
}
