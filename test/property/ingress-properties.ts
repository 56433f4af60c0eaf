import { Chart } from 'cdk8s';
import * as fc from 'fast-check';
import {
  annotations, backendHost, biased, buildAndCheck, checkProperty, count, dnsLabel, expectRejectionNamesVaried, host, hostileCount, hostileName,
  hostilePort, istioVersion, labels, mix, name, namesOf, optional, port, propsCase, validHost, validPropsCase,
} from './arbitraries';
import { chainSpec, ChainSpec, buildChain } from './chain-arbitraries';
import {
  ExternalTrafficPolicy, ForwardClientCertDetails, HttpsMode, IstioVersion, LoadBalancerProfile, PreservedIngressGateway,
  ProxyProtocolBackend, ProxyProtocolFilterContext, ProxyProtocolGateway, ProxyProtocolListenerFilter, ProxyProtocolMode,
  ProxyProtocolSupport, ProxyProtocolVersion, HealthCheckFix, HopKind, GatewayFlavour,
} from '../../src';
import { IngressGatewayBase } from '../../src/ingress/ingress-gateway-base';

/*
 * Properties of the ingress constructs: PreservedIngressGateway, ProxyProtocolGateway (with servers, routes and
 * PROXY backends), ProxyProtocolListenerFilter, ProxyProtocolBackend, LoadBalancerProfile.custom and
 * ProxyProtocolSupport.custom.
 */

// ---- load balancer profiles and PROXY support

interface ProfileSpec { readonly preset?: LoadBalancerProfile; readonly custom?: any }

const customProfileOptions = fc.record({
  id: mix(dnsLabel.map(l => `lb-${l}`), fc.oneof(hostileName, fc.constantFrom('generic', 'aws-nlb-ip', 'My LB'))),
  serviceAnnotations: optional(annotations),
  loadBalancerClass: optional(mix(fc.constantFrom('example.com/lb', 'alibabacloud.com/nlb'), fc.constantFrom('', 'bad class', '💥'))),
  requiresLocalTrafficPolicy: optional(fc.boolean()),
  keepsClientAddress: optional(fc.boolean()),
  description: optional(fc.string({ unit: 'grapheme', maxLength: 10 })),
}, { requiredKeys: ['id'] });

export const profileSpec: fc.Arbitrary<ProfileSpec> = fc.oneof(
  { arbitrary: fc.constantFrom(...LoadBalancerProfile.all()).map(preset => ({ preset })), weight: 4 },
  { arbitrary: customProfileOptions.map(custom => ({ custom })), weight: 1 },
);

function buildProfile(spec: ProfileSpec): LoadBalancerProfile {
  return spec.preset ?? LoadBalancerProfile.custom(spec.custom);
}

const supportOptions = fc.record({
  versions: mix(fc.subarray([ProxyProtocolVersion.V1, ProxyProtocolVersion.V2], { minLength: 1 }),
    fc.constantFrom<any[]>([], ['V3'], ['v2'], [ProxyProtocolVersion.V2, ProxyProtocolVersion.V2])),
  serviceAnnotations: optional(annotations),
  manualStep: optional(fc.constantFrom('switch it on in the console', '')),
  unsupportedReason: optional(fc.constantFrom('no PROXY here')),
  healthCheckFix: optional(mix(fc.constantFrom(...Object.values(HealthCheckFix)), fc.constantFrom<any>('sometimes', ''))),
  healthCheckAnnotations: optional(annotations),
  caveat: optional(fc.constantFrom('mind the gap')),
}, { requiredKeys: ['versions'] });

// ---- servers and routes, shared by both gateways

type Action = { readonly method: string; readonly options: any };

const hostList = mix(fc.array(host, { minLength: 1, maxLength: 3 }), fc.constantFrom<any[]>([], ['*', '*']));

const httpServer = fc.record({ port: optional(port), hosts: optional(hostList) }, { requiredKeys: [] })
  .map(options => ({ method: 'addHttpServer', options }));
const httpsServer = fc.record({
  port: optional(port),
  hosts: optional(hostList),
  credentialName: mix(dnsLabel, fc.oneof(hostileName, fc.constant(undefined as any))),
  mode: optional(mix(fc.constantFrom(HttpsMode.SIMPLE, HttpsMode.MUTUAL), fc.constantFrom<any>('ISTIO_MUTUAL', 'simple', ''))),
}, { requiredKeys: ['credentialName'] }).map(options => ({ method: 'addHttpsServer', options }));
const httpsRedirect = fc.record({ port: optional(port), hosts: optional(hostList) }, { requiredKeys: [] })
  .map(options => ({ method: 'addHttpsRedirect', options }));
const tcpServer = fc.record({ port }).map(options => ({ method: 'addTcpServer', options }));
const tlsServer = fc.record({ port: optional(port), hosts: hostList }, { requiredKeys: ['hosts'] })
  .map(options => ({ method: 'addTlsPassthroughServer', options }));

const route = fc.record({
  host: optional(mix(validHost, host)),
  pathPrefix: optional(mix(fc.constantFrom('/', '/api', '/api/v1', '/a b', '/ü'), fc.constantFrom('', 'api', ' /x', '*'))),
  backendHost,
  backendPort: port,
}, { requiredKeys: ['backendHost', 'backendPort'] }).map(options => ({ method: 'addRoute', options }));
const tcpRoute = fc.record({ port, backendHost, backendPort: port }).map(options => ({ method: 'addTcpRoute', options }));
const tlsRoute = fc.record({
  port: optional(port),
  sniHosts: mix(fc.array(validHost, { minLength: 1, maxLength: 2 }), fc.constantFrom<any[]>([], ['bad host'])),
  backendHost,
  backendPort: port,
}, { requiredKeys: ['sniHosts', 'backendHost', 'backendPort'] }).map(options => ({ method: 'addTlsRoute', options }));

/** A random action, often hostile or conflicting with the others (duplicate ports, routes without servers). */
const randomAction = fc.oneof(httpServer, httpsServer, httpsRedirect, tcpServer, tlsServer, route, tcpRoute, tlsRoute);

type ServerKind = 'http' | 'https' | 'redirect' | 'tcp' | 'tls';
const serverPort = fc.oneof(fc.constantFrom(80, 443, 8080, 8443, 9000, 31400, 1, 65535), fc.integer({ min: 1, max: 65535 }).filter(p => p !== 15021));
const plainHost = dnsLabel.map(l => `${l}.example.com`);
const backend = fc.tuple(dnsLabel, fc.integer({ min: 1, max: 65535 })).map(([h, p]) => ({ backendHost: `${h}.default.svc.cluster.local`, backendPort: p }));

/**
 * A coherent gateway: servers on distinct ports and a route for each, so most cases synthesise; `extra` random
 * actions (hostile or conflicting) are appended to some cases.
 */
function coherentActions(kinds: ServerKind[], extras = true): fc.Arbitrary<Action[]> {
  const server = fc.record({
    kind: fc.constantFrom(...kinds),
    port: serverPort,
    hosts: fc.array(fc.oneof(plainHost, fc.constant('*'), dnsLabel.map(l => `*.${l}.example.com`)), { minLength: 1, maxLength: 2 }),
    credentialName: dnsLabel,
    mutual: fc.boolean(),
    backend,
  });
  return fc.tuple(
    fc.uniqueArray(server, { minLength: 1, maxLength: 3, selector: s => s.port }),
    extras
      ? fc.oneof(
        { arbitrary: fc.constant([] as Action[]), weight: 2 },
        { arbitrary: fc.array(randomAction, { minLength: 1, maxLength: 2 }), weight: 1 },
      )
      : fc.constant([] as Action[]),
  ).map(([servers, extra]) => [...servers.flatMap(toActions), ...extra]);
}

interface ServerSpec {
  readonly kind: ServerKind;
  readonly port: number;
  readonly hosts: string[];
  readonly credentialName: string;
  readonly mutual: boolean;
  readonly backend: { backendHost: string; backendPort: number };
}

function toActions(s: ServerSpec): Action[] {
  const sni = s.hosts.filter(h => h !== '*');
  switch (s.kind) {
    case 'http':
      return [{ method: 'addHttpServer', options: { port: s.port, hosts: s.hosts } }, { method: 'addRoute', options: { host: s.hosts[0], ...s.backend } }];
    case 'https':
      return [{ method: 'addHttpsServer', options: { port: s.port, hosts: s.hosts, credentialName: s.credentialName, mode: s.mutual ? HttpsMode.MUTUAL : HttpsMode.SIMPLE } },
        { method: 'addRoute', options: { host: s.hosts[0], pathPrefix: '/api', ...s.backend } }];
    case 'redirect':
      return [{ method: 'addHttpsRedirect', options: { port: s.port, hosts: s.hosts } }];
    case 'tcp':
      return [{ method: 'addTcpServer', options: { port: s.port } }, { method: 'addTcpRoute', options: { port: s.port, ...s.backend } }];
    default:
      return [{ method: 'addTlsPassthroughServer', options: { port: s.port, hosts: s.hosts } },
        ...(sni.length > 0 ? [{ method: 'addTlsRoute', options: { port: s.port, sniHosts: sni, ...s.backend } }] : [])];
  }
}

const httpActions = coherentActions(['http', 'https', 'redirect']);
const anyActions = coherentActions(['http', 'https', 'redirect', 'tcp', 'tls']);
const cleanHttpActions = coherentActions(['http', 'https', 'redirect'], false);
const cleanAnyActions = coherentActions(['http', 'https', 'redirect', 'tcp', 'tls'], false);

/**
 * Clean cases keep the props consistent with each other: the Gateway API flavour only where it is allowed (Istio
 * 1.26 or newer, not attached to an existing installation, TLS without client certificates).
 */
function consistent<C extends { props: any; valid: any; actions: Action[] }>(c: C): C {
  const gatewayApi = c.props.flavour === GatewayFlavour.GATEWAY_API;
  const allowed = !c.props.existing && (c.props.istioVersion === undefined || c.props.istioVersion.supportsGatewayParametersRef);
  const props = gatewayApi && !allowed ? { ...c.props, flavour: undefined } : c.props;
  const actions = gatewayApi && allowed
    ? c.actions.map(a => (a.options.mode === HttpsMode.MUTUAL ? { ...a, options: { ...a.options, mode: HttpsMode.SIMPLE } } : a)) : c.actions;
  return { ...c, props, valid: props, actions };
}

/** A trust chain with plain hop options (no hostile ones). */
const cleanChain = (kinds: HopKind[]): fc.Arbitrary<ChainSpec> => fc.array(
  fc.record({ kind: fc.constantFrom(...kinds), options: fc.oneof(fc.constant({}), dnsLabel.map(n => ({ name: n }))) }),
  { maxLength: 3 },
).map(hops => ({ hops: hops.map((h, i) => ({ ...h, options: 'name' in h.options ? { name: `${(h.options as any).name}-${i}` } : {} })) }));

function applyActions(gateway: IngressGatewayBase, actions: Action[]): void {
  for (const action of actions) (gateway as any)[action.method](action.options);
}

function actionNames(actions: Action[]): string[] {
  return actions.flatMap(a => [a.method, ...Object.keys(a.options)]);
}

// ---- PreservedIngressGateway

const enumOr = <T>(values: T[], hostile: any[]) => optional(mix(fc.constantFrom(...values), fc.constantFrom(...hostile)));

const autoscaling = fc.record({
  minReplicas: optional(fc.integer({ min: 1, max: 20 })),
  maxReplicas: fc.integer({ min: 20, max: 50 }),
  targetCpuUtilization: optional(fc.integer({ min: 1, max: 100 })),
}, { requiredKeys: ['maxReplicas'] });
const hostileAutoscaling = fc.record({
  minReplicas: optional(count(1, 20)),
  maxReplicas: count(1, 50),
  targetCpuUtilization: optional(count(1, 100)),
}, { requiredKeys: ['maxReplicas'] });

const existing = fc.record({ selector: optional(fc.dictionary(fc.constantFrom('app', 'istio'), dnsLabel, { minKeys: 1, maxKeys: 2 })), namespace: optional(dnsLabel), serviceName: optional(dnsLabel) }, { requiredKeys: [] });
const hostileExisting = fc.record({ selector: optional(labels), namespace: optional(name), serviceName: optional(name) }, { requiredKeys: [] });

/** Both flavours; the Gateway API one is refused before Istio 1.26 and with an existing installation. */
const flavour = fc.constantFrom(GatewayFlavour.ISTIO, GatewayFlavour.GATEWAY_API);
const hostileFlavour = fc.constantFrom<any>('GATEWAY_API', '', 'envoy-gateway');

const preservedValid = {
  name: dnsLabel,
  namespace: dnsLabel,
  replicas: fc.integer({ min: 1, max: 10 }),
  autoscaling: fc.option(autoscaling, { nil: undefined, freq: 2 }),
  numTrustedProxies: fc.integer({ min: 0, max: 64 }),
  forwardClientCertDetails: fc.constantFrom(...Object.values(ForwardClientCertDetails)),
  externalTrafficPolicy: fc.constantFrom(...Object.values(ExternalTrafficPolicy)),
  serviceAnnotations: fc.dictionary(dnsLabel.map(l => `example.com/${l}`), dnsLabel, { maxKeys: 2 }),
  existing: fc.option(existing, { nil: undefined, freq: 4 }),
  istioVersion,
  flavour: flavour,
};
const preservedProps = propsCase<any>(preservedValid, {
  name: hostileName,
  namespace: hostileName,
  replicas: hostileCount(1, 1000),
  autoscaling: hostileAutoscaling,
  numTrustedProxies: hostileCount(0, 64),
  forwardClientCertDetails: fc.constantFrom<any>('sanitize', '', 'NONE'),
  externalTrafficPolicy: fc.constantFrom<any>('local', '', 'Both'),
  serviceAnnotations: annotations,
  existing: hostileExisting,
  flavour: hostileFlavour,
});

/** Chains for a gateway without PROXY (no PROXY hop), sometimes any chain at all. */
const chainWithoutProxy = chainSpec.map(c => ({ hops: c.hops.filter(h => h.kind !== HopKind.L4_PROXY_PROTOCOL) }));
/** Chains ending in a PROXY hop, sometimes any chain at all. */
const chainWithProxy = fc.tuple(chainSpec, fc.constantFrom(ProxyProtocolVersion.V1, ProxyProtocolVersion.V2, undefined)).map(([c, v]) => ({
  hops: [
    ...c.hops.filter(h => h.kind === HopKind.CDN || h.kind === HopKind.L7_LOAD_BALANCER),
    { kind: HopKind.L4_PROXY_PROTOCOL, options: v ? { proxyProtocolVersion: v } : {} },
  ],
}));

const preservedCase = fc.record({
  c: preservedProps,
  profile: optional(profileSpec),
  chain: fc.option(fc.oneof({ arbitrary: chainWithoutProxy, weight: 3 }, { arbitrary: chainSpec, weight: 1 }), { nil: undefined, freq: 3 }),
  actions: httpActions,
}).map(({ c, ...rest }) => ({ props: c.props, hostile: c.hostile, valid: c.valid, ...rest }));

/** Valid, consistent props with preset load balancers and plain chains: most of them synthesise. */
const cleanPreservedCase = fc.record({
  c: validPropsCase<any>(preservedValid),
  profile: optional(fc.constantFrom(...LoadBalancerProfile.all()).map(preset => ({ preset }) as ProfileSpec)),
  chain: fc.option(cleanChain([HopKind.CDN, HopKind.L7_LOAD_BALANCER, HopKind.L4_PASSTHROUGH]), { nil: undefined, freq: 3 }),
  actions: cleanHttpActions,
}).map(({ c, ...rest }) => consistent({ props: c.props, hostile: c.hostile, valid: c.valid, ...rest }));

const GATEWAY_KEYS = ['name', 'namespace', 'replicas', 'autoscaling', 'numTrustedProxies', 'forwardClientCertDetails', 'externalTrafficPolicy',
  'loadBalancerProfile', 'serviceAnnotations', 'trustChain', 'existing', 'istioVersion', 'flavour'];
const PROXY_GATEWAY_KEYS = [...GATEWAY_KEYS, 'proxyProtocolSupport', 'proxyProtocolMode', 'proxyProtocolPorts', 'proxyProtocolVersion',
  'loadBalancerProxyProtocolAnnotations', 'inClusterCallers'];
const LISTENER_FILTER_KEYS = ['namespace', 'selector', 'ports', 'context', 'allowRequestsWithoutProxyProtocol', 'name', 'istioVersion'];
const BACKEND_KEYS = ['host', 'port', 'targetPort', 'namespace', 'selector', 'workload', 'version', 'allowRequestsWithoutProxyProtocol', 'istioVersion'];

function preservedNames(c: { props: object; profile?: ProfileSpec; chain?: ChainSpec; actions: Action[] }): string[] {
  return namesOf(c.props, GATEWAY_KEYS, ...(c.chain ? CHAIN_NAMES : []), ...actionNames(c.actions));
}

/** Messages about a trust chain name the chain, a hop, or the hop option. */
export const CHAIN_NAMES = ['trustChain', 'hop', 'cidrs', 'variableHops', 'proxyProtocolVersion', 'name'];

// ---- ProxyProtocolGateway

const proxyValid = {
  name: dnsLabel,
  namespace: dnsLabel,
  proxyProtocolMode: fc.constantFrom(...Object.values(ProxyProtocolMode)).filter(m => m !== ProxyProtocolMode.OFF),
  proxyProtocolVersion: fc.option(fc.constantFrom(...Object.values(ProxyProtocolVersion)), { nil: undefined, freq: 2 }),
  loadBalancerProxyProtocolAnnotations: fc.boolean(),
  inClusterCallers: fc.constant(false),
  numTrustedProxies: fc.integer({ min: 0, max: 64 }),
  externalTrafficPolicy: fc.constantFrom(...Object.values(ExternalTrafficPolicy)),
  replicas: fc.integer({ min: 1, max: 10 }),
  autoscaling: fc.option(autoscaling, { nil: undefined, freq: 4 }),
  forwardClientCertDetails: fc.constantFrom(...Object.values(ForwardClientCertDetails)),
  serviceAnnotations: fc.dictionary(dnsLabel.map(l => `example.com/${l}`), dnsLabel, { maxKeys: 2 }),
  istioVersion,
  flavour,
};
const proxyProps = propsCase<any>(proxyValid, {
  name: hostileName,
  namespace: hostileName,
  flavour: hostileFlavour,
  proxyProtocolMode: fc.constantFrom<any>(ProxyProtocolMode.OFF, 'STRICT', '', 'on'),
  proxyProtocolPorts: fc.oneof(fc.array(port, { maxLength: 3 }), fc.constantFrom<any[]>([80, 80], [0], [15021], [])),
  proxyProtocolVersion: fc.constantFrom<any>('V3', 'v1', ''),
  numTrustedProxies: hostileCount(0, 64),
  externalTrafficPolicy: fc.constantFrom<any>('cluster', ''),
  replicas: hostileCount(1, 1000),
  autoscaling: hostileAutoscaling,
  forwardClientCertDetails: fc.constantFrom<any>('x'),
  serviceAnnotations: annotations,
  inClusterCallers: fc.constant(true),
});

const PROXY_CAPABLE_PRESETS = LoadBalancerProfile.all().filter(p => ProxyProtocolSupport.forProfile(p).canSend);

/** Mostly load balancers that can send PROXY. */
const proxyProfileSpec = fc.oneof(
  { arbitrary: fc.constantFrom(...PROXY_CAPABLE_PRESETS).map(preset => ({ preset })), weight: 4 },
  { arbitrary: profileSpec, weight: 1 },
);

const proxyCase = fc.record({
  c: proxyProps,
  profile: optional(proxyProfileSpec),
  support: fc.option(supportOptions, { nil: undefined, freq: 6 }),
  chain: fc.option(fc.oneof({ arbitrary: chainWithProxy, weight: 3 }, { arbitrary: chainSpec, weight: 1 }), { nil: undefined, freq: 3 }),
  actions: anyActions,
  backend: fc.option(fc.record({
    host: mix(dnsLabel, fc.oneof(hostileName, fc.constantFrom('*.apps.svc.cluster.local'))),
    port: mix(fc.integer({ min: 1, max: 65535 }), hostilePort),
    targetPort: optional(mix(fc.integer({ min: 1, max: 65535 }), hostilePort)),
    selector: labels,
    version: enumOr(Object.values(ProxyProtocolVersion), ['V3']),
    allowRequestsWithoutProxyProtocol: optional(fc.boolean()),
  }, { requiredKeys: ['host', 'port', 'selector'] }), { nil: undefined, freq: 3 }),
}).map(({ c, ...rest }) => ({ props: c.props, hostile: c.hostile, valid: c.valid, ...rest }));

/**
 * Valid, consistent props: a load balancer that sends PROXY, the version it sends (left to the profile), a chain
 * ending in a PROXY hop, valid PROXY backends.
 */
const cleanProxyCase = fc.record({
  c: validPropsCase<any>({ ...proxyValid, proxyProtocolVersion: fc.constant(undefined) }),
  profile: optional(fc.constantFrom(...PROXY_CAPABLE_PRESETS).map(preset => ({ preset }) as ProfileSpec)),
  support: fc.constant(undefined),
  chain: fc.option(
    cleanChain([HopKind.CDN, HopKind.L7_LOAD_BALANCER]).map(c => ({ hops: [...c.hops, { kind: HopKind.L4_PROXY_PROTOCOL, options: {} }] })),
    { nil: undefined, freq: 3 }),
  actions: cleanAnyActions,
  backend: fc.option(fc.record({
    host: dnsLabel,
    port: fc.integer({ min: 1, max: 65535 }),
    selector: fc.dictionary(fc.constantFrom('app', 'version'), dnsLabel, { minKeys: 1, maxKeys: 2 }),
    version: optional(fc.constantFrom(...Object.values(ProxyProtocolVersion))),
  }, { requiredKeys: ['host', 'port', 'selector'] }), { nil: undefined, freq: 3 }),
}).map(({ c, ...rest }) => consistent({ props: c.props, hostile: c.hostile, valid: c.valid, ...rest } as any) as any);

/**
 * A per-port mode needs ports that have servers: most cases list some of the servers' ports (the generator
 * cannot know them before the actions exist).
 */
function withServerPorts(props: any, actions: Action[]): any {
  const perPort = props.proxyProtocolMode !== undefined && props.proxyProtocolMode !== ProxyProtocolMode.STRICT;
  if (props.proxyProtocolPorts !== undefined || !perPort) return props;
  const ports = actions.filter(a => /^add.*Server$|^addHttpsRedirect$/.test(a.method)).map(a => a.options.port ?? (a.method === 'addHttpsServer' || a.method === 'addTlsPassthroughServer' ? 443 : 80));
  return { ...props, proxyProtocolPorts: [...new Set(ports)] };
}

// ---- ProxyProtocolListenerFilter and ProxyProtocolBackend on their own

const validSelector = fc.dictionary(fc.constantFrom('app', 'version', 'app.kubernetes.io/name'), dnsLabel, { minKeys: 1, maxKeys: 2 });

const listenerFilterCase = fc.record({
  c: propsCase<any>({
    namespace: dnsLabel,
    selector: validSelector,
    ports: fc.uniqueArray(fc.integer({ min: 1, max: 65535 }), { minLength: 1, maxLength: 4 }),
    context: fc.constantFrom(...Object.values(ProxyProtocolFilterContext)),
    allowRequestsWithoutProxyProtocol: fc.boolean(),
    name: fc.oneof(dnsLabel, dnsLabel.map(l => `${l}.x`)),
    istioVersion,
  }, {
    namespace: hostileName,
    selector: labels,
    ports: fc.oneof(fc.array(port, { maxLength: 4 }), fc.constantFrom<any[]>([], [8080, 8080])),
    context: fc.constantFrom<any>('SIDECAR_OUTBOUND', 'gateway'),
    name: hostileName,
  }, ['namespace', 'selector']),
  extraPorts: fc.array(mix(fc.integer({ min: 1, max: 65535 }), hostilePort), { maxLength: 2 }),
}).map(({ c, extraPorts }) => {
  // A sidecar filter takes no ports unless a hostile case gives them: most sidecar cases leave them out.
  const withoutSidecarPorts = (p: any) => (p.context === ProxyProtocolFilterContext.SIDECAR_INBOUND && !c.hostile.includes('ports') ? { ...p, ports: undefined } : p);
  const props = withoutSidecarPorts(c.props);
  const sidecar = props.context === ProxyProtocolFilterContext.SIDECAR_INBOUND;
  return { props, valid: withoutSidecarPorts(c.valid), hostile: c.hostile, extraPorts: sidecar && c.hostile.length === 0 ? [] : extraPorts };
});

const backendCase = propsCase<any>({
  host: fc.oneof(dnsLabel, dnsLabel.map(l => `${l}.apps.svc.cluster.local`)),
  port: fc.integer({ min: 1, max: 65535 }),
  targetPort: fc.integer({ min: 1, max: 65535 }),
  namespace: dnsLabel,
  selector: validSelector,
  version: fc.constantFrom(...Object.values(ProxyProtocolVersion)),
  allowRequestsWithoutProxyProtocol: fc.boolean(),
  istioVersion,
}, {
  host: fc.oneof(hostileName, fc.constantFrom('*.x.svc', 'a..b', '*')),
  port: hostilePort,
  targetPort: hostilePort,
  namespace: hostileName,
  selector: fc.oneof(labels, fc.constant(undefined)),
  version: fc.constantFrom<any>('V3', 'v2'),
}, ['host', 'port', 'selector']);

/** The gateway's `gatewayTopology`, or undefined in attach mode (no Deployment). */
/** The gateway pods' topology: our Deployment's annotation, or the one a Gateway API Gateway gives the pods Istio generates. */
function topologyOf(manifests: any[]): any {
  const deployment = manifests.find(m => m.kind === 'Deployment');
  const gatewayApi = manifests.find(m => m.kind === 'Gateway' && m.apiVersion === 'gateway.networking.k8s.io/v1');
  const podAnnotations = deployment?.spec.template.metadata.annotations ?? gatewayApi?.spec.infrastructure.annotations;
  return podAnnotations ? JSON.parse(podAnnotations['proxy.istio.io/config']).gatewayTopology : undefined;
}

/** With a chain, the props it derives are left out (an explicit value that agrees is allowed, one that does not is an error). */
function withoutDerived(c: { props: any; hostile: string[]; chain?: ChainSpec }): any {
  if (!c.chain) return c.props;
  const props = { ...c.props };
  for (const key of ['numTrustedProxies', 'externalTrafficPolicy', 'proxyProtocolVersion']) if (!c.hostile.includes(key)) delete props[key];
  return props;
}

function versionOf(props: { istioVersion?: IstioVersion }): IstioVersion | undefined {
  return props.istioVersion;
}

/** Option paths the messages use for a varied prop. */
const ALIASES: { [key: string]: string[] } = {
  autoscaling: ['autoscaling.'],
  // existing.namespace is reported as "namespace" (the gateway's namespace defaults to it): see the report.
  existing: ['existing.', 'namespace'],
  ports: ['port'],
  proxyProtocolPorts: ['proxyProtocolPorts'],
};

/*
 * Weights: most gateway cases now synthesise (clean cases), and an accepted case costs far more than a rejected one
 * (schema and Envoy-proto validation, the round trip through explain), so the two gateway properties run fewer cases
 * than the other construct properties while feeding the round trip several times more accepted ones than before.
 */
export function ingressProperties(): void {
  test('PreservedIngressGateway: any props, servers and routes synthesise valid objects or fail naming a property', () => {
    checkProperty('PreservedIngressGateway', biased(cleanPreservedCase, preservedCase, 1, 3), c => {
      const run = (props: any, control = false) => buildAndCheck(preservedNames(c), (chart: Chart) => {
        const all = {
          ...withoutDerived({ ...c, props }),
          ...(c.profile ? { loadBalancerProfile: buildProfile(c.profile) } : {}),
          ...(c.chain ? { trustChain: buildChain(c.chain) } : {}),
        };
        const gw = props.existing
          ? PreservedIngressGateway.attach(chart, 'Gateway', props.existing, { ...all, existing: undefined })
          : new PreservedIngressGateway(chart, 'Gateway', all);
        applyActions(gw, c.actions);
      }, versionOf(props), control);
      const outcome = run(c.props);
      expectRejectionNamesVaried(outcome, c.hostile, () => run(c.valid, true), ALIASES);
      if (!outcome.accepted) return;
      // Secure defaults hold for every accepted case: numTrustedProxies is the explicit value, else the chain's, else 0.
      const expected = withoutDerived(c).numTrustedProxies ?? (c.chain ? buildChain(c.chain).derive().numTrustedProxies : 0);
      const topology = topologyOf(outcome.manifests);
      if (topology) expect(topology.numTrustedProxies).toBe(expected);
      expect(outcome.manifests.filter(m => m.kind === 'EnvoyFilter')).toEqual([]);
    }, 0.8);
  });

  test('ProxyProtocolGateway: any props, servers, routes and PROXY backends synthesise valid objects or fail naming a property', () => {
    checkProperty('ProxyProtocolGateway', biased<any>(cleanProxyCase, proxyCase, 1), c => {
      const names = namesOf(c.props, PROXY_GATEWAY_KEYS, ...(c.chain ? CHAIN_NAMES : []), ...actionNames(c.actions),
        ...(c.backend ? ['addProxyProtocolBackend', 'addTcpServer', 'addTcpRoute', ...BACKEND_KEYS] : []));
      const run = (props: any, control = false) => buildAndCheck(names, (chart: Chart) => {
        const profile = c.profile ? buildProfile(c.profile) : undefined;
        const gw = new ProxyProtocolGateway(chart, 'Gateway', {
          ...withServerPorts(withoutDerived({ ...c, props }), c.actions),
          ...(profile ? { loadBalancerProfile: profile } : {}),
          ...(c.support ? { proxyProtocolSupport: ProxyProtocolSupport.custom(profile?.id ?? 'generic', c.support) } : {}),
          ...(c.chain ? { trustChain: buildChain(c.chain) } : {}),
        });
        applyActions(gw, c.actions);
        if (c.backend) {
          const added = gw.addProxyProtocolBackend('Backend', c.backend);
          gw.addTcpServer({ port: 31400 });
          gw.addTcpRoute({ port: 31400, backendHost: added.host, backendPort: added.port });
        }
      }, versionOf(props), control);
      const outcome = run(c.props);
      expectRejectionNamesVaried(outcome, c.hostile, () => run(c.valid, true), ALIASES);
      if (!outcome.accepted) return;
      // Every EnvoyFilter selects pods; PROXY is strict (native, no optional filter) unless OPTIONAL was asked for.
      const filters = outcome.manifests.filter(m => m.kind === 'EnvoyFilter');
      for (const f of filters) expect(Object.keys(f.spec.workloadSelector?.labels ?? {}).length).toBeGreaterThan(0);
      const optionalAsked = c.props.proxyProtocolMode === ProxyProtocolMode.OPTIONAL || c.backend?.allowRequestsWithoutProxyProtocol === true;
      if (!optionalAsked) expect(JSON.stringify(filters)).not.toMatch(/allow_requests_without_proxy_protocol/);
      const mode = c.props.proxyProtocolMode ?? ProxyProtocolMode.STRICT;
      expect(topologyOf(outcome.manifests).proxyProtocol).toEqual(mode === ProxyProtocolMode.STRICT ? {} : undefined);
    }, 0.6);
  });

  test('ProxyProtocolListenerFilter: any props synthesise a valid EnvoyFilter or fail naming a property', () => {
    checkProperty('ProxyProtocolListenerFilter', listenerFilterCase, ({ props, valid, hostile, extraPorts }) => {
      // `ports` entries are checked by addPort(), whose message says "port" (see the report).
      const run = (p: any, control = false) => buildAndCheck(namesOf(p, LISTENER_FILTER_KEYS, 'port'), (chart: Chart) => {
        const filter = new ProxyProtocolListenerFilter(chart, 'Filter', p);
        extraPorts.forEach(extra => filter.addPort(extra));
      }, versionOf(p), control);
      expectRejectionNamesVaried(run(props), hostile, () => run(valid, true), ALIASES);
    }, 1.5);
  });

  test('ProxyProtocolBackend: any props synthesise a valid DestinationRule and EnvoyFilter or fail naming a property', () => {
    checkProperty('ProxyProtocolBackend', backendCase, ({ props, valid, hostile }) => {
      const run = (p: any, control = false) => buildAndCheck(namesOf(p, BACKEND_KEYS), (chart: Chart) => {
        new ProxyProtocolBackend(chart, 'Backend', p);
      }, versionOf(p), control);
      expectRejectionNamesVaried(run(props), hostile, () => run(valid, true), ALIASES);
    }, 1.5);
  });
}
