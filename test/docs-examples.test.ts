import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as ts from 'typescript';

/*
 * Every ```ts block in README.md and docs/*.md is a complete program: this test type-checks all of them
 * against the library source and then runs each one (its `app.synth()` writes to a temp dir).
 */

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'test', '.docs-examples');

interface Example { readonly doc: string; readonly index: number; readonly line: number; readonly file: string }

function docFiles(): string[] {
  const docsDir = path.join(ROOT, 'docs');
  const docs = fs.existsSync(docsDir) ? fs.readdirSync(docsDir).filter(f => f.endsWith('.md')).sort().map(f => path.join('docs', f)) : [];
  return ['README.md', ...docs];
}

function extractExamples(): Example[] {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const examples: Example[] = [];
  for (const doc of docFiles()) {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf-8');
    const re = /^```ts\n([\s\S]*?)^```/gm;
    let m: RegExpExecArray | null;
    let index = 0;
    while ((m = re.exec(text)) !== null) {
      const line = text.slice(0, m.index).split('\n').length;
      const source = m[1].replace(/from 'cdk8s-istio-source-ip'/g, `from '${path.join(ROOT, 'src').replace(/\\/g, '/')}'`);
      const file = path.join(OUT, `${doc.replace(/[\/.]/g, '-')}-${index}.ts`);
      fs.writeFileSync(file, `// ${doc}:${line}\n${source}`);
      examples.push({ doc, index, line, file });
      index++;
    }
  }
  return examples;
}

const examples = extractExamples();

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of markdown.replace(/^```[\s\S]*?^```/gm, '').split('\n')) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1].toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

test('every relative link in README.md and docs/*.md points to a file that exists, and to a heading in it', () => {
  const broken: string[] = [];
  for (const doc of docFiles()) {
    const text = fs.readFileSync(path.join(ROOT, doc), 'utf-8');
    // Links outside code: fenced blocks and inline code are not links.
    const prose = text.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');
    for (const m of prose.matchAll(/\]\(([^)\s]+)\)/g)) {
      const target = m[1];
      if (/^[a-z]+:/i.test(target)) continue;
      const [file, anchor] = target.split('#');
      const resolved = file === '' ? path.join(ROOT, doc) : path.resolve(path.dirname(path.join(ROOT, doc)), file);
      if (!fs.existsSync(resolved)) {
        broken.push(`${doc}: ${target} (no such file)`);
      } else if (anchor !== undefined && resolved.endsWith('.md') && !headingAnchors(fs.readFileSync(resolved, 'utf-8')).has(anchor)) {
        broken.push(`${doc}: ${target} (no such heading)`);
      }
    }
  }
  expect(broken).toEqual([]);
});

test('the situation guides are linked from the top of the README', () => {
  const top = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf-8').split('\n## ')[0];
  expect(top).toContain('](docs/choose.md)');
  expect(top).toContain('](docs/troubleshooting.md)');
});

test('README and docs contain examples', () => {
  expect(examples.filter(e => e.doc === 'README.md').length).toBeGreaterThan(0);
});

test('every example type-checks against the library', () => {
  const config = ts.readConfigFile(path.join(ROOT, 'tsconfig.json'), ts.sys.readFile).config;
  const { options } = ts.convertCompilerOptionsFromJson({ ...config.compilerOptions, noEmit: true, rootDir: ROOT, noUnusedLocals: false }, ROOT);
  const program = ts.createProgram(examples.map(e => e.file), options);
  const diagnostics = ts.getPreEmitDiagnostics(program)
    .filter(d => d.file && d.file.fileName.startsWith(OUT))
    .map(d => `${path.basename(d.file!.fileName)}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  expect(diagnostics).toEqual([]);
});

describe.each(examples.map(e => [`${e.doc} example ${e.index + 1} (line ${e.line})`, e] as const))('%s', (_name, example) => {
  test('runs and synthesises', () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'docs-example-'));
    const previous = process.env.CDK8S_OUTDIR;
    process.env.CDK8S_OUTDIR = outdir;
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(example.file);
      });
    } finally {
      if (previous === undefined) delete process.env.CDK8S_OUTDIR;
      else process.env.CDK8S_OUTDIR = previous;
    }
    const written = fs.readdirSync(outdir).filter(f => f.endsWith('.yaml'));
    expect(written.length).toBeGreaterThan(0);
  });
});
