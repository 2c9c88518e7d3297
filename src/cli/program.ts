// The `driftline` command. Each subcommand lives in its own module and registers itself here.
import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../config.js';
import { registerDrift } from './drift.js';
import { registerInit } from './init.js';
import { registerProfile } from './profile.js';
import { registerReport } from './report.js';
import { registerScore } from './score.js';
import { registerServe } from './serve.js';
import { registerSimulate } from './simulate.js';
import { registerTrain } from './train.js';

const pkg = JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string };

export function buildProgram(): Command {
  const program = new Command('driftline')
    .description('Serve an ONNX model over HTTP and watch its inputs for drift, live.')
    .version(pkg.version)
    .showHelpAfterError()
    // The program's own options (--version) only before the command: `init --version 2` is the model's.
    .enablePositionalOptions()
    .exitOverride();
  registerServe(program);
  registerScore(program);
  registerDrift(program);
  registerProfile(program);
  registerTrain(program);
  registerInit(program);
  registerSimulate(program);
  registerReport(program);
  return program;
}
