import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/*
 * docs/ARCHITECTURE.md, "Object literals": in the code a synthesis runs for every construct (the constructs, the model,
 * the trace and what they stand on), no object literal starts with a spread and has more members. On Node.js 20's V8
 * such a literal (`{ ...base, field }`, `{ ...(c ? { a } : {}), b }`) gives every object it creates a hidden class of
 * its own: memory for each, and megamorphic reads wherever the objects are read. `Object.assign({}, base, { field })`
 * or a literal that starts with a plain member keeps one hidden class per shape.
 */

const SRC = path.join(__dirname, '..', '..', 'src');
/** The folders whose code runs per construct at synthesis. explain, verify and the CLI read hostile input and keep spreads. */
const PER_CONSTRUCT = ['ambient', 'envoy', 'ingress', 'mesh', 'model', 'net', 'policy', 'trace', 'util'];

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true })
    .flatMap(d => d.isDirectory() ? filesUnder(path.join(dir, d.name)) : d.name.endsWith('.ts') ? [path.join(dir, d.name)] : []);
}

/** The object literals of `source` that start with a spread and have more members, as `file:line: text`. */
function spreadFirstLiterals(file: string, source: string): string[] {
  const sf = ts.createSourceFile(file, source, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isObjectLiteralExpression(node) && node.properties.length > 1 && ts.isSpreadAssignment(node.properties[0])) {
      const line = sf.getLineAndCharacterOfPosition(node.getStart()).line + 1;
      found.push(`${path.relative(SRC, file)}:${line}: ${node.getText().replace(/\s+/g, ' ').slice(0, 100)}`);
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return found;
}

describe('object literals', () => {
  test('no literal in the per-construct code starts with a spread and has more members', () => {
    // GIVEN every source file of the folders a synthesis runs per construct
    const files = PER_CONSTRUCT.flatMap(folder => filesUnder(path.join(SRC, folder)));
    expect(files.length).toBeGreaterThan(50);
    // WHEN their object literals are read
    const found = files.flatMap(f => spreadFirstLiterals(f, fs.readFileSync(f, 'utf-8')));
    // THEN none starts with a spread followed by more members
    expect(found).toEqual([]);
  });

  test('the check finds the shapes it is about, and leaves the others alone', () => {
    // GIVEN literals of each shape
    const source = [
      'const a = { ...base, field: 1 };',
      'const b = { ...(c ? { x } : {}), y };',
      'const c = { ...one, ...two };',
      'const d = { ...base };',
      'const e = { field: 1, ...base };',
      'const f = Object.assign({}, base, { field: 1 });',
    ].join('\n');
    // WHEN the check reads them
    const found = spreadFirstLiterals(path.join(SRC, 'example.ts'), source);
    // THEN it reports exactly the three that start with a spread and have more members
    expect(found.map(f => f.split(':')[1])).toEqual(['1', '2', '3']);
  });
});
