import { Transform, type TransformCallback } from 'node:stream';
import { DriftlineError } from '../errors.js';

/** Bytes at the start of a body checked for NULs: plenty to see UTF-16 text, however chunked. */
export const SNIFF_BYTES = 1024;

const BOMS: [string, number[]][] = [
  ['UTF-32LE', [0xff, 0xfe, 0x00, 0x00]],
  ['UTF-32BE', [0x00, 0x00, 0xfe, 0xff]],
  ['UTF-16LE', [0xff, 0xfe]],
  ['UTF-16BE', [0xfe, 0xff]],
];

/**
 * Pure core: why `bytes`, found at `offset` in a body, show it cannot be UTF-8 text, or
 * undefined. UTF-16 and UTF-32 are told by their byte-order mark (at offset 0) or, without one,
 * by NUL bytes (every other byte of UTF-16 ASCII), which no CSV, JSON or NDJSON text has. Other
 * invalid UTF-8 is not refused: it decodes to U+FFFD, so a bad byte in a feature cell rejects
 * that row ("not a number") and one in a passed-through column shows as U+FFFD.
 */
export function notUtf8(bytes: Buffer, offset = 0): string | undefined {
  for (const [name, bom] of offset === 0 ? BOMS : []) {
    if (bytes.length >= bom.length && bom.every((b, i) => bytes[i] === b)) {
      return `The body starts with a ${name} byte-order mark: send it as UTF-8`;
    }
  }
  const nul = bytes.indexOf(0);
  if (nul !== -1) return `The body has a NUL byte at offset ${nul + offset} (UTF-16 or binary data?): send UTF-8 text`;
  return undefined;
}

/**
 * bytes → the same bytes, refusing (DL_ERR_BAD_ENCODING) a body `notUtf8` condemns. Before the
 * parsers, so every input format answers a UTF-16 file the same way rather than with whatever
 * its parser makes of the NUL bytes. Only the first 4 bytes are held back (a byte-order mark is
 * at most 4): a client streaming a row at a time must get its results without waiting for a
 * KiB to build up. The rest of the first SNIFF_BYTES is checked as it passes.
 */
export function createRequireUtf8(): Transform {
  let held: Buffer[] = [];
  let seen = 0;
  const check = (bytes: Buffer, from: number): DriftlineError | undefined => {
    const problem = notUtf8(bytes.subarray(0, SNIFF_BYTES - from), from);
    return problem === undefined ? undefined : new DriftlineError('DL_ERR_BAD_ENCODING', problem);
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (seen >= SNIFF_BYTES) return cb(null, chunk);
      let bytes = chunk;
      if (seen < 4) {
        held.push(chunk);
        if (seen + chunk.length < 4) {
          seen += chunk.length;
          return cb();
        }
        bytes = Buffer.concat(held);
        held = [];
        seen = 0;
      }
      const err = check(bytes, seen);
      seen += bytes.length;
      cb(err, err === undefined ? bytes : undefined);
    },
    flush(cb: TransformCallback) {
      if (held.length === 0) return cb();
      const bytes = Buffer.concat(held);
      held = [];
      const err = check(bytes, 0);
      cb(err, err === undefined ? bytes : undefined);
    },
  });
}
