import type { Cells, Header, KeyedRow, Parsed, RowError } from './types.js';

/**
 * Between a row parser's callbacks and the stream: the header goes on at once, rows wait and
 * leave as one `rows` chunk per `release()` (per input chunk), numbered from where the last
 * chunk stopped. One chunk per input chunk keeps the object count, and so the stream cost, per
 * chunk rather than per row.
 */
export class RowGatherer {
  private rows: (Cells | RowError | KeyedRow)[] = [];
  private first = 0;

  constructor(private readonly push: (p: Parsed) => void) {}

  /** The parser core's callback. */
  readonly emit = (p: Header | Cells | RowError | KeyedRow): void => {
    if ((p as Header).kind === 'header') this.push(p as Header);
    else this.rows.push(p as Cells | RowError | KeyedRow);
  };

  /** Passes the rows gathered so far; `next` is the row number the parser gives next. */
  release(next: number): void {
    if (this.rows.length > 0) this.push({ kind: 'rows', first: this.first, rows: this.rows });
    this.rows = [];
    this.first = next;
  }
}
