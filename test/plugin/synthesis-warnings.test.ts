import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { PreservedIngressGateway, SourceIpWarnings, TproxyWorkload, WorkloadSource } from '../../src';

/*
 * Under `cdk8s synth` (which sets CDK8S_RECORD_CONSTRUCT_METADATA for the app it runs) synthesis prints the
 * constructs' warnings to standard error, each once; elsewhere it prints nothing. test/cdk8s-plugin-package.test.ts
 * sees them in the real CLI's output.
 */

function synthCapturingStderr(env: string | undefined, build: (chart: Chart, n: number) => void): { stderr: string; app: App } {
  const previous = process.env.CDK8S_RECORD_CONSTRUCT_METADATA;
  if (env === undefined) delete process.env.CDK8S_RECORD_CONSTRUCT_METADATA;
  else process.env.CDK8S_RECORD_CONSTRUCT_METADATA = env;
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'synthesis-warnings-'));
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    const app = new App({ outdir, recordConstructMetadata: false });
    build(new Chart(app, 'first'), 1);
    build(new Chart(app, 'second'), 2);
    app.synth();
    return { stderr: write.mock.calls.map(c => String(c[0])).join(''), app };
  } finally {
    write.mockRestore();
    fs.rmSync(outdir, { recursive: true, force: true });
    if (previous === undefined) delete process.env.CDK8S_RECORD_CONSTRUCT_METADATA;
    else process.env.CDK8S_RECORD_CONSTRUCT_METADATA = previous;
  }
}

// One gateway replica and a TPROXY workload: warnings raised at construction.
const warnedApp = (chart: Chart, n: number) => {
  new PreservedIngressGateway(chart, 'Gateway', { namespace: `edge-${n}`, replicas: 1 }).addHttpServer({ hosts: ['a.example.com'] });
  new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.newDeployment({ name: `httpbin-${n}`, image: 'httpbin', port: 80 }) });
};

test('under cdk8s synth, synthesis prints every warning to standard error once, with its construct path', () => {
  // WHEN
  const { stderr, app } = synthCapturingStderr('false', warnedApp);
  // THEN one line per warning, in the order they were raised, although cdk8s validated the app once per chart too
  const expected = SourceIpWarnings.of(app).map(w => `cdk8s-istio-source-ip: warning [${w.path}] ${w.message}\n`);
  expect(expected.length).toBeGreaterThanOrEqual(6);
  expect(stderr.split(/(?<=\n)/).sort()).toEqual([...expected].sort());
  expect(stderr).toMatch(/^cdk8s-istio-source-ip: warning \[first\/Gateway\] replicas 1: a single gateway pod/m);
});

test('outside cdk8s synth nothing is printed', () => {
  // WHEN
  const { stderr, app } = synthCapturingStderr(undefined, warnedApp);
  // THEN
  expect(stderr).toBe('');
  expect(SourceIpWarnings.of(app).length).toBeGreaterThan(0);
});

test('an app without warnings prints nothing', () => {
  // WHEN
  const { stderr } = synthCapturingStderr('true', (chart, n) => {
    new PreservedIngressGateway(chart, 'Gateway', { namespace: `edge-${n}` }).addHttpServer({ hosts: ['a.example.com'] });
  });
  // THEN
  expect(stderr).toBe('');
});

test('Testing.synth of a chart prints nothing when the variable is unset', () => {
  // GIVEN
  delete process.env.CDK8S_RECORD_CONSTRUCT_METADATA;
  const write = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  const chart = Testing.chart();
  // WHEN
  warnedApp(chart, 1);
  Testing.synth(chart);
  // THEN
  expect(write).not.toHaveBeenCalled();
  write.mockRestore();
});
