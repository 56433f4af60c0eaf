/*
 * Benchmark units. A gateway unit is a PreservedIngressGateway with an HTTPS server, a route and an IP
 * policy; a workload unit is a TPROXY workload with an XffSidecarFilter and a policy. The baseline builds
 * the same manifests as plain ApiObjects from a template of one unit, so both sides emit identical YAML.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, Testing } from 'cdk8s';
// Type-checked against src/; bench/run.ts points the transpiled copy at the compiled lib/ that users get.
import * as lib from '../src';

export type UnitKind = 'gateway' | 'workload';

/** Units per chart: pipelines split large apps into charts, and one chart per unit would hide per-chart costs. */
const UNITS_PER_CHART = Number(process.env.BENCH_UNITS_PER_CHART ?? 100);
const SENTINEL = 987654;

function addGatewayUnit(chart: Chart, i: number): void {
  const host = `app${i}.example.com`;
  const gateway = new lib.PreservedIngressGateway(chart, `Gateway${i}`, { name: `gw${i}`, namespace: 'ingress', loadBalancerProfile: lib.LoadBalancerProfile.AWS_NLB_INSTANCE });
  gateway.addHttpsServer({ hosts: [host], credentialName: `cert${i}` });
  gateway.addRoute({ host, backendHost: `app${i}.apps.svc.cluster.local`, backendPort: 8080 });
  gateway.allowFrom([cidrOctets(i)], { name: `gw${i}-allow` });
}

function addWorkloadUnit(chart: Chart, i: number): void {
  const labels = { app: `app${i}` };
  // The user's own Deployment, as most apps bring one (cdk8s-plus would add a path-hashed label the baseline cannot template).
  const deployment = new ApiObject(chart, `Deployment${i}`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `app${i}`, namespace: 'apps', labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'docker.io/kennethreitz/httpbin', ports: [{ containerPort: 80 }] }] } },
    },
  });
  const workload = new lib.TproxyWorkload(chart, `Workload${i}`, { source: lib.WorkloadSource.fromApiObject(deployment) });
  new lib.XffSidecarFilter(chart, `Xff${i}`, { workload, trust: lib.XffTrust.trustedHops(1), name: `app${i}-xff` });
  workload.allowFrom([cidrOctets(i)], { name: `app${i}-allow` });
}

const ADD_UNIT: Record<UnitKind, (chart: Chart, i: number) => void> = { gateway: addGatewayUnit, workload: addWorkloadUnit };

/** The library side: N units, UNITS_PER_CHART per chart. */
export function buildLibraryApp(kind: UnitKind, n: number): App {
  const app = new App({ outdir: path.join(__dirname, 'out', 'dist') });
  let chart: Chart | undefined;
  for (let i = 0; i < n; i++) {
    if (i % UNITS_PER_CHART === 0) chart = new Chart(app, `c${i / UNITS_PER_CHART}`);
    ADD_UNIT[kind](chart!, i);
  }
  return app;
}

/** The manifests of one unit with its index replaced by a placeholder (made once, cached on disk). */
function unitTemplate(kind: UnitKind): string {
  const file = path.join(__dirname, 'out', `template-${kind}.json`);
  if (!fs.existsSync(file)) {
    const chart = Testing.chart();
    ADD_UNIT[kind](chart, SENTINEL);
    const manifests = Testing.synth(chart);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(manifests));
  }
  return fs.readFileSync(file, 'utf-8');
}

/** The CIDR the unit's policy uses, which encodes the index in two octets. */
function cidrOctets(i: number): string {
  return `10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`;
}

/** The baseline: the same manifests, as plain ApiObjects. */
export function buildBaselineApp(kind: UnitKind, n: number): App {
  const template = unitTemplate(kind);
  const sentinelCidr = cidrOctets(SENTINEL);
  const app = new App({ outdir: path.join(__dirname, 'out', 'dist') });
  let chart: Chart | undefined;
  for (let i = 0; i < n; i++) {
    if (i % UNITS_PER_CHART === 0) chart = new Chart(app, `c${i / UNITS_PER_CHART}`);
    const manifests = JSON.parse(template.split(sentinelCidr).join(cidrOctets(i)).split(String(SENTINEL)).join(String(i)));
    manifests.forEach((m: any, j: number) => new ApiObject(chart!, `u${i}-${j}`, m));
  }
  return app;
}
