import { App, Chart } from 'cdk8s';
import * as fc from 'fast-check';
import { buildAppAndCheck, checkProperty, dnsLabel, istioVersion } from './arbitraries';
import { cidrListWithShapes } from './cidr-arbitraries';
import {
  AmbientNamespace, AmbientWorkload, ClientIpField, ExternalTrafficPolicy, GatewayFlavour, ISourceIpTarget, LoadBalancerProfile,
  MeshWorkload, PolicyAction, PreservedIngressGateway, ProxyProtocolGateway, SourceIpPolicy, TproxyWorkload, Waypoint, WorkloadSource,
  XffSidecarFilter, XffTrust,
} from '../../src';
import { IngressGatewayBase } from '../../src/ingress/ingress-gateway-base';

/*
 * Apps of several charts, as users split them: one cluster across the charts (the gateway in one chart, workloads,
 * XFF filters and policies in others, referring to it), or charts that are alternatives
 * (CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY), each a cluster of its own that may reuse the others' names. The round
 * trip runs on the app's objects together (one cluster) or chart by chart (alternatives), and every policy's field
 * is checked against the trace.
 */

type WorkloadKind = 'tproxy' | 'mesh' | 'ambient';

interface WorkloadSpec {
  readonly kind: WorkloadKind;
  readonly name: string;
  readonly namespace: string;
  /** The XffSidecarFilter on a sidecar workload: the gateway's hops, the socket peer, or none. */
  readonly xff?: 'hopsOf' | 'remote';
  readonly policy?: { readonly deny: boolean; readonly cidrs: string[]; readonly field?: ClientIpField };
  /** The client-address header its sidecar writes. */
  readonly header?: string;
  /** Which chart (of the cluster's charts) it goes to. */
  readonly chart: number;
}

interface ClusterSpec {
  readonly gateway: {
    readonly kind: 'preserved' | 'proxy';
    readonly numTrustedProxies: number;
    readonly externalTrafficPolicy: ExternalTrafficPolicy;
    readonly flavour: GatewayFlavour;
    /** The gateway writes x-real-ip (clientAddressHeader). */
    readonly header: boolean;
  };
  readonly gatewayPolicy?: { readonly deny: boolean; readonly cidrs: string[]; readonly chart: number };
  readonly workloads: WorkloadSpec[];
  readonly waypoint: boolean;
}

interface AppSpec {
  readonly alternatives: boolean;
  /** One cluster split over `charts` charts, or (alternatives) one cluster per chart. */
  readonly clusters: ClusterSpec[];
  readonly charts: number;
  readonly istioVersion?: any;
}

const policySpec = fc.record({
  deny: fc.boolean(),
  cidrs: cidrListWithShapes,
  field: fc.option(fc.constantFrom(ClientIpField.IP_BLOCKS, ClientIpField.REMOTE_IP_BLOCKS), { nil: undefined, freq: 4 }),
}, { requiredKeys: ['deny', 'cidrs'] });

function clusterSpec(charts: number): fc.Arbitrary<ClusterSpec> {
  const chart = fc.integer({ min: 0, max: charts - 1 });
  return fc.record({
    gateway: fc.record({
      kind: fc.constantFrom<'preserved' | 'proxy'>('preserved', 'preserved', 'proxy'),
      numTrustedProxies: fc.constantFrom(0, 0, 1, 2),
      externalTrafficPolicy: fc.oneof(
        { arbitrary: fc.constant(ExternalTrafficPolicy.LOCAL), weight: 3 },
        { arbitrary: fc.constant(ExternalTrafficPolicy.CLUSTER), weight: 1 },
      ),
      flavour: fc.constantFrom(GatewayFlavour.ISTIO, GatewayFlavour.ISTIO, GatewayFlavour.GATEWAY_API),
      header: fc.boolean(),
    }),
    gatewayPolicy: fc.option(fc.record({ deny: fc.boolean(), cidrs: cidrListWithShapes, chart }), { nil: undefined, freq: 2 }),
    workloads: fc.uniqueArray(fc.record({
      kind: fc.constantFrom<WorkloadKind>('tproxy', 'tproxy', 'mesh', 'ambient'),
      name: dnsLabel.map(l => `w-${l}`.slice(0, 40)),
      namespace: fc.constantFrom('apps', 'web'),
      xff: fc.option(fc.constantFrom<'hopsOf' | 'remote'>('hopsOf', 'hopsOf', 'remote'), { nil: undefined, freq: 2 }),
      policy: fc.option(policySpec, { nil: undefined, freq: 2 }),
      header: fc.option(fc.constantFrom('x-real-ip', 'x-client-ip'), { nil: undefined, freq: 3 }),
      chart,
    }, { requiredKeys: ['kind', 'name', 'namespace', 'chart'] }), { minLength: 1, maxLength: 3, selector: w => w.name }),
    waypoint: fc.boolean(),
  });
}

const appSpec: fc.Arbitrary<AppSpec> = fc.record({
  alternatives: fc.boolean(),
  charts: fc.integer({ min: 2, max: 3 }),
  istioVersion: fc.option(istioVersion.filter(v => v.supportsGatewayParametersRef), { nil: undefined, freq: 2 }),
}).chain(({ alternatives, charts, istioVersion: version }) => (alternatives
  // Alternatives: a whole cluster in each chart (the same names in each, as alternatives may have).
  ? fc.array(clusterSpec(1), { minLength: charts, maxLength: charts })
  : clusterSpec(charts).map(c => [c])
).map(clusters => ({ alternatives, charts, clusters, istioVersion: version })));

const AMBIENT_NAMESPACE = 'ambient-apps';

/** Builds one cluster into `charts` (the gateway in the first; the rest where the spec says). */
function buildCluster(charts: Chart[], spec: ClusterSpec, version: any): void {
  const at = (i: number) => charts[Math.min(i, charts.length - 1)];
  const common = { ...(version ? { istioVersion: version } : {}), flavour: spec.gateway.flavour };
  const gateway: IngressGatewayBase = spec.gateway.kind === 'proxy'
    ? new ProxyProtocolGateway(charts[0], 'Gateway', { ...common, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false })
    : new PreservedIngressGateway(charts[0], 'Gateway', {
      ...common,
      numTrustedProxies: spec.gateway.numTrustedProxies,
      externalTrafficPolicy: spec.gateway.externalTrafficPolicy,
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
    });
  gateway.addHttpServer();
  const ambient = spec.workloads.filter(w => w.kind === 'ambient');
  let waypoint: Waypoint | undefined;
  if (ambient.length > 0) {
    const chart = at(ambient[0].chart);
    waypoint = spec.waypoint ? new Waypoint(chart, 'Waypoint', { namespace: AMBIENT_NAMESPACE, ...(version ? { istioVersion: version } : {}) }) : undefined;
    new AmbientNamespace(chart, 'AmbientNamespace', { name: AMBIENT_NAMESPACE, waypoint, ingressUseWaypoint: waypoint !== undefined });
  }
  for (const w of spec.workloads) {
    const chart = at(w.chart);
    const id = `W-${w.name}`;
    const namespace = w.kind === 'ambient' ? AMBIENT_NAMESPACE : w.namespace;
    let target: ISourceIpTarget;
    if (w.kind === 'tproxy') {
      target = new TproxyWorkload(chart, id, { source: WorkloadSource.newDeployment({ image: 'echoserver', port: 8080, name: w.name, namespace }) });
      gateway.addRoute({ pathPrefix: `/${w.name}`, backendHost: `${w.name}.${namespace}.svc.cluster.local`, backendPort: 8080 });
    } else if (w.kind === 'mesh') {
      target = MeshWorkload.fromLabels(chart, id, { labels: { app: w.name }, namespace });
    } else {
      target = AmbientWorkload.fromLabels(chart, id, { labels: { app: w.name }, namespace });
    }
    if (w.xff && w.kind !== 'ambient') {
      // In another chart than the gateway's when the cluster has several: the filter refers to it across charts.
      // A gateway without trusted hops has none to trust: trust the gateway pods' range instead (TRUSTED_CIDRS).
      const trust = w.xff === 'remote' ? XffTrust.useRemoteAddress()
        : gateway._gatewayModel()!.numTrustedProxies > 0 ? XffTrust.trustHopsOf(gateway) : XffTrust.trustedCidrs(['10.244.0.0/16']);
      new XffSidecarFilter(chart, `${id}-Xff`, { workload: target as MeshWorkload, trust });
    }
    // The sidecar writes a client-address header (the trace warns where it does not resolve the client).
    if (w.header && w.kind !== 'ambient') (target as MeshWorkload).clientAddressHeader({ name: w.header });
    if (w.policy) {
      // Ambient workloads behind a waypoint are matched on the waypoint (ztunnel sees the waypoint pod).
      const enforcer = w.kind === 'ambient' && waypoint ? waypoint : target;
      new SourceIpPolicy(at(w.chart + 1), `${id}-Policy`, {
        target: enforcer,
        cidrs: w.policy.cidrs,
        action: w.policy.deny ? PolicyAction.DENY : PolicyAction.ALLOW,
        ...(w.policy.field ? { field: w.policy.field } : {}),
      });
    }
  }
  // A GatewayFlavour.ISTIO gateway writes the header with its routes' VirtualServices: only with a route.
  if (spec.gateway.header && (spec.gateway.flavour === GatewayFlavour.GATEWAY_API || spec.workloads.some(w => w.kind === 'tproxy'))) {
    gateway.clientAddressHeader();
  }
  if (spec.gatewayPolicy) {
    new SourceIpPolicy(at(spec.gatewayPolicy.chart), 'GatewayPolicy', {
      target: gateway,
      cidrs: spec.gatewayPolicy.cidrs,
      action: spec.gatewayPolicy.deny ? PolicyAction.DENY : PolicyAction.ALLOW,
    });
  }
}

function buildApp(app: App, spec: AppSpec): void {
  if (spec.alternatives) {
    spec.clusters.forEach((c, i) => buildCluster([new Chart(app, `alternative-${i}`)], c, spec.istioVersion));
  } else {
    const charts = Array.from({ length: spec.charts }, (_, i) => new Chart(app, `part-${i}`));
    buildCluster(charts, spec.clusters[0], spec.istioVersion);
  }
}

/** What a rejection may name: the props and options the app sets. */
const APP_NAMES = ['cidrs', 'field', 'externalTrafficPolicy', 'numTrustedProxies', 'flavour', 'istioVersion', 'trust', 'workload', 'target', 'waypoint',
  'ingressUseWaypoint', 'selector', 'action', 'CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY'];

export function appProperties(): void {
  test('apps of several charts (one cluster across charts, or alternatives): synthesise, round-trip per cluster, or fail naming a property', () => {
    checkProperty('App', appSpec, spec => {
      const outcome = buildAppAndCheck(APP_NAMES, app => buildApp(app, spec), { istioVersion: spec.istioVersion, alternatives: spec.alternatives });
      if (!outcome.accepted) return;
      // Every chart rendered its part: the gateway's chart at least the gateway Service or Gateway.
      expect(outcome.manifests.some(m => m.kind === 'Gateway')).toBe(true);
    }, 0.25);
  });
}
