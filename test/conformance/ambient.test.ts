import * as fs from 'fs';
import * as path from 'path';
import { App, Chart, Testing } from 'cdk8s';
import { IstioZtunnelReport, readZtunnelReport, routingDisagreements, waypointDisagreements, ztunnelDisagreements } from './ambient-compare';
import { IstioProxyReport, readReports, WAYPOINT_PROXY_TYPE } from './compare';
import { CONFORMANCE_PIN, FIXTURES_DIR, inCharts, ISTIO_OUT_DIR, scenarioChart, WHOLE_EXAMPLE_SET } from './fixtures';
import { buildApp } from '../../examples/seed-scenarios/main';
import { ClientIpField, ISTIO_VERSION_CONTEXT_KEY, PolicyAction, ProxyRole, WaypointFor } from '../../src';
import { Topology } from '../../src/model/topology';
import { TraceModel } from '../../src/model/trace-model';
import { waypointExpectations, ZtunnelEnforcement, ztunnelExpectations, ztunnelRoutingExpectations } from '../../src/trace/ambient-expectations';
import { topologyTraces, traceConstructs } from '../../src/trace/topology-trace';

/*
 * Ambient mode against istiod (issue 26): for every set where the Go run configured a waypoint or gave ztunnel an
 * authorization, the constructs' trace (not the manifests under test) says what each waypoint and ztunnel must
 * enforce, and istiod's output must match it. Without the Go output this file reports itself SKIPPED, unless
 * CONFORMANCE_REQUIRED=1 (CI).
 */

const required = process.env.CONFORMANCE_REQUIRED === '1';

function ambientSets(): string[] {
  if (!fs.existsSync(ISTIO_OUT_DIR)) return [];
  return fs.readdirSync(ISTIO_OUT_DIR).filter(s => {
    const dir = path.join(ISTIO_OUT_DIR, s);
    return fs.existsSync(path.join(dir, 'result.json'))
      && (readZtunnelReport(dir) !== undefined || readReports(dir).some(r => r.proxy.type === WAYPOINT_PROXY_TYPE));
  }).sort();
}

let exampleApp: App | undefined;

/** The trace model the constructs of a set add up to: the example app's chart, or the scenario's. */
function constructsModel(set: string): TraceModel | undefined {
  let chart: Chart | undefined;
  if (set.startsWith('example-')) {
    if (exampleApp === undefined) {
      exampleApp = Testing.app();
      if (CONFORMANCE_PIN) exampleApp.node.setContext(ISTIO_VERSION_CONTEXT_KEY, CONFORMANCE_PIN.label);
      buildApp(exampleApp).synth();
    }
    if (set === WHOLE_EXAMPLE_SET) {
      // The charts the fixtures joined into the whole-app set, taken as one cluster (as its expectations.json).
      const ids: string[] = JSON.parse(fs.readFileSync(path.join(FIXTURES_DIR, set, 'declared.json'), 'utf-8')).charts ?? [];
      const charts = exampleApp.charts.filter(c => ids.includes(c.node.id));
      return charts.length > 0 ? traceConstructs(Topology.of(charts[0]), inCharts(charts)).model : undefined;
    }
    chart = exampleApp.charts.find(c => c.node.id === set.slice('example-'.length));
  } else if (set.startsWith('scenario-')) {
    chart = scenarioChart(set.slice('scenario-'.length), CONFORMANCE_PIN);
  }
  if (chart === undefined) return undefined;
  const clusters = topologyTraces(Topology.of(chart));
  // Charts of the example app are alternatives (one cluster each); a scenario's chart is its app.
  return (clusters.find(c => c.key === chart.node.path) ?? (clusters.length === 1 ? clusters[0] : undefined))?.model;
}

function disagreementsOf(model: TraceModel, reports: IstioProxyReport[], ztunnel: IstioZtunnelReport | undefined): string[] {
  const z = ztunnel ?? { set: '', policies: [], workloads: [] };
  return [
    ...waypointDisagreements(waypointExpectations(model), reports),
    ...ztunnelDisagreements(ztunnelExpectations(model), z),
    ...routingDisagreements(ztunnelRoutingExpectations(model), z),
  ];
}

const sets = ambientSets();
if (sets.length === 0 && !required) {
  process.stderr.write(`SKIPPED: ambient vs istiod comparison (no Go conformance output in ${ISTIO_OUT_DIR}; run .ci/conformance.sh)\n`);
  test.skip('ambient agrees with istiod (SKIPPED: no Go conformance output)', () => undefined);
} else {
  describe('waypoints and ztunnel agree with the trace', () => {
    test('the Go run configured the ambient sets', () => {
      // GIVEN the example app's and the scenarios' ambient charts WHEN the Go run has finished THEN each has its output
      expect(sets).toEqual(expect.arrayContaining(['example-ambient-no-waypoint', 'example-ambient-waypoint', 'scenario-ambient-waypoint-service-and-ztunnel']));
    });

    test.each(sets)('%s', set => {
      // GIVEN what the set's constructs trace, and what istiod generated for the waypoints and ztunnel
      const model = constructsModel(set);
      if (model === undefined) throw new Error(`${set}: no constructs to trace; say in test/conformance/ambient.test.ts where its chart comes from`);
      const dir = path.join(ISTIO_OUT_DIR, set);
      // WHEN compared THEN they agree
      expect(disagreementsOf(model, readReports(dir), readZtunnelReport(dir))).toEqual([]);
      // AND every ambient set is compared on something
      expect(waypointExpectations(model).length + ztunnelExpectations(model).length).toBeGreaterThan(0);
    });
  });
}

describe('the ambient comparison can fail', () => {
  const waypoint = { name: 'waypoint', namespace: 'web', waypointFor: WaypointFor.SERVICE };
  const policy = {
    name: 'allow',
    namespace: 'web',
    selector: {},
    targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
    action: PolicyAction.ALLOW,
    field: ClientIpField.REMOTE_IP_BLOCKS,
    negated: false,
    cidrs: ['198.51.100.0/24'],
  };
  const ambientDb = {
    name: 'db', namespace: 'data', selector: { app: 'db' }, role: ProxyRole.AMBIENT, interceptionMode: 'REDIRECT', xffMode: 'default',
  } as any;
  const ztunnelPolicy = { ...policy, name: 'db-allow', namespace: 'data', selector: { app: 'db' }, targetRefs: undefined, field: ClientIpField.IP_BLOCKS, cidrs: ['10.244.0.0/16'] };
  const model = { policies: [policy, ztunnelPolicy], waypoints: [waypoint], workloads: [ambientDb], rootNamespaces: ['istio-system'], workloadsOfService: () => [] } as any;
  const chain = (rbac: any[], useRemoteAddress = false) => ({ name: 'direct-http', destinationPort: 0, hcm: { useRemoteAddress, xffNumTrustedHops: 0, skipXffAppend: false, originalIpDetectionExtensions: [] }, rbac });
  const report = (rbac: any[], useRemoteAddress = false): IstioProxyReport => ({
    set: 's',
    proxy: { name: 'waypoint', namespace: 'web', type: WAYPOINT_PROXY_TYPE, source: '', labels: {}, interceptionMode: '' },
    listeners: [{ name: 'main_internal', port: 0, proxyProtocol: null, originalSrc: false, transparent: false, chains: [chain(rbac, useRemoteAddress)] }],
    clusters: [],
    statusPort: null,
    gatewayApi: { gateway: 'Gateway web/waypoint' } as any,
  });
  const allowRule = { filter: 'http', action: 'ALLOW', policy: 'ns[web]-policy[allow]-rule[0]', field: 'remote_ip', cidr: '198.51.100.0/24', negated: false };
  const ztunnel = (groups: any[], status = ''): IstioZtunnelReport => ({
    set: 's',
    workloads: [{ name: 'db', namespace: 'data', policies: ['data/db-allow'] }],
    policies: [{ name: 'db-allow', namespace: 'data', scope: 'WORKLOAD_SELECTOR', action: 'ALLOW', groups, status, workloads: ['data/db'] }],
  });
  const l4 = { sourceCidrs: ['10.244.0.0/16'], notSourceCidrs: [], destinationPorts: [], anySource: false };

  test('agrees when istiod has what the trace expects', () => {
    // GIVEN a waypoint with the ALLOW on remote_ip and ztunnel with the ipBlocks WHEN compared THEN nothing differs
    expect(disagreementsOf(model, [report([allowRule])], ztunnel([l4]))).toEqual([]);
  });

  test('fails when the waypoint lacks the policy\'s CIDR', () => {
    // GIVEN istiod's waypoint without the RBAC rule WHEN compared THEN the missing principal is named
    expect(disagreementsOf(model, [report([])], ztunnel([l4]))).toEqual([
      'waypoint web/waypoint: policy allow ALLOW remote_ip 198.51.100.0/24 (negated false) is not in istiod\'s RBAC',
    ]);
  });

  test('fails when the waypoint matches the other address field or uses the remote address', () => {
    // GIVEN the CIDR on direct_remote_ip and an HCM that uses the remote address
    const found = disagreementsOf(model, [report([{ ...allowRule, field: 'direct_remote_ip' }], true)], ztunnel([l4]));
    // THEN both are disagreements
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/lands on direct_remote_ip in istiod, the trace says remote_ip/),
      expect.stringMatching(/chain direct-http: use_remote_address true, xff_num_trusted_hops 0, 0 detection extensions in istiod; the trace expects false, 0, none/),
    ]));
  });

  test('fails when ztunnel gets other CIDRs or drops the rule', () => {
    // GIVEN istiod converting the policy with another CIDR, then without its rule and with a warning
    const other = disagreementsOf(model, [report([allowRule])], ztunnel([{ ...l4, sourceCidrs: ['10.0.0.0/8'] }]));
    const dropped = disagreementsOf(model, [report([allowRule])], ztunnel([], 'ztunnel does not support HTTP attributes'));
    // THEN each is named
    expect(other).toEqual([expect.stringMatching(/ztunnel: policy data\/db-allow: ztunnel's rules in istiod are \{source \[10.0.0.0\/8\]/)]);
    expect(dropped).toEqual(expect.arrayContaining([
      expect.stringMatching(/the trace expects ztunnel to enforce it as-written, istiod says "ztunnel does not support HTTP attributes"/),
    ]));
  });

  test('fails when istiod sends the workload\'s traffic through another waypoint, or lets ingress skip it', () => {
    // GIVEN the trace's httpbin behind waypoint web/waypoint, ingress traffic included
    const httpbin = { ...ambientDb, name: 'httpbin', namespace: 'web', selector: { app: 'httpbin' }, waypoint: 'web/waypoint', ingressUseWaypoint: true };
    const behind = { ...model, workloads: [httpbin] };
    const z = (via: string, ingressUseWaypoint: boolean): IstioZtunnelReport => ({
      set: 's',
      policies: [],
      workloads: [{ name: 'httpbin', namespace: 'web', policies: [], waypoint: '' }],
      services: [{ name: 'httpbin', namespace: 'web', waypoint: via, ingressUseWaypoint, workloads: ['web/httpbin'] }],
    });
    // WHEN istiod agrees THEN nothing differs
    expect(disagreementsOf(behind, [report([allowRule])], z('web/waypoint', true))).toEqual([]);
    // AND WHEN the namespace's label names no waypoint, or ingress skips it, THEN each is named
    expect(disagreementsOf(behind, [report([allowRule])], z('', true))).toEqual([
      'ztunnel: workload web/httpbin: the trace sends its traffic through waypoint web/waypoint, istiod through "" (pod) and ["web/httpbin -> none"]',
    ]);
    expect(disagreementsOf(behind, [report([allowRule])], z('web/waypoint', false))).toEqual([
      'ztunnel: workload web/httpbin: ingress traffic passes the waypoint in the trace, istiod says ingress-use-waypoint false for web/httpbin',
    ]);
  });

  test('fails when a YAML edit alone turns ipBlocks into remoteIpBlocks for ztunnel', () => {
    // GIVEN the trace's policy on ipBlocks, and istiod's conversion of the edited YAML (remoteIpBlocks: the ALLOW loses its rule)
    const found = disagreementsOf(model, [report([allowRule])], ztunnel([], 'ztunnel does not support HTTP attributes (found: remoteIpBlocks).'));
    // THEN the comparison fails: the expectation does not come from the YAML
    expect(found.length).toBeGreaterThan(0);
    expect(ztunnelExpectations(model)[0].enforcement).toBe(ZtunnelEnforcement.AS_WRITTEN);
  });
});
