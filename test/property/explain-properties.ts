import { ApiObject } from 'cdk8s';
import * as fc from 'fast-check';
import * as YAML from 'yaml';
import {
  assertOwnError, buildAndCheck, checkProperty, cidrList, hostileCount, istioVersion as istioVersionArb, mix, newChart, validCidr,
} from './arbitraries';
import { buildChain, chainSpec } from './chain-arbitraries';
import {
  AmbientNamespace, AmbientWorkload, ClientAddressResolver, Explainer, HelmChart, HelmValues, InterceptionMode, IstioVersion,
  LoadBalancerProfile, MeshWorkload, PreservedIngressGateway, ProxyProtocolGateway, ISTIO_VERSION_CONTEXT_KEY, TrustChain, TproxyWorkload,
  Waypoint, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { isManifestInputError, readManifestText } from '../../src/explain/input';
import { classifyObjects } from '../../src/explain/skipped';
import { isIpAddress } from '../../src/net/cidr';

/*
 * Properties of the pure parts: TrustChain (built, derived, round-tripped through its annotation),
 * ClientAddressResolver (Envoy's rule), IstioVersion.of, and Explainer, which must never throw on manifests it
 * cannot read (ours, mutated, or garbage) and turns them into findings instead.
 */

const ipv6 = fc.ipV6();
const address = fc.oneof(fc.ipV4(), ipv6, fc.constantFrom('::ffff:10.0.0.1', '127.0.0.6'));
const hostileAddress = fc.constantFrom('', 'gateway', '10.0.0', '010.0.0.1', '::ffff:', '1.2.3.4:80', '[::1]', 'fe80::1%eth0', ' 10.0.0.1');
const xffEntry = mix(address, fc.constantFrom('unknown', '', ' ', 'for=1.2.3.4', '1.2.3.4:5678', '💥'));

const resolverInput = fc.record({
  useRemoteAddress: fc.boolean(),
  xffNumTrustedHops: fc.option(mix(fc.integer({ min: 0, max: 5 }), hostileCount(0, 4294967295)), { nil: undefined }),
  xffTrustedCidrs: fc.option(mix(fc.array(validCidr, { maxLength: 3 }), cidrList), { nil: undefined }),
  skipXffAppend: fc.option(fc.boolean(), { nil: undefined }),
  downstreamAddress: mix(address, hostileAddress),
  xForwardedFor: fc.option(fc.array(xffEntry, { maxLength: 5 }).map(e => e.join(', ')), { nil: undefined }),
});

const RESOLVER_KEYS = ['useRemoteAddress', 'xffNumTrustedHops', 'xffTrustedCidrs', 'skipXffAppend', 'downstreamAddress', 'xForwardedFor'];

/** Small apps of ours, to explain and then mutate. */
function sampleManifests(kind: number): any[] {
  const chart = newChart();
  switch (kind % 5) {
    case 0: {
      const gw = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 1, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
      gw.addHttpServer();
      gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8000 });
      const w = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
      new XffSidecarFilter(chart, 'Xff', { trust: XffTrust.trustHopsOf(gw), workload: w });
      gw.allowFrom(['203.0.113.0/24']);
      break;
    }
    case 1: {
      const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
      gw.addTcpServer({ port: 9000 });
      const backend = gw.addProxyProtocolBackend('Echo', { host: 'tcp-echo', namespace: 'apps', selector: { app: 'tcp-echo' }, port: 9000 });
      gw.addTcpRoute({ port: 9000, backendHost: backend.host, backendPort: 9000 });
      break;
    }
    case 2:
      new TproxyWorkload(chart, 'Echo', { source: WorkloadSource.newDeployment({ image: 'echoserver', port: 8080, namespace: 'apps' }) }).allowFrom(['10.0.0.0/8']);
      break;
    case 3: {
      // Ambient: a waypoint that ingress traffic passes, its policy attached with targetRefs, and the pods.
      const gw = new PreservedIngressGateway(chart, 'Gateway');
      gw.addHttpServer();
      gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8000 });
      const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'apps' });
      new AmbientNamespace(chart, 'Apps', { name: 'apps', waypoint, ingressUseWaypoint: true });
      AmbientWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
      new ApiObject(chart, 'Pods', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'httpbin', namespace: 'apps' }, spec: { template: { metadata: { labels: { app: 'httpbin' } } } } });
      waypoint.allowFrom(['203.0.113.0/24']);
      break;
    }
    default:
      MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'w' }, interceptionMode: InterceptionMode.TPROXY }).denyFrom(['2001:db8::/32']);
  }
  return chart.toJson();
}

const SAMPLES = [0, 1, 2, 3, 4].map(sampleManifests);

/** Random JSON values to plant in a manifest; `mutate` uses one of the same JSON type as the value it replaces. */
const junk = fc.array(fc.oneof(
  fc.constantFrom(null, '', 0, -1, 1.5, 1e12, true, false, [], {}, 'TPROXY', 'tproxy', '10.0.0.1/33', '::ffff:10.0.0.1', '{"gatewayTopology":', '[{"kind":"cdn"}]', '*', 'a/b/c'),
  fc.jsonValue({ maxDepth: 2 }),
), { minLength: 8, maxLength: 8 });

function jsonType(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Same JSON type; for lists, elements of the type of the original's elements (a list of strings stays one). */
function sameShape(candidate: unknown, value: unknown): boolean {
  if (jsonType(candidate) !== jsonType(value)) return false;
  if (!Array.isArray(value) || (candidate as unknown[]).length === 0) return true;
  return value.length > 0 && (candidate as unknown[]).every(c => jsonType(c) === jsonType(value[0]) && jsonType(c) !== 'object' && jsonType(c) !== 'array');
}

/**
 * Replaces the value at a random path of a manifest with a value of the same JSON type (a string with another
 * string, a list with another list...), or deletes it. Manifests from a cluster are schema-valid, so a list is a
 * list; crashes on type changes have their own regression tests (test/reliability/regressions.test.ts).
 */
function mutate(value: any, path: number[], candidates: unknown[], remove: boolean): any {
  if (path.length === 0 || value === null || typeof value !== 'object') {
    const replacement = candidates.find(c => sameShape(c, value));
    return remove || replacement === undefined ? undefined : replacement;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return remove ? undefined : value;
  const key = keys[path[0] % keys.length];
  const copy: any = Array.isArray(value) ? [...value] : { ...value };
  const next = mutate(value[key], path.slice(1), candidates, remove);
  if (next !== undefined) copy[key] = next;
  else if (Array.isArray(copy)) copy.splice(Number(key), 1);
  else delete copy[key];
  return copy;
}

const mutation = fc.record({
  sample: fc.integer({ min: 0, max: SAMPLES.length - 1 }),
  edits: fc.array(
    fc.record({ object: fc.nat(), path: fc.array(fc.nat(), { maxLength: 7 }), candidates: junk, remove: fc.boolean() }),
    { minLength: 1, maxLength: 4 }),
});

// ---- Generated manifest sets: valid objects of every kind explain reads, mutated values, and hostile text.

/** The property whose cases are whole generated manifest sets; the suite checks it runs at least 10,000 of them. */
export const MANIFEST_SET_PROPERTY = 'Explainer manifest sets';
/** The slowest case seen, per object, for the summary line. */
export const slowest = { msPerObject: 0 };

const hostileValue = fc.oneof(
  fc.constantFrom<unknown>(null, '', 0, -1, 1.5, 1e9, 4294967296, -0, true, [], {}, 'NaN', '1', '\u202Eevil\n', '__proto__', 'constructor', { a: [1] }, ['x'], '10.0.0.1/33', 'TPROXY', 'tproxy'),
  fc.jsonValue({ maxDepth: 2 }),
);
const name = mix(fc.constantFrom('a', 'web', 'httpbin', 'ingressgateway', 'istio-system', 'istio-ingress'), fc.oneof(fc.string({ maxLength: 6 }), hostileValue), 1, 6);
const labels = mix(fc.dictionary(fc.constantFrom('app', 'istio', 'version'), fc.constantFrom('httpbin', 'ingressgateway', 'v1'), { maxKeys: 2 }), hostileValue, 1, 6);
const count = mix(fc.integer({ min: 0, max: 4 }), fc.oneof(hostileCount(0, 64), hostileValue), 1, 3);
const port = mix(fc.constantFrom(80, 443, 8080, 9000), hostileValue, 1, 4);
const cidr = mix(fc.constantFrom('203.0.113.0/24', '10.0.0.0/8', '2001:db8::/32', '10.0.0.1/8'), hostileValue, 1, 4);
const apiVersionFor = (valid: string) => mix(fc.constant(valid), fc.constantFrom('v1', 'networking.istio.io/v2', 'extensions/v1beta1', 'apps/v1beta2', 'security.istio.io/v1alpha1'), 1, 8);
const meta = fc.record({ name, namespace: name, labels: fc.option(labels, { nil: undefined }), annotations: fc.option(fc.dictionary(fc.constantFrom('proxy.istio.io/config', 'sidecar.istio.io/interceptionMode', 'source-ip.cdk8s.io/trust-chain', 'inject.istio.io/templates'), fc.oneof(fc.constantFrom('{"gatewayTopology":{"numTrustedProxies":1}}', '{"gatewayTopology":{"numTrustedProxies":1000000000}}', '{"gatewayTopology":{"numTrustedProxies":1.5}}', 'TPROXY', 'gateway', '[{"kind":"cdn"}]', '{', '[1]'), fc.string({ maxLength: 8 }))), { nil: undefined }) }, { requiredKeys: ['name'] });

// meshConfig, as istiod's ConfigMap, an IstioOperator and Helm values hold it: valid, wrong types, and hostile YAML text.
const gatewayTopology = fc.record({ numTrustedProxies: count, proxyProtocol: mix(fc.constant({}), hostileValue, 1, 3), forwardClientCertDetails: mix(fc.constantFrom('SANITIZE_SET', 'APPEND_FORWARD'), hostileValue, 1, 3) }, { requiredKeys: [] });
const meshConfig = mix(fc.record({
  rootNamespace: name,
  defaultConfig: mix(fc.record({ gatewayTopology: mix(gatewayTopology, hostileValue, 1, 4), interceptionMode: mix(fc.constantFrom('TPROXY', 'REDIRECT', 'NONE'), hostileValue, 1, 4) }, { requiredKeys: [] }), hostileValue, 1, 6),
}, { requiredKeys: [] }), hostileValue, 1, 6);
const meshText = fc.oneof(
  meshConfig.map(m => YAML.stringify(m)),
  fc.constantFrom('defaultConfig: { gatewayTopology: [', '- a', '', '&a [*a]', 'a: &a [1,1,1,1]\nb: &b [*a,*a,*a,*a]\ndefaultConfig: { gatewayTopology: *b }', '\u202E: x', '{'),
  fc.string({ maxLength: 12 }));
const ingressGateway = fc.record({
  name,
  namespace: name,
  enabled: mix(fc.boolean(), hostileValue, 1, 4),
  label: labels,
  k8s: fc.record({
    podAnnotations: mix(fc.dictionary(fc.constantFrom('proxy.istio.io/config', 'inject.istio.io/templates'), fc.constantFrom('{"gatewayTopology":{"numTrustedProxies":1}}', '{', 'gateway')), hostileValue, 1, 4),
    service: mix(fc.record({ externalTrafficPolicy: mix(fc.constantFrom('Local', 'Cluster'), hostileValue, 1, 4), type: mix(fc.constantFrom('LoadBalancer', 'NodePort'), hostileValue, 1, 4), ports: mix(fc.constant([{ port: 80, targetPort: 8080 }]), hostileValue, 1, 4) }, { requiredKeys: [] }), hostileValue, 1, 4),
  }, { requiredKeys: [] }),
}, { requiredKeys: [] });
/** Values of the istiod and gateway charts (a map each, as the library requires), with wrong types inside. */
const helmValuesArb = fc.array(fc.oneof(
  fc.record({ chart: fc.constant(HelmChart.ISTIOD), values: fc.record({ meshConfig, revision: mix(fc.constantFrom('', 'canary'), hostileValue, 1, 4), global: mix(fc.record({ istioNamespace: name }), hostileValue, 1, 4) }, { requiredKeys: [] }) }),
  fc.record({
    chart: fc.constant(HelmChart.GATEWAY),
    releaseName: fc.option(fc.constantFrom('istio-ingress', 'edge'), { nil: undefined }),
    namespace: fc.option(fc.constantFrom('istio-ingress', 'web'), { nil: undefined }),
    values: fc.record({
      name: mix(fc.constantFrom('', 'istio-edge'), hostileValue, 1, 4),
      labels,
      revision: mix(fc.constant('canary'), hostileValue, 1, 4),
      kind: mix(fc.constantFrom('Deployment', 'DaemonSet'), hostileValue, 1, 4),
      podAnnotations: mix(fc.dictionary(fc.constantFrom('proxy.istio.io/config', 'sidecar.istio.io/inject'), fc.constantFrom<unknown>('{"gatewayTopology":{"proxyProtocol":{}}}', null, 'true')), hostileValue, 1, 4),
      service: mix(fc.record({ type: mix(fc.constantFrom('LoadBalancer', 'None'), hostileValue, 1, 4), externalTrafficPolicy: mix(fc.constantFrom('Local', ''), hostileValue, 1, 4), annotations: mix(fc.constant({ 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' }), hostileValue, 1, 4) }, { requiredKeys: [] }), hostileValue, 1, 4),
      _internal_defaults_do_not_set: mix(fc.constant({ podAnnotations: { a: 'b' } }), hostileValue, 1, 6),
    }, { requiredKeys: [] }),
  }),
), { maxLength: 2 });

const ambientLabels = fc.dictionary(fc.constantFrom('istio.io/dataplane-mode', 'istio.io/use-waypoint', 'istio.io/use-waypoint-namespace', 'istio.io/ingress-use-waypoint'),
  mix(fc.constantFrom('ambient', 'waypoint', 'none', 'true', 'TRUE', 'false'), fc.string({ maxLength: 6 }), 1, 4), { maxKeys: 3 });
const objectArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.record({ apiVersion: apiVersionFor('apps/v1'), kind: fc.constantFrom('Deployment', 'StatefulSet', 'Pod', 'deployment'), metadata: meta, spec: fc.record({ template: fc.record({ metadata: meta }) }) }),
  fc.record({ apiVersion: apiVersionFor('v1'), kind: fc.constant('Service'), metadata: meta, spec: fc.record({ type: mix(fc.constantFrom('LoadBalancer', 'ClusterIP', 'NodePort'), hostileValue, 1, 4), externalTrafficPolicy: mix(fc.constantFrom('Local', 'Cluster'), hostileValue, 1, 4), selector: labels }) }),
  fc.record({ apiVersion: apiVersionFor('networking.istio.io/v1'), kind: fc.constant('Gateway'), metadata: meta, spec: fc.record({ selector: labels, servers: mix(fc.array(fc.record({ port: fc.record({ number: port, protocol: mix(fc.constantFrom('HTTP', 'HTTPS', 'TCP', 'TLS'), hostileValue, 1, 4) }), hosts: mix(fc.constant(['*']), hostileValue, 1, 4), tls: fc.option(fc.record({ mode: mix(fc.constantFrom('PASSTHROUGH', 'SIMPLE'), hostileValue, 1, 4) }), { nil: undefined }) }), { maxLength: 3 }), hostileValue, 1, 6) }) }),
  fc.record({ apiVersion: apiVersionFor('networking.istio.io/v1'), kind: fc.constant('VirtualService'), metadata: meta, spec: fc.record({ gateways: mix(fc.array(name, { maxLength: 2 }), hostileValue, 1, 4), http: mix(fc.array(fc.record({ route: fc.array(fc.record({ destination: fc.record({ host: name }) }), { maxLength: 2 }) }), { maxLength: 2 }), hostileValue, 1, 4) }) }),
  fc.record({
    apiVersion: apiVersionFor('networking.istio.io/v1alpha3'),
    kind: fc.constant('EnvoyFilter'),
    metadata: meta,
    spec: fc.record({
      workloadSelector: fc.option(fc.record({ labels }), { nil: undefined }),
      configPatches: mix(fc.array(fc.record({
        applyTo: mix(fc.constantFrom('NETWORK_FILTER', 'LISTENER_FILTER', 'LISTENER'), hostileValue, 1, 4),
        match: fc.option(fc.record({ context: mix(fc.constantFrom('GATEWAY', 'SIDECAR_INBOUND', 'ANY'), hostileValue, 1, 4), listener: fc.record({ portNumber: port }) }, { requiredKeys: [] }), { nil: undefined }),
        patch: fc.record({
          operation: fc.constantFrom('MERGE', 'ADD', 'INSERT_FIRST'),
          value: fc.oneof(
            fc.record({ typed_config: fc.record({ '@type': fc.constantFrom('type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', 'type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager'), 'xff_num_trusted_hops': count, 'use_remote_address': mix(fc.boolean(), hostileValue, 1, 4), 'original_ip_detection_extensions': mix(fc.array(fc.record({ name: fc.constant('envoy.http.original_ip_detection.xff'), typed_config: fc.record({ xff_num_trusted_hops: count, xff_trusted_cidrs: fc.record({ cidrs: mix(fc.array(fc.record({ address_prefix: mix(fc.constantFrom('10.0.0.0', '2001:db8::'), hostileValue, 1, 3), prefix_len: mix(fc.integer({ min: 0, max: 128 }), hostileValue, 1, 3) }), { maxLength: 2 }), hostileValue, 1, 4) }) }, { requiredKeys: [] }) }), { maxLength: 2 }), hostileValue, 1, 4) }, { requiredKeys: [] }) }),
            fc.record({ name: fc.constantFrom('envoy.filters.listener.proxy_protocol', 'envoy.listener.proxy_protocol'), typed_config: fc.record({ allow_requests_without_proxy_protocol: mix(fc.boolean(), hostileValue, 1, 4) }) }),
            hostileValue),
        }),
      }), { maxLength: 3 }), hostileValue, 1, 6),
    }, { requiredKeys: ['configPatches'] }),
  }),
  fc.record({ apiVersion: apiVersionFor('security.istio.io/v1'), kind: fc.constant('AuthorizationPolicy'), metadata: meta, spec: fc.record({ action: mix(fc.constantFrom('ALLOW', 'DENY', 'AUDIT'), hostileValue, 1, 4), selector: fc.option(fc.record({ matchLabels: labels }), { nil: undefined }), rules: mix(fc.array(fc.record({ from: fc.array(fc.record({ source: fc.dictionary(fc.constantFrom('ipBlocks', 'remoteIpBlocks', 'notIpBlocks'), mix(fc.array(cidr, { maxLength: 3 }), hostileValue, 1, 4)) }), { maxLength: 2 }) }), { maxLength: 2 }), hostileValue, 1, 6) }, { requiredKeys: ['rules'] }) }),
  fc.record({ apiVersion: fc.constant('v1'), kind: fc.constantFrom('Namespace', 'ConfigMap', 'List'), metadata: meta }),
  // Ambient: namespaces and pods with the ambient and waypoint labels, waypoint Gateways, policies attached with targetRefs.
  fc.record({ apiVersion: fc.constant('v1'), kind: fc.constantFrom('Namespace', 'Service'), metadata: fc.record({ name, labels: ambientLabels }) }),
  fc.record({ apiVersion: apiVersionFor('gateway.networking.k8s.io/v1'), kind: fc.constant('Gateway'), metadata: fc.record({ name, namespace: name, labels: fc.option(fc.record({ 'istio.io/waypoint-for': mix(fc.constantFrom('service', 'workload', 'all', 'none'), hostileValue, 1, 4) }), { nil: undefined }) }, { requiredKeys: ['name'] }), spec: fc.record({ gatewayClassName: mix(fc.constantFrom('istio-waypoint', 'istio'), hostileValue, 1, 4), listeners: mix(fc.constant([{ name: 'mesh', port: 15008, protocol: 'HBONE' }]), hostileValue, 1, 4) }) }),
  fc.record({ apiVersion: apiVersionFor('security.istio.io/v1'), kind: fc.constant('AuthorizationPolicy'), metadata: meta, spec: fc.record({ targetRefs: mix(fc.array(fc.record({ group: fc.constantFrom('gateway.networking.k8s.io', '', 'core'), kind: fc.constantFrom('Gateway', 'Service', 'GatewayClass'), name }), { maxLength: 2 }), hostileValue, 1, 4), targetRef: fc.option(hostileValue, { nil: undefined, freq: 4 }), rules: fc.constant([{ from: [{ source: { remoteIpBlocks: ['203.0.113.0/24'] } }] }]) }) }),
  fc.record({ ApiVersion: fc.constant('apps/v1'), Kind: fc.constant('Deployment'), Metadata: meta }),
  fc.record({ apiVersion: fc.constant('v1'), kind: fc.constant('ConfigMap'), metadata: fc.record({ name: fc.constantFrom('istio', 'istio-canary', 'istio-ca-root-cert'), namespace: name }), data: fc.record({ mesh: mix(meshText, hostileValue, 1, 6) }) }),
  fc.record({
    apiVersion: apiVersionFor('install.istio.io/v1alpha1'),
    kind: fc.constant('IstioOperator'),
    metadata: meta,
    spec: fc.record({
      profile: mix(fc.constantFrom('default', 'minimal', 'empty'), hostileValue, 1, 4),
      revision: mix(fc.constant('canary'), hostileValue, 1, 4),
      meshConfig,
      values: mix(fc.record({ meshConfig, gateways: fc.record({ 'istio-ingressgateway': mix(fc.record({ externalTrafficPolicy: mix(fc.constant('Local'), hostileValue, 1, 4), labels }), hostileValue, 1, 4) }) }, { requiredKeys: [] }), hostileValue, 1, 6),
      components: mix(fc.record({
        pilot: fc.record({ enabled: mix(fc.boolean(), hostileValue, 1, 4) }),
        ingressGateways: mix(fc.array(ingressGateway, { maxLength: 2 }), hostileValue, 1, 4),
      }, { requiredKeys: [] }), hostileValue, 1, 6),
    }, { requiredKeys: [] }),
  }),
  meshConfig,
  hostileValue,
);

/** A set as objects, as YAML text, or as YAML text with a hostile edit (truncated, control bytes, deep nesting, aliases). */
const manifestSet = fc.record({
  objects: fc.array(objectArb, { maxLength: 6 }),
  helmValues: helmValuesArb,
  form: fc.constantFrom('objects', 'yaml', 'json', 'edited'),
  edit: fc.record({
    at: fc.nat(),
    insert: fc.constantFrom('\u0000', '\uFFFD', '\u202E', '\n---\n', ': [', '*a', '&a [*a]', '['.repeat(200), '- '.repeat(150), '\t', '"', '{}', 'kind: List\nitems: 3'),
  }),
});

function explainSet(set: { objects: unknown[]; helmValues: HelmValues[]; form: string; edit: { at: number; insert: string } }): number {
  const options = { helmValues: set.helmValues };
  if (set.form === 'objects') {
    const report = Explainer.fromManifests(set.objects, options);
    report.toTable();
    report.toJson();
    report.toMermaid();
    return Math.max(1, set.objects.length);
  }
  let text = set.form === 'json' ? JSON.stringify({ apiVersion: 'v1', kind: 'List', items: set.objects }) : set.objects.map(o => YAML.stringify(o)).join('---\n');
  if (set.form === 'edited') {
    const at = set.edit.at % (text.length + 1);
    text = text.slice(0, at) + set.edit.insert + text.slice(at);
  }
  let objects: unknown[];
  try {
    objects = readManifestText(text, 'generated.yaml');
  } catch (e) {
    if (!isManifestInputError(e)) throw e;
    expect((e as Error).message).toMatch(/^generated\.yaml: /);
    expect((e as Error).message).not.toMatch(/[\u0000\u202E]/);
    return 1;
  }
  const report = Explainer.fromManifests(objects, options);
  report.toTable();
  report.toJson();
  report.toMermaid();
  return Math.max(1, objects.length);
}

// ---- Multi-document files as kubectl and istioctl read them (issue 25): stray scalars, objects without metadata.

/** The property over generated multi-document files; counted with the other explain properties. */
export const MULTI_DOCUMENT_PROPERTY = 'Explainer multi-document files';

const scalarDocument = fc.oneof(fc.string({ minLength: 1, maxLength: 90 }).filter(t => t.trim() !== ''), fc.integer(), fc.double({ noNaN: true }), fc.boolean(),
  fc.constantFrom('oops', 'the quick brown fox jumps over the lazy dog and keeps on running far beyond the fence line', 'kind: Service'));
const withoutMetadata = objectArb.filter((o): o is { [key: string]: unknown } => o !== null && typeof o === 'object' && !Array.isArray(o))
  .map(o => { const { metadata: _dropped, ...rest } = o as any; return rest; });
const istioOperatorWithoutMetadata = fc.record({ numTrustedProxies: fc.integer({ min: 0, max: 4 }) }).map(({ numTrustedProxies }) => ({
  apiVersion: 'install.istio.io/v1alpha1', kind: 'IstioOperator', spec: { meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies } } } },
}));
const documentArb = fc.oneof(
  { arbitrary: objectArb.map(o => ({ kind: 'object' as const, value: o })), weight: 3 },
  { arbitrary: scalarDocument.map(v => ({ kind: 'scalar' as const, value: v as unknown })), weight: 2 },
  { arbitrary: withoutMetadata.map(v => ({ kind: 'object' as const, value: v as unknown })), weight: 2 },
  { arbitrary: istioOperatorWithoutMetadata.map(v => ({ kind: 'istio-operator' as const, value: v as unknown })), weight: 1 },
  { arbitrary: fc.array(fc.oneof(objectArb, withoutMetadata, scalarDocument), { maxLength: 3 }).map(items => ({ kind: 'list' as const, value: { apiVersion: 'v1', kind: 'List', items } as unknown })), weight: 1 },
);

/** How many objects explain must account for (used or skipped), counted from the generated documents themselves. */
function expectedEntries(documents: Array<{ kind: string; value: unknown }>): number {
  const present = (v: unknown): number => (v === null || v === undefined ? 0 : 1);
  return documents.reduce((n, d) => n + (d.kind === 'list' ? ((d.value as any).items as unknown[]).reduce((m: number, i) => m + present(i), 0)
    : Array.isArray(d.value) ? d.value.reduce((m: number, i) => m + present(i), 0) : present(d.value)), 0);
}

function explainMultiDocument(documents: Array<{ kind: string; value: unknown }>): void {
  // Block YAML, except for values with characters outside printable ASCII, written as JSON (also YAML): the yaml
  // package writes some of those as block scalars that js-yaml reads differently, which is not what is tested here.
  const text = documents.map(d => (/^[\x20-\x7e]*$/.test(JSON.stringify(d.value) ?? '') ? YAML.stringify(d.value) : `${JSON.stringify(d.value)}\n`)).join('---\n');
  // No exception: a scalar document is skipped, never a refusal of the file.
  const objects = readManifestText(text, 'multi.yaml');
  const { used, skipped } = classifyObjects(objects);
  // No lost object: every document (every List item) is used or listed as skipped.
  expect(used.length + skipped.length).toBe(expectedEntries(documents));
  const isScalar = (v: unknown) => v !== null && v !== undefined && typeof v !== 'object';
  const scalarDocs = documents.flatMap((d, i) => (isScalar(d.value) ? [`multi.yaml document ${i + 1}`] : []));
  const skippedScalars = skipped.filter(e => e.object.startsWith('document ') && e.source !== undefined && !e.source.includes('List item')).map(e => e.source);
  expect(skippedScalars).toEqual(scalarDocs);
  // Every listed value keeps its quotes (a string is never cut before its closing quote).
  for (const e of skipped.filter(x => x.object.startsWith('document string '))) expect(e.object).toMatch(/^document string ".*"$/s);
  // An IstioOperator without metadata is read, not skipped for its metadata.
  expect(skipped.filter(e => e.object.startsWith('IstioOperator') && /no metadata/.test(e.reason))).toEqual([]);
  const report = Explainer.fromManifests(objects);
  report.toTable();
  report.toJson();
}

/** Explain never throws on manifests: anything it cannot read is a finding. */
function explainNeverThrows(objects: any[]): void {
  const report = Explainer.fromManifests(objects);
  report.toTable();
  report.toJson();
  report.toMermaid();
}

export function explainProperties(): void {
  test('TrustChain: any hops build a chain or fail naming a hop property; the annotation round-trips', () => {
    checkProperty('TrustChain', chainSpec, spec => {
      let chain: TrustChain;
      try {
        chain = buildChain(spec);
      } catch (e) {
        assertOwnError(e, ['name', 'cidrs', 'variableHops', 'proxyProtocolVersion', 'hop'], 'TrustChain.of');
        return;
      }
      const again = TrustChain.fromAnnotationValue(chain.toAnnotationValue());
      expect(again.toAnnotationValue()).toBe(chain.toAnnotationValue());
      expect(again.derive()).toEqual(chain.derive());
      const derived = chain.derive();
      expect(derived.numTrustedProxies).toBe(chain.hops.filter(h => h.appendsXff).length);
      expect(Number.isInteger(derived.numTrustedProxies) && derived.numTrustedProxies >= 0).toBe(true);
    }, 3);
  });

  test('TrustChain.fromAnnotationValue: any text gives a chain or fails naming the annotation or a hop property', () => {
    const kindText = fc.oneof(fc.string(), fc.constantFrom(...Object.getOwnPropertyNames(Object.prototype)));
    const json = fc.jsonValue({ maxDepth: 3 }).map(v => JSON.stringify(v));
    const text = fc.oneof(fc.string({ maxLength: 40 }), json,
      fc.array(fc.record({ kind: fc.oneof(fc.constantFrom('cdn', 'l7-load-balancer', 'l4-passthrough', 'l4-proxy-protocol'), kindText), name: fc.option(fc.string()), cidrs: fc.option(cidrList), variableHops: fc.option(fc.boolean()), proxyProtocolVersion: fc.option(fc.constantFrom('V1', 'V2', 'V3')) }, { requiredKeys: ['kind'] }), { maxLength: 3 }).map(l => JSON.stringify(l)));
    checkProperty('TrustChain.fromAnnotationValue', text, t => {
      try {
        TrustChain.fromAnnotationValue(t);
      } catch (e) {
        assertOwnError(e, [TrustChain.ANNOTATION, 'hops', 'name', 'cidrs', 'variableHops', 'proxyProtocolVersion', 'hop'], 'fromAnnotationValue');
      }
    }, 4);
  });

  test('ClientAddressResolver: any input resolves to the socket peer or an XFF entry, or fails naming an input field', () => {
    checkProperty('ClientAddressResolver', resolverInput, input => {
      let result;
      try {
        result = ClientAddressResolver.resolve(input as any);
      } catch (e) {
        assertOwnError(e, RESOLVER_KEYS, 'ClientAddressResolver.resolve');
        return;
      }
      const entries = (input.xForwardedFor ?? '').split(',').map(e => e.trim()).filter(e => e !== '');
      expect([input.downstreamAddress, ...entries]).toContain(result.trustedClientAddress);
      expect(result.externalAddress).toBe(input.useRemoteAddress ? result.trustedClientAddress : undefined);
      if (input.useRemoteAddress && input.skipXffAppend !== true) expect(result.forwardedFor?.endsWith(input.downstreamAddress)).toBe(true);
      const sidecarDefault = !input.useRemoteAddress && (input.xffNumTrustedHops ?? 0) === 0 && (input.xffTrustedCidrs ?? []).length === 0;
      if (sidecarDefault && entries.length > 0 && isIpAddress(entries[entries.length - 1])) {
        // Istio's sidecar default: the rightmost entry, written by the caller (istio/istio#30166).
        expect(result.trustedClientAddress).toBe(entries[entries.length - 1]);
      }
    }, 4);
  });

  test('IstioVersion.of: any text gives a supported version or fails naming istioVersion', () => {
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.tuple(fc.integer({ min: -2, max: 3 }), fc.integer({ min: -1, max: 40 }), fc.option(fc.nat(20))).map(([a, b, c]) => `${a}.${b}${c === null ? '' : `.${c}`}`));
    checkProperty('IstioVersion.of', text, t => {
      let v: IstioVersion;
      try {
        v = IstioVersion.of(t);
      } catch (e) {
        assertOwnError(e, ['istioVersion'], 'IstioVersion.of');
        return;
      }
      expect(IstioVersion.all()).toContain(v);
      expect(t.trim().startsWith(v.label)).toBe(true);
    }, 4);
  });

  test('the istioVersion context: any value gives manifests for a supported version or fails naming istioVersion', () => {
    const value = fc.oneof(fc.constantFrom<unknown>('1.24', '1.27.3', '1.31', '1.23', '2.0', '', 'latest', 1.27, 27, null, true, {}),
      fc.string({ maxLength: 8 }), istioVersionArb);
    checkProperty('istioVersion context', value, v => {
      buildAndCheck(['istioVersion'], chart => {
        chart.node.setContext(ISTIO_VERSION_CONTEXT_KEY, v);
        const gw = new PreservedIngressGateway(chart, 'Gateway');
        gw.addHttpServer();
      });
    }, 0.3);
  });

  test('Explainer: our manifests with random same-type edits and deletions are explained without throwing', () => {
    checkProperty('Explainer.fromManifests', mutation, m => {
      let objects = SAMPLES[m.sample].map(o => structuredClone(o));
      for (const edit of m.edits) {
        const i = edit.object % objects.length;
        objects = objects.map((o, j) => (j === i ? mutate(o, edit.path, edit.candidates, edit.remove) : o));
      }
      explainNeverThrows(objects.filter(o => o !== undefined));
    }, 1.5);
  });

  test('Explainer: any YAML text is explained or refused with our error', () => {
    const truncatedSample = fc.constantFrom(...SAMPLES.map(s => YAML.stringify(s))).chain(y => fc.nat(y.length).map(n => y.slice(0, n)));
    const text = fc.oneof(fc.string({ maxLength: 60 }), truncatedSample, fc.constantFrom('*a', '&a x\n---\n*b', 'a: *x'));
    checkProperty('Explainer.fromYaml', text, t => {
      try {
        Explainer.fromYaml(t).toTable();
      } catch (e) {
        assertOwnError(e, ['input', 'document'], 'Explainer.fromYaml');
      }
    }, 1);
  });

  test('Explainer: generated manifest sets (valid, mutated, hostile) give a report or a clean input error, never an exception, in bounded time per object', () => {
    checkProperty(MANIFEST_SET_PROPERTY, manifestSet, set => {
      const started = process.hrtime.bigint();
      const objects = explainSet(set);
      const msPerObject = Number(process.hrtime.bigint() - started) / 1e6 / objects;
      slowest.msPerObject = Math.max(slowest.msPerObject, msPerObject);
      // A sanity bound against blow-ups (a loop over a hop count, an alias expansion), far above the usual < 1 ms.
      expect(msPerObject).toBeLessThan(1000);
    }, 9.1);
  });

  test('Explainer: generated multi-document files with scalar documents and objects without metadata are read without an exception or a lost object', () => {
    checkProperty(MULTI_DOCUMENT_PROPERTY, fc.array(documentArb, { minLength: 1, maxLength: 6 }), explainMultiDocument, 1);
  });

  test('Explainer: explaining a synthesised app is deterministic for every Istio version context', () => {
    checkProperty('Explainer determinism', fc.tuple(fc.integer({ min: 0, max: SAMPLES.length - 1 }), istioVersionArb), ([i]) => {
      expect(Explainer.fromManifests(SAMPLES[i]).toJson()).toBe(Explainer.fromManifests(structuredClone(SAMPLES[i])).toJson());
    }, 0.1);
  });
}
