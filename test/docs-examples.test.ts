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
