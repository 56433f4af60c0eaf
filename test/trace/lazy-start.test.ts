import * as path from 'path';

/*
 * Start-up: requiring the package loads the constructs and the model, not the trace's walk, the generated L1 modules,
 * the manifest reader, its YAML parser or the CLI; the first synthesis and `Explainer` load them on first use.
 */

const SRC = path.join(__dirname, '..', '..', 'src');
const IMPORTS = path.join(__dirname, '..', '..', 'imports');
const IPADDR = `${path.sep}ipaddr.js${path.sep}`;

function loaded(): string[] {
  return Object.keys(require.cache).filter(f => f.startsWith(SRC)).map(f => path.relative(SRC, f));
}

test('requiring the package does not load the manifest reader, the YAML parser, ipaddr.js or the CLI', () => {
  // GIVEN a fresh module registry
  jest.isolateModules(() => {
    // WHEN the package is required
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const lib = require('../../src');
    // THEN the explainer's reader is not loaded, though Explainer is exported
    expect(typeof lib.Explainer.fromYaml).toBe('function');
    expect(loaded()).not.toContain(path.join('explain', 'manifest-parser.ts'));
    expect(loaded()).not.toContain(path.join('explain', 'input.ts'));
    expect(loaded()).not.toContain('cli.ts');
    // nor the trace's walk, which the first synthesis (or explain) loads
    expect(loaded()).not.toContain(path.join('trace', 'app-trace.ts'));
    expect(loaded()).toContain(path.join('trace', 'topology-trace.ts'));
    // nor the generated L1 modules (imports/), which the constructs load when they first render
    expect(Object.keys(require.cache).filter(f => f.startsWith(IMPORTS))).toEqual([]);
    // nor ipaddr.js, which the first address outside the IPv4 fast path loads
    expect(Object.keys(require.cache).filter(f => f.includes(IPADDR))).toEqual([]);
    lib.CidrList.fromCidrs(['2001:db8::/32']);
    expect(Object.keys(require.cache).filter(f => f.includes(IPADDR))).not.toEqual([]);
    // and the first explain loads it
    lib.Explainer.fromYaml('apiVersion: v1\nkind: Namespace\nmetadata: { name: web }\n');
    expect(loaded()).toContain(path.join('explain', 'manifest-parser.ts'));
    expect(loaded()).toContain(path.join('trace', 'app-trace.ts'));
  });
});
