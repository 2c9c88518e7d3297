// Run by `npm test` between the tests and `tap report`, which checks the coverage floor.
//
// Tests that start the CLI as a child (`node --import=tsx src/cli/index.ts …`, dist/, tsx's
// loader) leave coverage of src/ files compiled otherwise than by tap's own TypeScript loader;
// c8 keeps one source map per URL for all processes, so another compiler's map applied to
// tap's output collapses each file to one empty statement (the whole suite reported only the
// one static/ module no compiler touches). Only the processes tap started with its loader
// count: code that runs only in such children counts as not covered.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './shared.js';

const dir = path.join(ROOT, '.tap', 'coverage');
const info = path.join(ROOT, '.tap', 'processinfo');
const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
let dropped = 0;
for (const name of files) {
  const proc = path.join(info, name);
  // A process tap does not describe is dropped too: one stray map is enough to collapse the rest.
  const { execArgv = [] } = existsSync(proc) ? (JSON.parse(readFileSync(proc, 'utf8')) as { execArgv?: string[] }) : {};
  if (execArgv.some((a) => a.includes('/@tapjs/typescript/'))) continue;
  // The whole file goes: c8 keeps one source map per URL across every file, its own included.
  rmSync(path.join(dir, name));
  dropped++;
}
if (dropped > 0) console.log(`# coverage: left out ${dropped} child process(es) not started by tap`);
