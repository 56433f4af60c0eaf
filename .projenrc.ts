import { cdk8s, javascript } from 'projen';

// Single source of truth for package.json, tsconfig, eslint and jest configuration.
const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-istio-source-ip',
  description: 'cdk8s constructs that preserve the real client source IP in an Istio mesh, refuse misconfigurations, and explain which client IP every hop sees',
  author: 'cdk8s-istio-source-ip maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/example/cdk8s-istio-source-ip.git',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  cdk8sVersion: '2.70.0',
  constructsVersion: '10.4.0',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  // Fix 2 of the verified setup: pins @types/node@^20 instead of the unavailable @types/node@ts6.0 dist-tag.
  minNodeVersion: '20.0.0',

  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // Runtime dependencies of a jsii library must be bundled.
  bundledDeps: ['ipaddr.js@^2.2.0', 'yaml@^2.5.0'],
  devDeps: [
    'cdk8s-plus-27@2.9.5',
    'cdk8s-cli@^2.207.60',
    'ajv@^8.17.1',
    '@kubernetes-models/istio@^3.0.1',
    'kubernetes-models@^5.1.0',
    '@grpc/grpc-js-xds@^1.14.1',
    'protobufjs@^7.4.0',
    'fast-check@^4.3.0',
  ],

  jestOptions: {
    // Fix 4: `test` runs `jest --ci` and never rewrites snapshots; `test:update` does that on purpose.
    updateSnapshot: javascript.UpdateSnapshot.NEVER,
    // .ci/run reads the pass/fail counts from this file.
    extraCliOptions: ['--json', '--outputFile=test-reports/jest-results.json'],
    jestConfig: {
      coveragePathIgnorePatterns: ['/node_modules/', '/imports/'],
      testPathIgnorePatterns: ['/node_modules/', '/lib/', '/dist/'],
      // @kubernetes-models/istio 3.x and its helpers ship ESM only (exports with an `import` condition and no
      // `require`): the resolver retries such packages with the `import` condition, and ts-jest transpiles them
      // to CommonJS instead of jest skipping node_modules.
      resolver: '<rootDir>/test/esm-only-resolver.js',
      transformIgnorePatterns: ['/node_modules/(?!(@kubernetes-models|kubernetes-models|is-cidr|cidr-regex|ip-regex)/)'],
      transform: {
        '^.+\\.[t]sx?$': new javascript.Transform('ts-jest', { tsconfig: 'test/tsconfig.json' }),
        '^.+\\.m?js$': new javascript.Transform('ts-jest', {
          tsconfig: { allowJs: true, module: 'commonjs', target: 'es2022', isolatedModules: true, esModuleInterop: true },
        }),
      },
      testTimeout: 120_000,
    },
  },
  eslintOptions: {
    dirs: ['src'],
    ignorePatterns: ['*.js', '*.d.ts', 'node_modules/', '*.generated.ts', 'coverage', 'imports/'],
  },
  // Fix 5: ts-jest runs with isolatedModules, so type-check tests (and README examples) separately.
  typecheckTests: true,
  tsconfig: {
    // Separate source maps: inline ones triple the size of the generated Istio classes and slow down `require`.
    compilerOptions: { rootDir: '.', inlineSourceMap: false, inlineSources: false, sourceMap: true },
    include: ['imports/**/*.ts'],
  },
  tsconfigDev: {
    // test/tsconfig.json: paths are relative to test/, and the whole repository is type-checked from there.
    compilerOptions: { rootDir: '..', allowJs: true },
    include: ['../imports/**/*.ts', '../src/**/*.ts', '../examples/**/*.ts', '../bench/**/*.ts'],
    exclude: ['../examples/**/dist', '../examples/**/node_modules', '.docs-examples'],
  },
  github: false,
  release: false,
  sampleCode: false,
  keywords: ['cdk8s', 'istio', 'kubernetes', 'service-mesh', 'envoy', 'source-ip', 'x-forwarded-for', 'proxy-protocol', 'tproxy'],
});

// The compiled layout keeps `imports/` and `src/` side by side under lib/.
project.package.addField('main', 'lib/src/index.js');
project.package.addField('types', 'lib/src/index.d.ts');
project.package.addBin({ 'cdk8s-istio-source-ip': 'bin/cdk8s-istio-source-ip' });
project.npmignore?.include('/bin/');
// The package ships lib/ (compiled src and imports), bin/, docs and API.md; sources of tooling stay out.
project.npmignore?.exclude('/.ci/', '/bench/', '/examples/', '/imports/', '/test-reports/', '/conformance/');

// Fix 3: the registry lacks platform bindings of unrs-resolver@1.13.0, which leaves the lockfile incomplete.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// Document only the hand-written API; the generated CRD submodules would make API.md megabytes long.
project.tasks.tryFind('docgen')?.reset('jsii-docgen -o API.md --submodule root');

project.gitignore.exclude('examples/**/dist/', 'bench/out/', '/.ci/out/', '*.tgz', 'test/.docs-examples/', '/conformance/out/', '/conformance/istio/*.test');

// Quiet, offline-friendly tooling: no jsii end-of-life banner, no cdk8s upgrade check against the network.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');
project.tasks.addEnvironment('CDK8S_CHECK_UPGRADE', 'false');

project.addTask('import', {
  description: 'Regenerate imports/ from the Istio CRD bundle in $ISTIO_CRDS_DIR (never hand-edit imports/)',
  exec: 'sh -c \'cdk8s import "${ISTIO_CRDS_DIR:-../shared/istio-crds}/crd-all.gen.1.30.3.yaml" --language typescript --output imports --no-save --no-check-upgrade\'',
});

project.addTask('example', {
  description: 'Synthesise the seed-scenarios example app to examples/seed-scenarios/dist and summarise every object',
  cwd: 'examples/seed-scenarios',
  steps: [
    { exec: 'cdk8s synth --no-check-upgrade --no-validate' },
    { exec: 'ts-node --transpile-only -P ../../test/tsconfig.json ../summarize.ts dist' },
  ],
});

project.addTask('bench', {
  description: 'Benchmarks: synth time, peak memory and start-up against a plain cdk8s baseline',
  exec: 'ts-node --transpile-only -P test/tsconfig.json bench/run.ts',
});

project.addTask('fuzz', {
  description: 'Property-based tests with many more generated cases than CI runs',
  env: { FUZZ_RUNS: '20000' },
  exec: 'jest --ci --testPathPatterns test/property',
});

project.synth();
