#!/usr/bin/env node
import { CommanderError } from 'commander';
import { isDriftlineError } from '../errors.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode;
  } else {
    const msg = isDriftlineError(err) ? `${err.code}: ${err.message}` : err instanceof Error ? (err.stack ?? err.message) : String(err);
    process.stderr.write(`driftline: ${msg}\n`);
    process.exitCode = 1;
  }
}
