import { Chart, Duration, Testing } from 'cdk8s';
import {
  AmbientNamespace, Waypoint,
  Explainer, ExternalTrafficPolicy, GatewayFlavour, ISTIO_VERSION_GATES, IstioVersion, LoadBalancerProfile, PreservedIngressGateway,
  ProxyProtocolGateway, ProxyProtocolMode, ProxyProtocolVersion, SourceIpWarnings, TproxyWorkload, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

/**
 * Version gates are data (`ISTIO_VERSION_GATES` in src/model/istio-version.ts). Every gate has a row here that
 * synthesises on the last release without the feature (refused, degraded with a message, or the older API written)
 * and on the first release with it (written), and checks each side.
 */
interface GateRow {
  /** Synthesises for `version` and checks the side of the gate that `has` says the release is on. */
  check(version: IstioVersion, has: boolean): void;
}

const STATUS_ENV = 'ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL';
const AWS_HC_PROTOCOL = 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol';

function warnings(chart: Chart): string {
  return SourceIpWarnings.messages(chart).join('\n');
}

/** A Cluster-policy gateway: its peer is the node IP 10.0.0.4, a private address. */
function clusterGateway(istioVersion: IstioVersion): any[] {
  const chart = Testing.chart();
  new PreservedIngressGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, istioVersion }).addHttpServer();
  return synthAndValidate(chart, { istioVersion });
}

/** A Gateway API gateway with a TCP server and route, and a TLS passthrough server and route. */
function gatewayApiStreams(istioVersion: IstioVersion): { chart: Chart; manifests: any[] } {
  const chart = Testing.chart();
  const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API, istioVersion });
  gw.addTcpServer({ port: 5432 });
  gw.addTcpRoute({ port: 5432, backendHost: 'postgres.db.svc.cluster.local', backendPort: 5432 });
  gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
  gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'postgres.db.svc.cluster.local', backendPort: 5433 });
  return { chart, manifests: synthAndValidate(chart, { istioVersion }) };
}

/**
 * Every EnvoyFilter patch the library writes, for features it never writes: PROXY per port and optional PROXY on
 * gateways of both flavours, a PROXY backend, and XFF filters trusting hops, CIDRs and a client header.
 */
function everyEnvoyFilterPatch(istioVersion: IstioVersion): any[] {
  const chart = Testing.chart();
  const strict = new ProxyProtocolGateway(chart, 'PerPort', {
    name: 'per-port',
    istioVersion,
    loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
    loadBalancerProxyProtocolAnnotations: false,
    proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT,
    proxyProtocolPorts: [9000],
    inClusterCallers: false,
  });
  strict.addTcpServer({ port: 9000 });
  strict.addTcpServer({ port: 9001 });
  strict.addTcpRoute({ port: 9000, backendHost: 'svc-b.apps.svc.cluster.local', backendPort: 9000 });
  strict.addProxyProtocolBackend('Backend', { host: 'svc-b', namespace: 'apps', selector: { app: 'svc-b' }, port: 9000, version: ProxyProtocolVersion.V1 });
  const optional = new ProxyProtocolGateway(chart, 'Optional', {
    name: 'optional', istioVersion, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, proxyProtocolMode: ProxyProtocolMode.OPTIONAL,
  });
  optional.addTcpServer({ port: 9100 });
  const httpbin = WorkloadSource.newDeployment({ name: 'httpbin', namespace: 'web', labels: { app: 'httpbin' }, image: 'docker.io/kennethreitz/httpbin', port: 80 });
  const workload = new TproxyWorkload(chart, 'Tproxy', { source: httpbin, istioVersion });
  new XffSidecarFilter(chart, 'Hops', { workload, trust: XffTrust.trustedHops(1), portNumber: 80, istioVersion });
  const api = WorkloadSource.newDeployment({ name: 'api', namespace: 'web', labels: { app: 'api' }, image: 'docker.io/kennethreitz/httpbin', port: 80 });
  const apiWorkload = new TproxyWorkload(chart, 'Api', { source: api, istioVersion });
  new XffSidecarFilter(chart, 'Cidrs', { workload: apiWorkload, trust: XffTrust.trustedCidrs(['10.0.0.0/8']), portNumber: 80, istioVersion });
  const cdn = WorkloadSource.newDeployment({ name: 'cdn', namespace: 'web', labels: { app: 'cdn' }, image: 'docker.io/kennethreitz/httpbin', port: 80 });
  const cdnWorkload = new TproxyWorkload(chart, 'Cdn', { source: cdn, istioVersion });
  new XffSidecarFilter(chart, 'Header', { workload: cdnWorkload, trust: XffTrust.clientHeader({ headerName: 'CF-Connecting-IP', onlyReachableThroughCdn: true }), portNumber: 80, istioVersion });
  const filters = manifestsOfKind(synthAndValidate(chart, { istioVersion }), 'EnvoyFilter');
  const patches = filters.flatMap(f => f.spec.configPatches);
  // The rows below would pass on nothing: the set holds listener-filter inserts and merges of every context used.
  expect(patches.filter(p => p.applyTo === 'LISTENER_FILTER').length).toBeGreaterThanOrEqual(2);
  expect(new Set(patches.map(p => p.match?.context))).toEqual(new Set(['GATEWAY', 'SIDECAR_INBOUND']));
  expect(patches.filter(p => p.patch?.operation === 'MERGE').length).toBeGreaterThanOrEqual(3);
  return patches;
}

/** A row for a feature the library never writes: no output of any release uses it (else it needs a real row). */
function neverWritten(uses: (patch: any) => boolean): GateRow {
  return {
    check(version) {
      const patches = everyEnvoyFilterPatch(version);
      expect(patches.filter(uses)).toEqual([]);
    },
  };
}

const ROWS: { [property: string]: GateRow } = {
  noInternalAddressesByDefault: {
    check(version, has) {
      const path = Explainer.fromManifests(clusterGateway(version)).paths[0];
      const gateway = path.hops.find(h => h.hop.startsWith('gateway'))!;
      expect(gateway.clientAddress).toBe('10.0.0.4');
      if (has) {
        // Envoy 1.33+: the node IP is not internal, so the gateway sets X-Envoy-External-Address to it.
        expect(gateway.envoyInternal).toBeUndefined();
        expect(path.appHeaderClient).toBe('10.0.0.4');
      } else {
        // Envoy 1.32: a private peer is internal: no X-Envoy-External-Address.
        expect(gateway.envoyInternal).toBe(true);
        expect(path.appHeaderClient).toBeUndefined();
      }
    },
  },
  supportsGatewayParametersRef: {
    check(version, has) {
      const chart = Testing.chart();
      const make = () => new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API, istioVersion: version });
      if (!has) {
        expect(make).toThrow(new RegExp(`flavour gateway-api is not allowed with istioVersion ${version.label.replace('.', '\\.')}: .*use istioVersion 1\\.26 or newer`));
        return;
      }
      make().addHttpServer();
      const manifests = synthAndValidate(chart, { istioVersion: version });
      const gateway = manifests.find(m => m.kind === 'Gateway' && m.apiVersion === 'gateway.networking.k8s.io/v1');
      const configMap = findManifest(manifests, 'ConfigMap');
      expect(gateway.spec.infrastructure.parametersRef).toEqual({ group: '', kind: 'ConfigMap', name: configMap.metadata.name });
      expect(JSON.parse(configMap.data.service).spec.externalTrafficPolicy).toBe('Local');
    },
  },
  supportsListenerFilterMerge: neverWritten(p => p.applyTo === 'LISTENER_FILTER' && p.patch?.operation === 'MERGE'),
  supportsStatusPortProxyProtocol: {
    check(version, has) {
      const chart = Testing.chart();
      const gw = new ProxyProtocolGateway(chart, 'Gateway', { istioVersion: version, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
      gw.addTcpServer({ port: 9000 });
      const unknown = new ProxyProtocolGateway(chart, 'Alibaba', { name: 'alibaba', istioVersion: version, loadBalancerProfile: LoadBalancerProfile.ALIBABA_CLB, inClusterCallers: false });
      unknown.addTcpServer({ port: 9000 });
      const manifests = synthAndValidate(chart, { istioVersion: version });
      const deployment = manifests.find(m => m.kind === 'Deployment' && m.metadata.name === gw.serviceName);
      const env = deployment.spec.template.spec.containers[0].env ?? [];
      const service = manifests.find(m => m.kind === 'Service' && m.metadata.name === gw.serviceName);
      if (has) {
        expect(env).toContainEqual({ name: STATUS_ENV, value: 'true' });
        expect(service.metadata.annotations[AWS_HC_PROTOCOL]).toBeUndefined();
        expect(warnings(chart)).not.toMatch(/15021 rejects them/);
      } else {
        // Degraded: the NLB's health check becomes a TCP check of the traffic port; an unknown one is a warning.
        expect(env.map((e: any) => e.name)).not.toContain(STATUS_ENV);
        expect(service.metadata.annotations[AWS_HC_PROTOCOL]).toBe('tcp');
        expect(warnings(chart)).toMatch(new RegExp(`istioVersion ${version.label.replace('.', '\\.')} .* the status port 15021 rejects them`));
      }
    },
  },
  supportsWaypointContext: neverWritten(p => p.match?.context === 'WAYPOINT'),
  supportsPerClientRateLimit: {
    check(version, has) {
      // GIVEN a gateway for the release
      const chart = Testing.chart();
      const gateway = new PreservedIngressGateway(chart, 'Gateway', { istioVersion: version });
      gateway.addHttpServer();
      const limit = () => gateway.rateLimitPerClient({ requests: 10, per: Duration.seconds(1) });
      if (!has) {
        // WHEN it limits each client THEN it is refused, naming the first release with per-value buckets
        expect(limit).toThrow(new RegExp(`not supported with istioVersion ${version.label.replace('.', '\\.')}: .*Envoy 1\\.34 \\(Istio 1\\.26\\)`));
        return;
      }
      limit();
      const ef = findManifest(synthAndValidate(chart, { istioVersion: version }), 'EnvoyFilter');
      expect(ef.spec.configPatches[0].patch.value.typed_config.max_dynamic_descriptors).toBe(10000);
    },
  },
  tlsRouteApiVersion: {
    check(version, has) {
      const route = findManifest(gatewayApiStreams(version).manifests, 'TLSRoute');
      expect(route.apiVersion).toBe(has ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2');
    },
  },
  tcpRouteApiVersion: {
    check(version, has) {
      const route = findManifest(gatewayApiStreams(version).manifests, 'TCPRoute');
      expect(route.apiVersion).toBe(has ? 'gateway.networking.k8s.io/v1' : 'gateway.networking.k8s.io/v1alpha2');
    },
  },
  gatewayApiTcpWithoutAlphaFlag: {
    check(version, has) {
      const { chart, manifests } = gatewayApiStreams(version);
      const gateway = manifests.find(m => m.kind === 'Gateway' && m.apiVersion === 'gateway.networking.k8s.io/v1');
      expect(gateway.spec.listeners.map((l: any) => l.protocol)).toContain('TCP');
      if (has) expect(warnings(chart)).not.toMatch(/writes a TCPRoute, which Istio/);
      else expect(warnings(chart)).toMatch(/addTcpRoute on gateway "ingressgateway" writes a TCPRoute, which Istio .* reads only when istiod runs with PILOT_ENABLE_ALPHA_GATEWAY_API=true/);
    },
  },
  tlsRouteWithoutAlphaFlag: {
    check(version, has) {
      const { chart } = gatewayApiStreams(version);
      if (has) expect(warnings(chart)).not.toMatch(/writes a TLSRoute, which Istio/);
      else expect(warnings(chart)).toMatch(/addTlsRoute on gateway "ingressgateway" writes a TLSRoute, which Istio .* reads only when istiod runs with PILOT_ENABLE_ALPHA_GATEWAY_API=true/);
    },
  },
  readsNamespaceIngressUseWaypoint: {
    check(version, has) {
      const chart = Testing.chart();
      const make = () => new AmbientNamespace(chart, 'Web', { name: 'web', waypoint: new Waypoint(chart, 'Waypoint', { namespace: 'web' }), ingressUseWaypoint: true, istioVersion: version });
      if (has) {
        make();
        const ns = synthAndValidate(chart, { istioVersion: version }).find(m => m.kind === 'Namespace');
        expect(ns.metadata.labels['istio.io/ingress-use-waypoint']).toBe('true');
      } else {
        expect(make).toThrow(/^ingressUseWaypoint true is not allowed with istioVersion 1\.24: Istio reads istio.io\/ingress-use-waypoint on a Namespace only from 1\.25/);
      }
    },
  },
  supportsMergeAndReplaceList: neverWritten(p => p.patch?.operation === 'MERGE_AND_REPLACE_LIST'),
  supportedUpstream: {
    check(version, has) {
      // GIVEN two constructs in one chart and one in another, for the same release
      const app = Testing.app();
      const one = new Chart(app, 'one');
      new PreservedIngressGateway(one, 'Gateway', { istioVersion: version }).addHttpServer();
      addWorkloadWithPolicy(one, version);
      const two = new Chart(app, 'two');
      new PreservedIngressGateway(two, 'Gateway', { namespace: 'edge', istioVersion: version }).addHttpServer();
      synthAndValidate(one, { istioVersion: version });
      const eol = SourceIpWarnings.of(app).filter(w => /past its end of life upstream/.test(w.message));
      if (has) {
        expect(eol).toEqual([]);
      } else {
        // Still synthesised; one warning per chart, naming the upstream status and the supported releases.
        expect(eol.map(w => w.path)).toEqual(['one', 'two']);
        expect(eol[0].message).toMatch(new RegExp(`^istioVersion ${version.label.replace('.', '\\.')} is past its end of life upstream \\(Istio supports 1\\.30 to 1\\.32`));
      }
    },
  },
};

/** More constructs that resolve the version themselves: a TPROXY workload and its policy. */
function addWorkloadWithPolicy(chart: Chart, istioVersion: IstioVersion): void {
  const source = WorkloadSource.newDeployment({ name: 'app', namespace: 'web', labels: { app: 'app' }, image: 'docker.io/kennethreitz/httpbin', port: 80 });
  new TproxyWorkload(chart, 'Tproxy', { source, istioVersion }).allowFrom(['203.0.113.0/24']);
}

/** Getters that name the release itself rather than gate a feature. */
const PER_RELEASE = new Set(['label', 'proxyVersionRegex']);

function getters(): string[] {
  return Object.entries(Object.getOwnPropertyDescriptors(IstioVersion.prototype))
    .filter(([name, d]) => d.get !== undefined && !PER_RELEASE.has(name))
    .map(([name]) => name);
}

describe('Istio version gates', () => {
  test('every gate has a row, and every row a gate', () => {
    expect(Object.keys(ROWS).sort()).toEqual(ISTIO_VERSION_GATES.map(g => g.property).sort());
  });

  test('every getter that changes between releases is a gate, and changes only at its release', () => {
    const releases = IstioVersion.all();
    for (const name of getters()) {
      const values = releases.map(v => JSON.stringify((v as any)[name]));
      const changes = releases.slice(1).filter((_v, i) => values[i + 1] !== values[i]).map(v => v.minor);
      const gate = ISTIO_VERSION_GATES.find(g => g.property === name);
      // A getter that changes without a gate (or at another release than its gate says) fails here.
      expect({ name, changes }).toEqual({ name, changes: gate ? [gate.since] : [] });
    }
  });

  test('every gate lies inside the supported range, with a source', () => {
    for (const gate of ISTIO_VERSION_GATES) {
      expect(gate.since).toBeGreaterThan(IstioVersion.OLDEST.minor);
      expect(gate.since).toBeLessThanOrEqual(IstioVersion.LATEST.minor);
      expect(gate.source.length).toBeGreaterThan(10);
    }
  });

  const sides = ISTIO_VERSION_GATES.flatMap(g => [
    { property: g.property, side: 'last release without it', label: `1.${g.since - 1}`, has: false },
    { property: g.property, side: 'first release with it', label: `1.${g.since}`, has: true },
  ]);
  test.each(sides)('$property on the $side ($label)', ({ property, label, has }) => {
    ROWS[property].check(IstioVersion.of(label), has);
  });
});
