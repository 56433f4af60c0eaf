import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/*
 * The layer table (docs/ARCHITECTURE.md, "Layers"), enforced on every import of src/, type-only ones included:
 * import-cycles.js sees the runtime graph only, and a type import between folders still couples them.
 */

const ROOT = path.join(__dirname, '..', '..');
const SRC = path.join(ROOT, 'src');

const CONSTRUCTS = ['ingress', 'mesh', 'ambient', 'policy'];
const BELOW_CONSTRUCTS = ['trace', 'model', 'net', 'envoy', 'util'];

/** What each part of src/ may import of ours (its own folder always); packages from node_modules are not limited. */
const LAYERS: { [part: string]: string[] } = {
  'envoy': [],
  'util': [],
  'net': ['envoy'],
  'model': ['envoy', 'net', 'util'],
  'trace': ['model', 'net', 'envoy', 'util'],
  // The constructs stand on the trace and may use one another (a gateway creates policies; runtime cycles are
  // import-cycles.js's to catch), and the generated L1 classes of imports/.
  ...Object.fromEntries(CONSTRUCTS.map(c => [c, [...BELOW_CONSTRUCTS, ...CONSTRUCTS, 'imports']])),
  'explain': BELOW_CONSTRUCTS,
  'plugin': ['explain', ...BELOW_CONSTRUCTS],
  // verify reads manifests as explain does and compares the one trace with what the cluster produced.
  'verify': ['explain', ...BELOW_CONSTRUCTS],
  'cli.ts': ['explain', 'plugin', 'verify', ...BELOW_CONSTRUCTS],
};

/** Imports the table forbids that another change removes, each with the reason. */
const KNOWN_EXCEPTIONS: Array<{ from: string; to: string; why: string }> = [];

interface Violation { readonly file: string; readonly line: number; readonly specifier: string; readonly message: string }

/** The part of the repository a path is in: a folder of src/, a file at src/'s top, `imports`, or undefined (outside). */
function partOf(absolute: string): string | undefined {
  const rel = path.relative(ROOT, absolute).split(path.sep);
  if (rel[0] === 'imports') return 'imports';
  if (rel[0] !== 'src') return undefined;
  if (rel.length > 2) return rel[1];
  // A file at src/'s top (cli.ts, index.ts), named as in the table whether the specifier has ".ts" or not.
  const isFolder = fs.existsSync(absolute) && fs.statSync(absolute).isDirectory();
  return isFolder || rel[1].endsWith('.ts') ? rel[1] : `${rel[1]}.ts`;
}

/** Every module specifier of a file with its line: imports (type-only too), re-exports, require() and import(). */
function specifiers(source: ts.SourceFile): Array<{ specifier: string; line: number }> {
  const found: Array<{ specifier: string; line: number }> = [];
  const add = (node: ts.Node, literal: ts.Expression | undefined) => {
    if (literal && ts.isStringLiteralLike(literal)) {
      found.push({ specifier: literal.text, line: source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1 });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node, node.moduleSpecifier);
    else if (ts.isImportEqualsDeclaration(node) && ts.isExternalModuleReference(node.moduleReference)) add(node, node.moduleReference.expression);
    else if (ts.isCallExpression(node) && (node.expression.kind === ts.SyntaxKind.ImportKeyword
      || (ts.isIdentifier(node.expression) && node.expression.text === 'require'))) add(node, node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add(node, node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** The imports of one src/ file that its layer forbids, and for an index file anything but re-exports. */
export function layerViolations(file: string, text: string): Violation[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const rel = path.relative(ROOT, file).split(path.sep).join('/');
  const part = rel.split('/')[1];
  const violations: Violation[] = [];
  if (path.basename(file) === 'index.ts') {
    for (const statement of source.statements) {
      if (ts.isExportDeclaration(statement) && statement.moduleSpecifier !== undefined) continue;
      const line = source.getLineAndCharacterOfPosition(statement.getStart(source)).line + 1;
      violations.push({ file: rel, line, specifier: '', message: `${rel}:${line}: an index file only re-exports (export ... from), found: ${statement.getText(source).split('\n')[0]}` });
    }
  }
  const allowed = LAYERS[part];
  for (const { specifier, line } of specifiers(source)) {
    if (!specifier.startsWith('.')) continue;
    const target = path.resolve(path.dirname(file), specifier);
    const to = partOf(target);
    if (to === undefined || to === part) continue;
    if (part === 'index.ts') continue; // the public surface re-exports everything
    const targetRel = path.relative(ROOT, target).split(path.sep).join('/');
    if (KNOWN_EXCEPTIONS.some(e => e.from === rel && e.to === targetRel)) continue;
    if (allowed === undefined) {
      violations.push({ file: rel, line, specifier, message: `${rel}:${line}: src/${part} is not in the layer table; add it to test/architecture/layers.test.ts and docs/ARCHITECTURE.md` });
    } else if (!allowed.includes(to)) {
      violations.push({ file: rel, line, specifier, message: `${rel}:${line}: import '${specifier}' goes from ${part} to ${to}; ${part} may import ${allowed.length > 0 ? allowed.join(', ') : 'nothing of ours'}` });
    }
  }
  return violations;
}

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

describe('layers', () => {
  test('every import of src/ (type-only ones too) follows the layer table', () => {
    // GIVEN every file of src/ WHEN its imports are checked THEN none crosses the table
    const violations = sourceFiles(SRC).flatMap(f => layerViolations(f, fs.readFileSync(f, 'utf-8')));
    expect(violations.map(v => v.message)).toEqual([]);
  });

  test('every known exception still exists (remove it once fixed)', () => {
    for (const e of KNOWN_EXCEPTIONS) {
      const file = path.join(ROOT, e.from);
      const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf-8'), ts.ScriptTarget.Latest, true);
      const targets = specifiers(source).map(s => path.relative(ROOT, path.resolve(path.dirname(file), s.specifier)).split(path.sep).join('/'));
      expect(targets.includes(e.to) ? e : `stale exception ${e.from} -> ${e.to}`).toBe(e);
    }
  });

  test('fails on a type-only import across the table, naming the import', () => {
    // GIVEN a model file that imports a type from the trace, and one from envoy (allowed)
    const file = path.join(SRC, 'model', 'example.ts');
    const text = "import type { TraceContext } from '../trace/trace-types';\nimport { STATUS_PORT } from '../envoy/names';\n";
    // WHEN
    const violations = layerViolations(file, text);
    // THEN
    expect(violations.map(v => v.message)).toEqual([
      "src/model/example.ts:1: import '../trace/trace-types' goes from model to trace; model may import envoy, net, util",
    ]);
  });

  test('fails on an index file that declares something', () => {
    // GIVEN an index file with a declaration besides its re-exports
    const file = path.join(SRC, 'net', 'index.ts');
    // WHEN
    const violations = layerViolations(file, "export * from './cidr';\nexport const x = 1;\n");
    // THEN
    expect(violations.map(v => v.message)).toEqual(['src/net/index.ts:2: an index file only re-exports (export ... from), found: export const x = 1;']);
  });
});
