import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

/*
 * Facts with one owner (docs/ARCHITECTURE.md, "Which file owns which fact"): each Istio fact below is written as a
 * literal in its owner file only, and imported everywhere else. Comments and prose inside longer messages may name
 * them; a string literal that is exactly the fact (or a template that builds it) or a numeric literal of a port may not.
 */

const SRC = path.join(__dirname, '..', '..', 'src');

interface Fact {
  /** What the test reports. */
  readonly name: string;
  /** The files that may write the literal (relative to the repository, with "/"). */
  readonly owners: string[];
  /** True when a string literal's text (a template's with `${}` for each substitution) is the fact. */
  readonly string?: (text: string) => boolean;
  /** The numeric literal that is the fact. */
  readonly number?: number;
}

const exactly = (value: string) => (text: string) => text === value;

const FACTS: Fact[] = [
  { name: 'proxy.istio.io/config', owners: ['src/envoy/names.ts'], string: exactly('proxy.istio.io/config') },
  { name: 'sidecar.istio.io/interceptionMode', owners: ['src/envoy/names.ts'], string: exactly('sidecar.istio.io/interceptionMode') },
  { name: 'sidecar.istio.io/inject', owners: ['src/envoy/names.ts'], string: exactly('sidecar.istio.io/inject') },
  { name: 'inject.istio.io/templates', owners: ['src/envoy/names.ts'], string: exactly('inject.istio.io/templates') },
  { name: 'istio.io/rev', owners: ['src/envoy/names.ts'], string: exactly('istio.io/rev') },
  // Two facts spelled alike: Istio's Gateway API class, and the ConfigMap istiod reads meshConfig from.
  { name: 'gateway class or mesh ConfigMap "istio"', owners: ['src/model/gateway-api.ts', 'src/envoy/names.ts'], string: exactly('istio') },
  { name: 'gateway class istio-waypoint', owners: ['src/model/ambient.ts'], string: exactly('istio-waypoint') },
  {
    name: 'label gateway.networking.k8s.io/gateway-name',
    owners: ['src/model/gateway-api.ts'],
    string: text => /^(gateway\.networking\.k8s\.io|\$\{\})\/gateway-name$/.test(text),
  },
  { name: '127.0.0.6', owners: ['src/envoy/names.ts'], string: exactly('127.0.0.6') },
  { name: 'istio-system', owners: ['src/envoy/names.ts'], string: exactly('istio-system') },
  { name: 'status port 15021', owners: ['src/envoy/names.ts'], number: 15021 },
  { name: 'sidecar inbound port 15006', owners: ['src/envoy/names.ts'], number: 15006 },
  { name: 'status port name', owners: ['src/envoy/names.ts'], string: exactly('status-port') },
  { name: 'local rate-limit filter', owners: ['src/envoy/names.ts'], string: exactly('envoy.filters.http.local_ratelimit') },
  { name: 'router filter', owners: ['src/envoy/names.ts'], string: exactly('envoy.filters.http.router') },
  { name: 'remote_address descriptor key', owners: ['src/envoy/names.ts'], string: exactly('remote_address') },
  { name: 'the client address command operator', owners: ['src/envoy/client-fields.ts'], string: exactly('%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%') },
];

/** Literals outside their owner that are known and left to another change, each with the reason. */
const KNOWN_EXCEPTIONS: Array<{ file: string; fact: string; why: string }> = [
  // GatewayFlavour.ISTIO is the flavour's public value (a jsii enum member is a literal), not the gateway class.
  { file: 'src/ingress/ingress-gateway-props.ts', fact: 'gateway class or mesh ConfigMap "istio"', why: 'GatewayFlavour.ISTIO, a public enum value' },
];

interface Hit { readonly file: string; readonly line: number; readonly fact: string; readonly text: string }

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [full] : [];
  });
}

/** Every string, template and numeric literal of a file (comments are not nodes, so they never count). */
function literalHits(file: string): Hit[] {
  const text = fs.readFileSync(file, 'utf-8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const rel = path.relative(path.join(SRC, '..'), file).split(path.sep).join('/');
  const hits: Hit[] = [];
  const check = (node: ts.Node, literal: string | undefined, value: number | undefined) => {
    for (const fact of FACTS) {
      const matches = (literal !== undefined && fact.string?.(literal)) || (value !== undefined && fact.number === value);
      if (!matches || fact.owners.includes(rel)) continue;
      const line = source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
      hits.push({ file: rel, line, fact: fact.name, text: node.getText(source) });
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) check(node, node.text, undefined);
    else if (ts.isTemplateExpression(node)) check(node, node.head.text + node.templateSpans.map(s => '${}' + s.literal.text).join(''), undefined);
    else if (ts.isNumericLiteral(node)) check(node, undefined, Number(node.text));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return hits;
}

describe('facts with one owner', () => {
  const hits = sourceFiles(SRC).flatMap(literalHits);

  test('no fact is written as a literal outside its owner file', () => {
    // GIVEN every literal of src/ WHEN compared with the facts THEN only owners (and the listed exceptions) write them
    const offending = hits.filter(h => !KNOWN_EXCEPTIONS.some(e => e.file === h.file && e.fact === h.fact));
    expect(offending.map(h => `${h.file}:${h.line}: ${h.text} is ${h.fact}; import it from ${FACTS.find(f => f.name === h.fact)!.owners.join(' or ')}`)).toEqual([]);
  });

  test('every known exception still exists (remove it once fixed)', () => {
    for (const e of KNOWN_EXCEPTIONS) {
      expect(hits.some(h => h.file === e.file && h.fact === e.fact) ? e : `stale exception ${e.file} ${e.fact}`).toBe(e);
    }
  });

  test('each owner writes its fact', () => {
    // The test would pass vacuously if an owner no longer held the literal (say, after a rename).
    const owned = FACTS.filter(f => f.owners.length === 1).map(f => {
      const file = path.join(SRC, '..', f.owners[0]);
      const source = ts.createSourceFile(file, fs.readFileSync(file, 'utf-8'), ts.ScriptTarget.Latest, true);
      let found = false;
      const visit = (node: ts.Node): void => {
        if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && f.string?.(node.text)) found = true;
        if (ts.isNumericLiteral(node) && f.number === Number(node.text)) found = true;
        ts.forEachChild(node, visit);
      };
      visit(source);
      return found ? f.name : `${f.name} not in ${f.owners[0]}`;
    });
    expect(owned).toEqual(FACTS.filter(f => f.owners.length === 1).map(f => f.name));
  });

  test('fails on a literal outside its owner, naming file and line', () => {
    // GIVEN a file outside the owner that writes the annotation key
    const dir = fs.mkdtempSync(path.join(SRC, '..', 'test', 'architecture', 'tmp-owners-'));
    const file = path.join(dir, 'bad.ts');
    try {
      fs.writeFileSync(file, "// proxy.istio.io/config in a comment is fine\nexport const key = 'proxy.istio.io/config';\nexport const port = 15021;\n");
      // WHEN
      const found = literalHits(file);
      // THEN
      expect(found.map(h => [h.line, h.fact])).toEqual([[2, 'proxy.istio.io/config'], [3, 'status port 15021']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
