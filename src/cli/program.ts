// The `driftline` command. Each subcommand lives in its own module and registers itself here.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config.js';
import { registerServe } from './serve.js';

const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('driftline')
    .description('Serve an ONNX model over HTTP and watch its inputs for drift, live.')
    .version(pkg.version)
    .showHelpAfterError()
    .exitOverride();
  registerServe(program);
  return program;
}

