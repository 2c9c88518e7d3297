// A JSON file that must match a schema (model card, reference profile): read, parsed and
// checked with zod in one place, so each failure is a typed error with the same wording — every
// problem listed, never a stack from JSON.parse or a zod dump.
import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { DriftlineError, type ErrorCode } from './errors.js';

export interface Checked {
  /** The error code for every failure (a missing file, bad JSON, a schema problem). */
  code: ErrorCode;
  /** What the document is, lower case: "model card", "reference profile". */
  what: string;
  /** Problems spelled out in the message at most (all are in `details.problems`). */
  listed?: number;
}

/** `raw` checked against `schema`; `source` names it in the message. */
export function checkWith<S extends z.ZodType>(schema: S, raw: unknown, c: Checked, source: string = c.what): z.output<S> {
  const r = schema.safeParse(raw);
  if (!r.success) {
    const problems = r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new DriftlineError(c.code, `Invalid ${source}:\n  - ${problems.slice(0, c.listed ?? problems.length).join('\n  - ')}`, {
      details: { problems },
    });
  }
  return r.data;
}

/** The file at `file`, read as UTF-8, parsed as JSON and checked against `schema`. */
export function readJsonFile<S extends z.ZodType>(file: string, schema: S, c: Checked): z.output<S> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DriftlineError(c.code, `Cannot read ${c.what} ${file}: ${(err as Error).message}`, { cause: err });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const what = c.what.charAt(0).toUpperCase() + c.what.slice(1);
    throw new DriftlineError(c.code, `${what} ${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return checkWith(schema, json, c, `${c.what} ${file}`);
}
