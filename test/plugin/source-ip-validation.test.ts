import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import {
  IValidationContext, IValidationReport, SourceIpValidation, SourceIpValidationProps, ValidationFailOn, ValidationStatus, ValidationViolation,
} from '../../src';
import { docs, gatewayYaml, sidecarXffFilterYaml, workloadYaml } from '../explain/fixtures';

/*
 * The validation plugin in process, with a report that records what cdk8s-cli's ValidationReport would receive.
 * test/cdk8s-plugin-package.test.ts runs it through the real `cdk8s synth` from the packed package.
 */

class RecordingReport implements IValidationReport {
  public readonly violations: ValidationViolation[] = [];
  public status?: ValidationStatus;
  public metadata?: { [key: string]: string };
  public addViolation(violation: ValidationViolation): void {
    if (this.status !== undefined) throw new Error('violation added after submit');
    this.violations.push(violation);
  }
  public submit(status: ValidationStatus, metadata?: { [key: string]: string }): void {
    this.status = status;
    this.metadata = metadata;
  }
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'source-ip-validation-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

function validate(manifests: string[], props?: SourceIpValidationProps): RecordingReport {
  const report = new RecordingReport();
  const context: IValidationContext = { manifests, report };
  new SourceIpValidation(props).validate(context);
  return report;
}

// A gateway Service with externalTrafficPolicy Cluster: explain's ERROR "client IP lost".
const clusterGateway = () => gatewayYaml({ etp: 'Cluster' });
const localGateway = () => gatewayYaml({ etp: 'Local' });
// An EnvoyFilter whose patch has no context: a WARNING ("no configPatch sets match.context").
const filterWithoutContext = () => sidecarXffFilterYaml(1).replace('      context: SIDECAR_INBOUND\n', '');

describe('reports explain findings as violations', () => {
  test('an ERROR finding is a violation with the object, the message and the fix, and fails', () => {
    // GIVEN
    const file = write('app.k8s.yaml', clusterGateway());
    // WHEN
    const report = validate([file]);
    // THEN
    expect(report.status).toBe(ValidationStatus.FAILURE);
    const lost = report.violations.find(v => /client IP lost/.test(v.recommendation));
    expect(lost).toBeDefined();
    expect(lost!.ruleName).toBe('error: gateway istio-ingress/ingressgateway');
    expect(lost!.fix).toMatch(/externalTrafficPolicy: Local/);
    // One object, the gateway's Service: cdk8s maps resources to constructs by name, which its Deployment shares.
    expect(lost!.violatingResources).toEqual([
      { resourceName: 'ingressgateway', manifestPath: file, locations: [`Service istio-ingress/ingressgateway (${file} document 2)`] },
    ]);
    expect(report.metadata).toEqual({ errors: expect.stringMatching(/^[1-9]/), warnings: expect.any(String), failOn: 'error' });
  });

  test('manifests without ERROR findings pass with an empty report', () => {
    // GIVEN
    const file = write('app.k8s.yaml', docs(localGateway(), workloadYaml()));
    // WHEN
    const report = validate([file]);
    // THEN
    expect(report.violations).toEqual([]);
    expect(report.status).toBe(ValidationStatus.SUCCESS);
    expect(report.metadata?.errors).toBe('0');
  });

  test('WARNING findings are reported only with reportWarnings, and fail only with failOn warning', () => {
    // GIVEN
    const file = write('app.k8s.yaml', docs(workloadYaml(), filterWithoutContext()));
    const warning = expect.objectContaining({ ruleName: expect.stringMatching(/^warning: EnvoyFilter web\/httpbin-xff/) });
    // WHEN
    const quiet = validate([file]);
    const reported = validate([file], { reportWarnings: true });
    const failing = validate([file], { failOn: ValidationFailOn.WARNING });
    // THEN
    expect(quiet.violations).not.toContainEqual(warning);
    expect(quiet.status).toBe(ValidationStatus.SUCCESS);
    expect(reported.violations).toContainEqual(warning);
    expect(reported.status).toBe(ValidationStatus.SUCCESS);
    expect(failing.violations).toContainEqual(warning);
    expect(failing.status).toBe(ValidationStatus.FAILURE);
  });

  test('failOn never reports ERROR findings and passes', () => {
    // GIVEN
    const file = write('app.k8s.yaml', clusterGateway());
    // WHEN
    const report = validate([file], { failOn: ValidationFailOn.NEVER });
    // THEN
    expect(report.violations.length).toBeGreaterThan(0);
    expect(report.status).toBe(ValidationStatus.SUCCESS);
  });

  test('additionalManifests are read with the app\'s, directories file by file', () => {
    // GIVEN the app's gateway Deployment only, and its Service (Cluster) in a directory of the installation
    const [deployment, service] = clusterGateway().split('\n---\n');
    const app = write('dist/app.k8s.yaml', deployment);
    write('install/nested/service.yml', service);
    write('install/README.txt', 'not a manifest');
    // WHEN
    const report = validate([app], { additionalManifests: [path.join(dir, 'install')] });
    // THEN
    expect(report.violations.map(v => v.recommendation)).toContainEqual(expect.stringMatching(/client IP lost/));
  });

  test('helmValues reach explain: a gateway chart release with the chart\'s Service (externalTrafficPolicy Cluster) fails', () => {
    // GIVEN an app with a workload only, and the gateway chart's values
    const file = write('app.k8s.yaml', workloadYaml());
    const values = write('gateway-values.yaml', 'service:\n  type: LoadBalancer\n');
    // WHEN
    const withValues = validate([file], { helmValues: [`gateway=${values}`], istioVersion: '1.24' });
    const without = validate([file], { istioVersion: '1.24' });
    // THEN
    expect(withValues.status).toBe(ValidationStatus.FAILURE);
    expect(withValues.violations).toContainEqual(expect.objectContaining({
      ruleName: 'error: gateway istio-ingress/istio-ingressgateway', recommendation: expect.stringMatching(/client IP lost/), violatingResources: [],
    }));
    expect(without.status).toBe(ValidationStatus.SUCCESS);
  });
});

describe('fails on bad properties and input, naming them', () => {
  test.each([
    [{ failOn: 'warn' }, /^SourceIpValidation property failOn "warn" is not allowed: use error, warning, never$/],
    [{ reportWarnings: 'yes' }, /^SourceIpValidation property reportWarnings "yes" is not allowed: use true or false$/],
    [{ istioVersion: 1.3 }, /istioVersion 1\.3 is a number: YAML reads 1\.30 as 1\.3; quote the release/],
    [{ istioVersion: '1.20' }, /istioVersion "1\.20" is not supported/],
    [{ helmValues: 'istiod=x.yaml' }, /^SourceIpValidation property helmValues "istiod=x\.yaml" is not a list of strings/],
    [{ helmValues: ['nope'] }, /^SourceIpValidation property helmValues "nope" is not chart\[:namespace\/release\]=file/],
    [{ helmValues: ['pilot=x.yaml'] }, /chart "pilot" is not read by explain: use istiod or gateway/],
    [{ failsOn: 'error' }, /^SourceIpValidation property "failsOn" is not known: use failOn, reportWarnings, istioVersion, helmValues, additionalManifests$/],
  ])('fails with properties %j', (props, message) => {
    // WHEN / THEN
    expect(() => new SourceIpValidation(props as any)).toThrow(message);
  });

  test('fails the report on a manifest that cannot be read, naming the file', () => {
    // GIVEN
    const file = write('bad.yaml', 'kind: [');
    // WHEN
    const report = validate([file, path.join(dir, 'missing.yaml')]);
    // THEN
    expect(report.status).toBe(ValidationStatus.FAILURE);
    expect(report.violations).toEqual([expect.objectContaining({ ruleName: 'unreadable input', recommendation: expect.stringContaining(`${file}: document 1 is not valid YAML`) })]);
  });

  test('fails the report on a missing Helm values file', () => {
    // GIVEN
    const file = write('app.k8s.yaml', localGateway());
    // WHEN
    const report = validate([file], { helmValues: [`istiod=${path.join(dir, 'nope.yaml')}`] });
    // THEN
    expect(report.status).toBe(ValidationStatus.FAILURE);
    expect(report.violations[0].recommendation).toBe(`${path.join(dir, 'nope.yaml')}: no such file`);
  });
});
