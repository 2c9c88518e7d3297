import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform, Writable } from 'node:stream';
import csv from 'csv-parser';
import { DriftlineError } from './errors.js';
import { LoneCrNormalizer } from './line-endings.js';

export interface ColumnRequest {
  /** Name the column is returned under. */
  name: string;
  /** Other header names accepted for it (e.g. raw UCI names). */
  aliases?: readonly string[];
  /** Absent optional columns are simply not returned. Default: required. */
  optional?: boolean;
  /** Return the cells as strings (in `text`), unchecked: for categorical columns. */
  text?: boolean;
}

export interface CsvColumns {
  columns: Map<string, Float64Array>;
  /** The columns requested as text. */
  text: Map<string, string[]>;
  rows: number;
  header: string[];
}

/** LF, CRLF and lone CR line endings, in any mix, as the upload parser reads them. */
function lineEndings(): Transform {
  const n = new LoneCrNormalizer();
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      cb(null, n.push(chunk));
    },
    flush(cb) {
      cb(null, n.end());
    },
  });
}

/**
 * Reads numeric columns of a CSV file into typed arrays, for offline work on whole files
 * (training, reference profiles). Any cell that is not a finite number is an error naming its
 * row and column: offline data is expected to be clean, and silently dropping rows would skew
 * a model or a profile.
 */
export async function readCsvColumns(file: string, wanted: readonly ColumnRequest[], opts: { limit?: number } = {}): Promise<CsvColumns> {
  const limit = opts.limit ?? Number.POSITIVE_INFINITY;
  let header: string[] = [];
  let sources: { name: string; key: string }[] = [];
  let texts: { name: string; key: string; cells: string[] }[] = [];
  let cap = 4096;
  let bufs: Float64Array[] = [];
  let rows = 0;

  const parser = csv({
    mapHeaders: ({ header: h }) => h.replace(/^\uFEFF/, '').trim(),
  });
  parser.on('headers', (h: string[]) => {
    header = h;
    const missing: string[] = [];
    sources = [];
    texts = [];
    for (const w of wanted) {
      const key = [w.name, ...(w.aliases ?? [])].find((n) => h.includes(n));
      if (key === undefined) {
        if (w.optional !== true) missing.push(w.name);
        continue;
      }
      if (w.text === true) texts.push({ name: w.name, key, cells: [] });
      else sources.push({ name: w.name, key });
    }
    if (missing.length > 0) {
      parser.destroy(
        new DriftlineError(
          'DL_ERR_SCHEMA_MISSING_COLUMNS',
          `Invalid schema. Missing required columns: [${missing.join(', ')}] in ${file}`,
          { details: { missing } },
        ),
      );
    }
    bufs = sources.map(() => new Float64Array(cap));
  });

  const sink = new Writable({
    objectMode: true,
    write(rec: Record<string, string>, _enc, cb) {
      if (rows >= limit) return cb();
      if (rows === cap) {
        cap *= 2;
        bufs = bufs.map((b) => {
          const n = new Float64Array(cap);
          n.set(b);
          return n;
        });
      }
      for (let j = 0; j < sources.length; j++) {
        const { key, name } = sources[j]!;
        const cell = rec[key] ?? '';
        const v = cell.trim() === '' ? Number.NaN : Number(cell);
        if (!Number.isFinite(v)) {
          return cb(
            new DriftlineError('DL_ERR_BAD_INPUT', `${file}: row ${rows + 1}, column ${name}: not a number (${JSON.stringify(cell)})`),
          );
        }
        bufs[j]![rows] = v;
      }
      for (const t of texts) t.cells.push(rec[t.key] ?? '');
      rows++;
      cb();
    },
  });

  try {
    await pipeline(createReadStream(file), lineEndings(), parser, sink);
  } catch (err) {
    if (err instanceof DriftlineError) throw err;
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const columns = new Map<string, Float64Array>();
  sources.forEach((s, j) => columns.set(s.name, bufs[j]!.slice(0, rows)));
  return { columns, text: new Map(texts.map((t) => [t.name, t.cells])), rows, header };
}

function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch !== '"') cell += ch;
      else if (line[i + 1] === '"') {
        cell += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cell.trim());
      cell = '';
    } else cell += ch;
  }
  out.push(cell.trim());
  return out;
}

/** The header of a CSV file (first line; quoted names allowed). */
export function readCsvHeader(file: string): string[] {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new DriftlineError('DL_ERR_BAD_INPUT', `Cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  try {
    const buf = Buffer.alloc(1 << 20);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const line =
      buf
        .toString('utf8', 0, n)
        .replace(/^\uFEFF/, '')
        .split(/\r?\n/, 1)[0] ?? '';
    if (line.trim() === '') throw new DriftlineError('DL_ERR_EMPTY_BODY', `${file} has no header`);
    return splitCsvLine(line);
  } finally {
    closeSync(fd);
  }
}
