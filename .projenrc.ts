import { cdk, cdk8s, javascript, release } from 'projen';

// Single source of truth for package.json, tsconfig, eslint and jest configuration.
const project = new cdk8s.ConstructLibraryCdk8s({
  name: 'cdk8s-istio-source-ip',
  description: 'cdk8s constructs that preserve the real client source IP in an Istio mesh, refuse misconfigurations, and explain which client IP every hop sees',
  author: 'cdk8s-istio-source-ip maintainers',
  authorAddress: 'https://github.com/cdk8s-istio-source-ip',
  authorOrganization: true,
  repositoryUrl: 'https://github.com/cdk8s-istio-source-ip/cdk8s-istio-source-ip.git',
  homepage: 'https://github.com/cdk8s-istio-source-ip/cdk8s-istio-source-ip#readme',
  bugsUrl: 'https://github.com/cdk8s-istio-source-ip/cdk8s-istio-source-ip/issues',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  cdk8sVersion: '2.70.0',
  constructsVersion: '10.4.0',
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~6.0.0',
  // Node 22 and 24 (the maintained LTS lines, which jsii supports); also pins @types/node@^22 instead of the
  // unavailable @types/node@ts6.0 dist-tag (fix 2 of the verified setup).
  minNodeVersion: '22.0.0',
  // Unreleased: experimental until 1.0 (the PyPI classifier follows: "4 - Beta").
  stability: cdk.Stability.EXPERIMENTAL,

  peerDeps: ['cdk8s-plus-27@^2.9.5'],
  // Runtime dependencies of a jsii library must be bundled.
  // js-yaml reads manifests for explain: about ten times faster than yaml on large inputs, with a nesting limit.
  bundledDeps: ['ipaddr.js@^2.2.0', 'js-yaml@^4.3.2'],
  devDeps: [
    'cdk8s-plus-27@2.9.5',
    // Consumers' apps scaffolded by `cdk8s init` use the newest cdk8s-plus: tests build workloads with it too.
    'cdk8s-plus-33@^2.5.57',
    'cdk8s-cli@^2.207.60',
    'ajv@^8.17.1',
    '@kubernetes-models/istio@^3.0.1',
    '@kubernetes-models/gateway-api@^2.0.0',
    'kubernetes-models@^5.1.0',
    '@grpc/grpc-js-xds@^1.14.1',
    'protobufjs@^7.4.0',
    'fast-check@^4.3.0',
    '@types/js-yaml@^4.0.9',
    'yaml@^2.5.0',
    // Bundles lib/src/index.js into the package's entry point, lib/index.js (see the compile task below).
    'esbuild@~0.28.2',
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
      // The harness's CRD validators and Envoy descriptors are prepared once per run, not once per test file.
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      // CI machines have 2 cores: jest's default (cores - 1) would run every file in one worker.
      maxWorkers: 2,
      // Coverage instrumentation slows every file; `npx projen test:coverage` collects it on demand.
      collectCoverage: false,
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
  // The release workflow (GitHub Actions): one run of it builds once and publishes to npm, PyPI, Maven Central and the
  // Go module repository (publishToPypi, publishToMaven, publishToGo below), tagging the version. The first release is
  // 0.1.0 (nextVersionCommand, with no tag yet); later ones follow the commits. Only that workflow is generated.
  github: true,
  githubOptions: { mergify: false, pullRequestLint: false },
  buildWorkflow: false,
  // The upgrade task stays; no workflow runs it.
  depsUpgradeOptions: { workflow: false },
  pullRequestTemplate: false,
  release: true,
  releaseTrigger: release.ReleaseTrigger.workflowDispatch(),
  majorVersion: 0,
  nextVersionCommand: 'sh -c \'test -n "$LATEST_TAG" || echo 0.1.0\'',
  releaseToNpm: true,
  // The release jobs run on the newest Node.js LTS.
  workflowNodeVersion: '24.x',
  sampleCode: false,
  // jsii targets, named the way cdk8s-plus names its packages (cdk8s_plus_27, org.cdk8s.plus27, cdk8s-plus-go/cdk8splus27);
  // the Maven group and Java package sit under the project's own GitHub namespace, which Maven Central can verify.
  publishToPypi: { distName: 'cdk8s-istio-source-ip', module: 'cdk8s_istio_source_ip' },
  publishToMaven: {
    javaPackage: 'io.github.cdk8sistiosourceip',
    mavenGroupId: 'io.github.cdk8s-istio-source-ip',
    mavenArtifactId: 'cdk8s-istio-source-ip',
  },
  publishToGo: { moduleName: 'github.com/cdk8s-istio-source-ip/cdk8s-istio-source-ip-go', packageName: 'cdk8sistiosourceip' },
  // Construct Hub lists cdk8s libraries by `cdk8s` and `constructs`; `cdk8s-plus`: works with its workloads.
  keywords: ['cdk8s', 'constructs', 'cdk8s-plus', 'istio', 'kubernetes', 'service-mesh', 'envoy', 'source-ip', 'x-forwarded-for', 'proxy-protocol', 'tproxy'],
});

// The compiled layout keeps `imports/` and `src/` side by side under lib/. The package's entry point is lib/index.js:
// jsii's output for src/index.ts (lib/src/index.js and every module it requires) bundled into one file, because
// Node.js pays per file it loads: 90 files cost about 10 ms more start-up than the same code in one (issue 29,
// bench/RESULTS.md). Modules required on first use stay lazy inside the bundle; the packages (cdk8s, cdk8s-plus-27,
// constructs and the bundled ipaddr.js and js-yaml) stay external. jsii's runtime type information is in its output,
// so the bundle keeps it. esbuild renames a class that refers to itself (PreservedIngressGateway becomes
// _PreservedIngressGateway); the footer gives every exported class its own `name` back. Not --keep-names: it wraps
// every function the library creates (each `produce: () => ...` closure of every construct) in a defineProperty of its
// `name`, which cost about half a KiB per workload unit of `npm run bench` (bench/RESULTS.md). The CLI (bin/) runs from
// lib/src/ as jsii wrote it: a process of its own, which never loads the bundle. The types stay in lib/src/.
const RESTORE_CLASS_NAMES = 'for(const k of Object.keys(module.exports)){const v=module.exports[k];'
  + 'if(typeof v==="function"&&v.name==="_"+k)Object.defineProperty(v,"name",{value:k,configurable:true})}';
project.compileTask.exec('esbuild lib/src/index.js --bundle --platform=node --format=cjs --target=node22 --packages=external '
  + `--minify-whitespace --minify-syntax '--footer:js=${RESTORE_CLASS_NAMES}' --sourcemap --sources-content=false --log-level=warning `
  + '--outfile=lib/index.js');
project.package.addField('main', 'lib/index.js');
project.package.addField('types', 'lib/src/index.d.ts');
project.package.addBin({ 'cdk8s-istio-source-ip': 'bin/cdk8s-istio-source-ip' });
project.npmignore?.include('/bin/');
// The package ships lib/ (compiled src and imports), bin/, docs and API.md; sources of tooling stay out.
project.npmignore?.exclude('/.ci/', '/bench/', '/examples/', '/imports/', '/test-reports/', '/conformance/');

// Fix 3: the registry lacks platform bindings of unrs-resolver@1.13.0, which leaves the lockfile incomplete.
project.package.addField('overrides', { 'unrs-resolver': '1.12.2' });

// The Go module proxy serves no github.com/cdk8s-team/cdk8s-core-go or cdk8s-plus-go module (403), so jsii-pacmak
// cannot compile the generated module here: package:go writes its source (what a Go release publishes), and
// .ci/multilang.sh compiles it in the Go consumer app against cdk8s modules generated from their npm packages.
project.tasks.tryFind('package:go')?.reset('jsii-pacmak -v --code-only --target go');
// Maven Central has no org.cdk8s:cdk8s-plus-27: build its jar from the npm package in the same run (it lands in
// node_modules/cdk8s-plus-27/dist/java), so that ours compiles against it.
project.tasks.tryFind('package:java')?.reset('jsii-pacmak -v . node_modules/cdk8s-plus-27 --target java');

// Document only the hand-written API; the generated CRD submodules would make API.md megabytes long.
project.tasks.tryFind('docgen')?.reset('jsii-docgen -o API.md --submodule root');

project.gitignore.exclude('examples/**/dist/', 'examples/**/target/', '__pycache__/', 'bench/out/', '/.ci/out/', '*.tgz', 'test/.docs-examples/', '/conformance/out/', '/conformance/istio/*.test', '/conformance/istio-1.30/*.test', '/.jsii-compile-lock/');

// Quiet, offline-friendly tooling: no jsii end-of-life banner, no cdk8s upgrade check against the network.
project.tasks.addEnvironment('JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION', '20');
project.tasks.addEnvironment('CDK8S_CHECK_UPGRADE', 'false');

project.addTask('import', {
  description: 'Regenerate imports/ from the Istio CRD bundle in $ISTIO_CRDS_DIR and the Gateway API bundle in $GATEWAY_API_CRDS_DIR (never hand-edit imports/)',
  steps: [
    { exec: 'sh -c \'cdk8s import "${ISTIO_CRDS_DIR:-../shared/istio-crds}/crd-all.gen.1.30.3.yaml" --language typescript --output imports --no-save --no-check-upgrade\'' },
    // v1.6.1 standard serves Gateway, HTTPRoute and ReferenceGrant in the versions every supported Istio reads, and
    // TCPRoute/TLSRoute both as v1 (Istio 1.30+/1.31) and as the v1alpha2 schema older releases read.
    { exec: 'sh -c \'cdk8s import "${GATEWAY_API_CRDS_DIR:-../shared/gateway-api-crds}/gateway-api-v1.6.1-standard.yaml" --language typescript --output imports --no-save --no-check-upgrade\'' },
  ],
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
  // `npm run bench -- --reps 3` must reach bench/run.ts.
  receiveArgs: true,
});

project.addTask('test:coverage', {
  description: 'The jest suite with coverage (lcov, cobertura and a text summary in coverage/)',
  exec: 'jest --ci --coverage',
});

project.addTask('bench:explain', {
  description: 'Benchmark of explain: time and peak memory over 1, 10 and 50 MB of manifests',
  exec: 'ts-node --transpile-only -P test/tsconfig.json bench/explain.ts',
  receiveArgs: true,
});

project.addTask('fuzz', {
  description: 'Property-based tests with many more generated cases than CI runs',
  env: { FUZZ_RUNS: '20000' },
  exec: 'jest --ci --testPathPatterns test/property',
});

project.synth();
