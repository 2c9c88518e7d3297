// docs/models.md documents the model card: its JSON Schema must be the one the code checks
// cards with, every card field must be in its table, and the README's init command must use
// the command's real options.
import t from 'tap';
import { modelCardJsonSchema } from '../src/model/index.js';
import { buildProgram } from '../src/cli/program.js';
import { readPage, section } from './helpers/docs.js';

const DOC = readPage('docs/models.md');

t.test("the card's JSON Schema in docs/models.md is the one generated from the zod schema", async (t) => {
  const m = /<!-- card-schema -->\n```json\n([\s\S]*?)```/.exec(DOC);
  t.ok(m, 'docs/models.md has the schema block');
  const generated = modelCardJsonSchema();
  t.same(JSON.parse(m![1]!), generated, `if the card schema changed, replace the block with:\n${JSON.stringify(generated, null, 2)}`);
});

t.test('every card field is in the field table', async (t) => {
  const fields = Object.keys((modelCardJsonSchema() as { properties: Record<string, unknown> }).properties);
  for (const f of fields) t.match(DOC, new RegExp(`^\\| \`${f}(\\[\\])?\``, 'm'), `${f} is documented`);
});

t.test("the README's init command uses options the command has", async (t) => {
  const body = section('Serve your own model').body;
  const line = /^npx driftline init (.*)$/m.exec(body);
  t.ok(line, 'the README shows the init command');
  const init = buildProgram().commands.find((c) => c.name() === 'init')!;
  const args = line![1]!.split(/\s+/).filter((a) => a !== '');
  const parsed = init.parseOptions(args);
  t.same(parsed.unknown, [], 'no unknown options');
  t.same(parsed.operands, [], 'no stray words');
  for (const required of ['--onnx', '--data', '--target']) t.ok(args.includes(required), `shows ${required}`);
});
