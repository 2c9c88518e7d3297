// Which room may import which, read from the source files themselves. The server and the CLI
// reached into src/stages for types and helpers and around pipeline/index.ts to the scheduler,
// so a stage file could not be renamed or split without editing routes; they now go through the
// pipeline's public surface (src/pipeline/index.ts), and this keeps it so.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The .ts files under `dir` (a repo path with forward slashes), sorted. */
function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(`${dir}/${e.name}`) : e.name.endsWith('.ts') ? [`${dir}/${e.name}`] : []))
    .sort();
}

/** Every relative module a file names (import, export … from, import(), import type), as a repo path to the .ts file. */
function importsOf(file: string): string[] {
  // preProcessFile is the compiler's own import scanner: it sees re-exports, dynamic and type-only imports alike.
  const { importedFiles } = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
  return importedFiles
    .map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, '.ts'));
}

function intoPipelineInternals(target: string): boolean {
  return target.startsWith('src/stages/') || (target.startsWith('src/pipeline/') && target !== 'src/pipeline/index.ts');
}

t.test('src/server and src/cli import the stages and the scheduler only through src/pipeline/index.ts', async (t) => {
  const files = [...sourceFiles('src/server'), ...sourceFiles('src/cli')];
  const edges = files.flatMap((file) => importsOf(file).map((target) => `${file} → ${target}`));
  // The scan must see imports at all, or an empty result would pass for a clean one.
  t.ok(edges.includes('src/server/routes/predict.ts → src/pipeline/index.ts'), 'the scanner sees the routes importing the pipeline');
  const breaking = edges.filter((edge) => intoPipelineInternals(edge.split(' → ')[1]!));
  t.same(breaking, [], 'no file imports src/stages/* or a src/pipeline file other than index.ts');
});
