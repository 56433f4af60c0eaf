import { ApiObject, Chart } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import * as fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';
import {
  biased, buildAndCheck, checkProperty, newChart, cidrList, dnsLabel, expectRejectionNamesVaried, hostileCidr, hostileCount, hostileName, hostilePort,
  istioVersion, labels, mix, namesOf, optional, propsCase, validCidr, validPropsCase,
} from './arbitraries';
import { cidrListWithShapes, hostBitsCidr } from './cidr-arbitraries';
import {
  AmbientNamespace, AmbientWorkload, ClientIpField, ExternalTrafficPolicy, ISourceIpTarget, InterceptionMode, LoadBalancerProfile,
  MeshWorkload, PolicyAction, PreservedIngressGateway, ProxyProtocolGateway, SourceIpPolicy, TproxyWorkload, Waypoint, WaypointFor,
  WorkloadSource, XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { parseCidr } from '../../src/net/cidr';

/*
 * Properties of the mesh constructs (TproxyWorkload, MeshWorkload, XffSidecarFilter with XffTrust) and of
 * SourceIpPolicy on every kind of target.
 */

const validSelector = fc.dictionary(fc.constantFrom('app', 'version', 'app.kubernetes.io/name'), dnsLabel, { minKeys: 1, maxKeys: 2 });
const validPort = fc.integer({ min: 1, max: 65535 });
const modeArb = fc.constantFrom(...Object.values(InterceptionMode));
const hostileMode = fc.constantFrom<any>('tproxy', 'Redirect', '', 'IPTABLES', 'TPROXY ');

// ---- TproxyWorkload

const TPROXY_KEYS = ['source', 'interceptionMode', 'istioCni', 'istioVersion', 'newDeployment', 'image', 'port', 'labels', 'name', 'namespace',
  'replicas', 'servicePort', 'apiObject', 'workload'];

type SourceKind = 'new' | 'apiObject' | 'kplus';

const tproxyCase = fc.record({
  kind: fc.constantFrom<SourceKind>('new', 'new', 'apiObject', 'kplus'),
  deployment: propsCase<any>({
    image: fc.constantFrom('docker.io/citizenstig/httpbin', 'registry.k8s.io/echoserver:1.4'),
    port: validPort,
    labels: validSelector,
    name: dnsLabel,
    namespace: dnsLabel,
    replicas: fc.integer({ min: 0, max: 10 }),
  }, {
    image: fc.constantFrom<any>('', ' ', undefined),
    port: hostilePort,
    labels,
    name: hostileName,
    namespace: hostileName,
    replicas: hostileCount(0, 10000),
    servicePort: fc.oneof(hostilePort, validPort),
  }, ['image']),
  template: fc.constantFrom('labels', 'annotations', 'none', 'missing', 'unlabelled'),
  interceptionMode: optional(mix(modeArb, hostileMode)),
  istioCni: optional(fc.boolean()),
  istioVersion: optional(istioVersion),
  policy: fc.option(fc.array(validCidr, { minLength: 1, maxLength: 2 }), { nil: undefined, freq: 3 }),
});

function tproxySource(chart: Chart, c: { kind: SourceKind; deployment: { props: any }; template: string }): WorkloadSource {
  if (c.kind === 'new') return WorkloadSource.newDeployment(c.deployment.props);
  if (c.kind === 'kplus') {
    return WorkloadSource.fromWorkload(new kplus.Deployment(chart, 'Deployment', {
      containers: [{ image: 'httpbin', securityContext: { ensureNonRoot: false } }], securityContext: { ensureNonRoot: false },
    }));
  }
  const template = c.template === 'missing' ? undefined : {
    ...(c.template === 'none' || c.template === 'unlabelled' ? {} : { metadata: { labels: { app: 'httpbin' }, ...(c.template === 'annotations' ? { annotations: { 'example.com/a': 'b' } } : {}) } }),
    spec: { containers: [{ name: 'httpbin', image: 'httpbin' }] },
  };
  return WorkloadSource.fromApiObject(new ApiObject(chart, 'Httpbin', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'httpbin', namespace: 'apps' },
    // 'unlabelled': no labels anywhere, so policies on it would select the whole namespace (refused, issue 25).
    spec: { ...(c.template === 'unlabelled' ? {} : { selector: { matchLabels: { app: 'httpbin' } } }), ...(template ? { template } : {}) },
  }));
}

// ---- Ambient mode

const AMBIENT_KEYS = ['name', 'namespace', 'waypointFor', 'labels', 'ingressUseWaypoint', 'waypoint', 'cidrs'];

const ambientCase = fc.record({
  waypoint: fc.option(propsCase<any>({
    name: dnsLabel,
    namespace: dnsLabel,
    waypointFor: fc.constantFrom(...Object.values(WaypointFor)),
  }, {
    name: hostileName,
    namespace: hostileName,
    waypointFor: fc.constantFrom<any>('Service', '', 'mesh'),
  }), { nil: undefined, freq: 4 }),
  namespace: propsCase<any>({ name: dnsLabel, ingressUseWaypoint: fc.boolean(), labels: fc.oneof(validSelector, fc.constant({})) },
    { name: hostileName, labels: fc.oneof(labels, fc.constant({ 'istio.io/use-waypoint': 'x' })) }, ['name']),
  workload: fc.record({ labels: validSelector, name: optional(dnsLabel) }, { requiredKeys: ['labels'] }),
  policy: fc.option(fc.record({ on: fc.constantFrom('workload', 'waypoint', 'service'), deny: fc.boolean(), cidrs: fc.array(validCidr, { minLength: 1, maxLength: 2 }) }),
    { nil: undefined, freq: 2 }),
});

/** Valid, consistent ambient cases: ingressUseWaypoint only with a waypoint, a waypoint that handles traffic when a policy uses it. */
const cleanAmbientCase = fc.record({
  waypoint: fc.option(validPropsCase<any>({
    name: dnsLabel,
    namespace: dnsLabel,
    waypointFor: fc.constantFrom(WaypointFor.SERVICE, WaypointFor.WORKLOAD, WaypointFor.ALL),
  }), { nil: undefined, freq: 4 }),
  namespace: validPropsCase<any>({ name: dnsLabel, ingressUseWaypoint: fc.boolean(), labels: fc.oneof(validSelector, fc.constant({})) }, ['name']),
  workload: fc.record({ labels: validSelector, name: optional(dnsLabel) }, { requiredKeys: ['labels'] }),
  policy: fc.option(fc.record({ on: fc.constantFrom('workload', 'waypoint', 'service'), deny: fc.boolean(), cidrs: cidrListWithShapes }), { nil: undefined, freq: 2 }),
}).map(c => {
  if (c.waypoint || !c.namespace.props.ingressUseWaypoint) return c;
  const props = { ...c.namespace.props, ingressUseWaypoint: false };
  return { ...c, namespace: { props, valid: props, hostile: [] } };
});

// ---- MeshWorkload and XffSidecarFilter

const meshCase = propsCase<any>({
  labels: validSelector,
  namespace: dnsLabel,
  interceptionMode: modeArb,
  name: dnsLabel,
}, {
  labels,
  namespace: hostileName,
  interceptionMode: hostileMode,
}, ['labels']);

type TrustSpec = { kind: 'remote' } | { kind: 'hops'; hops: number } | { kind: 'cidrs'; cidrs: string[] } | { kind: 'hopsOf'; gatewayHops: number };

const trustSpec: fc.Arbitrary<TrustSpec> = fc.oneof(
  fc.constant({ kind: 'remote' as const }),
  mix(fc.integer({ min: 1, max: 64 }), hostileCount(1, 64)).map(hops => ({ kind: 'hops' as const, hops })),
  fc.oneof(fc.array(validCidr, { minLength: 1, maxLength: 3 }), cidrList).map(cidrs => ({ kind: 'cidrs' as const, cidrs })),
  fc.integer({ min: 0, max: 3 }).map(gatewayHops => ({ kind: 'hopsOf' as const, gatewayHops })),
);

const FILTER_KEYS = ['trust', 'workload', 'selector', 'namespace', 'scope', 'rootNamespace', 'portNumber', 'pinProxyVersion', 'name', 'istioVersion',
  'trustedHops', 'trustedCidrs', 'trustHopsOf', 'filters'];

function buildTrust(chart: Chart, spec: TrustSpec): XffTrust {
  switch (spec.kind) {
    case 'remote': return XffTrust.useRemoteAddress();
    case 'hops': return XffTrust.trustedHops(spec.hops);
    case 'cidrs': return XffTrust.trustedCidrs(spec.cidrs);
    default: {
      const gw = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: spec.gatewayHops, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
      gw.addHttpServer();
      return XffTrust.trustHopsOf(gw);
    }
  }
}

const filterValid = {
  scope: fc.constantFrom(XffFilterScope.WORKLOAD, XffFilterScope.WORKLOAD, XffFilterScope.NAMESPACE, XffFilterScope.MESH),
  rootNamespace: dnsLabel,
  portNumber: validPort,
  pinProxyVersion: fc.boolean(),
  name: fc.oneof(dnsLabel, dnsLabel.map(l => `${l}.xff`)),
  istioVersion,
};
const filterProps = propsCase<any>(filterValid, {
  selector: fc.oneof(labels, fc.constant({})),
  namespace: hostileName,
  scope: fc.constantFrom<any>('cluster', ''),
  rootNamespace: hostileName,
  portNumber: hostilePort,
  name: hostileName,
});

const filterCase = fc.record({
  c: filterProps,
  trust: trustSpec,
  target: fc.constantFrom('workload', 'selector'),
  workload: fc.record({ labels: validSelector, namespace: optional(dnsLabel), interceptionMode: optional(modeArb) }, { requiredKeys: ['labels'] }),
  second: fc.option(fc.record({ trust: trustSpec, portNumber: optional(validPort) }), { nil: undefined, freq: 3 }),
});

/** Valid filters: valid props, a trust that can be rendered (hops 1..64, CIDR lists of every shape, a gateway with hops). */
const cleanFilterCase = fc.record({
  c: validPropsCase<any>(filterValid),
  trust: fc.oneof(
    fc.constant<TrustSpec>({ kind: 'remote' }),
    fc.integer({ min: 1, max: 64 }).map<TrustSpec>(hops => ({ kind: 'hops', hops })),
    cidrListWithShapes.map<TrustSpec>(cidrs => ({ kind: 'cidrs', cidrs })),
    fc.integer({ min: 1, max: 3 }).map<TrustSpec>(gatewayHops => ({ kind: 'hopsOf', gatewayHops })),
  ),
  target: fc.constantFrom('workload', 'selector'),
  workload: fc.record({ labels: validSelector, namespace: optional(dnsLabel), interceptionMode: optional(modeArb) }, { requiredKeys: ['labels'] }),
  second: fc.constant(undefined),
});

// ---- SourceIpPolicy

type TargetKind = 'gateway-local' | 'gateway-cluster' | 'gateway-xff' | 'gateway-tcp' | 'proxy-gateway' | 'mesh' | 'mesh-xff' | 'tproxy'
  | 'ambient' | 'ambient-waypoint' | 'waypoint';

function buildTarget(chart: Chart, kind: TargetKind): ISourceIpTarget {
  switch (kind) {
    case 'gateway-local':
    case 'gateway-cluster':
    case 'gateway-xff': {
      const gw = new PreservedIngressGateway(chart, 'Gateway', {
        externalTrafficPolicy: kind === 'gateway-cluster' ? ExternalTrafficPolicy.CLUSTER : ExternalTrafficPolicy.LOCAL,
        numTrustedProxies: kind === 'gateway-xff' ? 1 : 0,
      });
      gw.addHttpServer();
      gw.addHttpsServer({ credentialName: 'cert' });
      return gw;
    }
    case 'gateway-tcp': {
      const gw = new PreservedIngressGateway(chart, 'Gateway');
      gw.addTcpServer({ port: 9000 });
      return gw;
    }
    case 'proxy-gateway': {
      const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
      gw.addTcpServer({ port: 9000 });
      gw.addHttpServer();
      return gw;
    }
    case 'tproxy':
      return new TproxyWorkload(chart, 'Echo', { source: WorkloadSource.newDeployment({ image: 'echoserver', port: 8080, namespace: 'apps' }) });
    case 'ambient':
    case 'ambient-waypoint':
    case 'waypoint': {
      const waypoint = kind === 'ambient' ? undefined : new Waypoint(chart, 'Waypoint', { namespace: 'apps' });
      new AmbientNamespace(chart, 'Apps', { name: 'apps', waypoint, ingressUseWaypoint: waypoint !== undefined });
      const w = AmbientWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
      return waypoint && kind === 'waypoint' ? waypoint : w;
    }
    default: {
      const w = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
      if (kind === 'mesh-xff') new XffSidecarFilter(chart, 'Xff', { trust: XffTrust.trustedHops(1), workload: w });
      return w;
    }
  }
}

const POLICY_KEYS = ['target', 'cidrs', 'action', 'field', 'negate', 'ports', 'paths', 'methods', 'name', 'allowNothing', 'istioVersion'];

const policyProps = propsCase<any>({
  cidrs: fc.oneof(fc.array(validCidr, { minLength: 1, maxLength: 4 }), cidrListWithShapes),
  action: fc.constantFrom(...Object.values(PolicyAction)),
  field: fc.constantFrom(...Object.values(ClientIpField)),
  negate: fc.boolean(),
  ports: fc.uniqueArray(fc.constantFrom(80, 443, 8080, 8443, 9000, 8000), { maxLength: 2 }),
  paths: fc.array(fc.constantFrom('/admin', '/api/*', '*.png', '/'), { maxLength: 2 }),
  methods: fc.array(fc.constantFrom('GET', 'POST', 'DELETE'), { maxLength: 2 }),
  name: dnsLabel,
  istioVersion,
}, {
  cidrs: fc.oneof(cidrList, fc.array(hostileCidr, { minLength: 1, maxLength: 2 }), fc.constantFrom<any[]>([], ['127.0.0.1'], ['10.0.0.0/8', '10.1.0.0/16'], ['::ffff:7f00:1'])),
  action: fc.constantFrom<any>('AUDIT', 'allow', ''),
  field: fc.constantFrom<any>('sourceIp', ''),
  ports: fc.array(mix(fc.integer({ min: 1, max: 65535 }), hostilePort), { minLength: 1, maxLength: 2 }),
  paths: fc.array(fc.constantFrom('', 'admin', '/a/*/b', '**', '/ü'), { minLength: 1, maxLength: 2 }),
  methods: fc.array(fc.constantFrom('get', '', 'GET /', 'PÖST'), { minLength: 1, maxLength: 2 }),
  name: hostileName,
  allowNothing: fc.boolean(),
}, ['cidrs']);

const policyCase = fc.record({
  target: fc.constantFrom<TargetKind>('gateway-local', 'gateway-cluster', 'gateway-xff', 'gateway-tcp', 'proxy-gateway', 'mesh', 'mesh-xff', 'tproxy',
    'ambient', 'ambient-waypoint', 'waypoint'),
  c: policyProps,
  /** A second policy through allowFrom/denyFrom on the same target, with CIDRs that may overlap. */
  other: fc.option(fc.record({ deny: fc.boolean(), cidrs: fc.array(validCidr, { minLength: 1, maxLength: 2 }) }), { nil: undefined, freq: 3 }),
});

/** The server ports of each target kind (buildTarget): a policy limited to ports must name one of them. */
const TARGET_PORTS: { [kind: string]: number[] } = {
  'gateway-local': [80, 443], 'gateway-cluster': [80, 443], 'gateway-xff': [80, 443], 'gateway-tcp': [9000], 'proxy-gateway': [9000, 80],
};
/** Targets whose proxy matches paths and methods (not ztunnel, not a TCP-only gateway). */
const HTTP_TARGETS = new Set<string>(['gateway-local', 'gateway-cluster', 'gateway-xff', 'mesh', 'mesh-xff', 'tproxy', 'waypoint']);

/** Valid policies with the field left to the topology, CIDR lists of every shape, options the target supports. */
const cleanPolicyCase = fc.record({
  target: fc.constantFrom<TargetKind>('gateway-local', 'gateway-cluster', 'gateway-xff', 'gateway-tcp', 'proxy-gateway', 'mesh', 'mesh-xff', 'tproxy',
    'ambient', 'ambient-waypoint', 'waypoint'),
  cidrs: cidrListWithShapes,
  action: fc.constantFrom(...Object.values(PolicyAction)),
  negate: fc.boolean(),
  port: fc.option(fc.nat(), { nil: undefined, freq: 2 }),
  paths: fc.array(fc.constantFrom('/admin', '/api/*', '*.png', '/'), { maxLength: 2 }),
  name: optional(dnsLabel),
  istioVersion: optional(istioVersion),
  other: fc.option(fc.record({ deny: fc.boolean(), cidrs: cidrListWithShapes }), { nil: undefined, freq: 3 }),
}).map(({ target, cidrs, action, negate, port, paths, name, istioVersion: version, other }) => {
  const ports = TARGET_PORTS[target] ?? [8080];
  const props = {
    cidrs,
    action,
    negate,
    ...(name ? { name } : {}),
    ...(version ? { istioVersion: version } : {}),
    ...(port !== undefined ? { ports: [ports[port % ports.length]] } : {}),
    ...(HTTP_TARGETS.has(target) && paths.length > 0 ? { paths } : {}),
  };
  return { target, c: { props, valid: props, hostile: [] as string[] }, other };
});

/**
 * The accepted filter says what was asked: the HCM fields of its trust (never a zero or false in the MERGE), a
 * workloadSelector unless a namespace- or mesh-wide scope was asked for, and the root namespace for MESH.
 */
function assertRendersTrust(manifests: any[], trust: TrustSpec, props: any): void {
  const fields = (f: any) => f.spec.configPatches[0].patch.value.typed_config;
  const filters = manifests.filter(m => m.kind === 'EnvoyFilter');
  const matches = (f: any): boolean => {
    const tc = fields(f);
    switch (trust.kind) {
      case 'remote': return tc.use_remote_address === true;
      case 'hops': return tc.xff_num_trusted_hops === trust.hops;
      case 'hopsOf': return tc.xff_num_trusted_hops === trust.gatewayHops;
      default: {
        const rendered = tc.original_ip_detection_extensions?.[0]?.typed_config?.xff_trusted_cidrs?.cidrs ?? [];
        const expected = trust.cidrs.map(text => parseCidr(text)).map(cidr => ({ address_prefix: cidr.address, prefix_len: cidr.prefixLength }));
        return JSON.stringify(rendered) === JSON.stringify(expected);
      }
    }
  };
  const main = filters.find(matches);
  if (!main) throw new Error(`no EnvoyFilter renders trust ${JSON.stringify(trust)}: ${JSON.stringify(filters.map(fields))}`);
  const scope = props.scope ?? XffFilterScope.WORKLOAD;
  expect(main.spec.workloadSelector !== undefined).toBe(scope === XffFilterScope.WORKLOAD);
  if (scope === XffFilterScope.MESH) expect(main.metadata.namespace).toBe(props.rootNamespace ?? 'istio-system');
  if (props.portNumber !== undefined) expect(main.spec.configPatches[0].match.listener.portNumber).toBe(props.portNumber);
}

/** Every CIDR in an AuthorizationPolicy is already canonical: parsing it again gives the same text. */
function assertCanonicalCidrs(manifests: any[]): void {
  for (const m of manifests.filter(x => x.kind === 'AuthorizationPolicy')) {
    for (const rule of m.spec.rules ?? []) {
      for (const from of rule.from ?? []) {
        for (const list of Object.values(from.source ?? {}) as string[][]) {
          for (const text of list) {
            if (parseCidr(text).text !== text) throw new Error(`AuthorizationPolicy ${m.metadata.name} has a CIDR that is not canonical: ${text}`);
          }
        }
      }
    }
  }
}

/** Option paths the messages use for a varied prop. */
const ALIASES: { [key: string]: string[] } = {
  image: ['newDeployment image'],
  port: ['newDeployment port', 'newDeployment servicePort'],
  labels: ['newDeployment labels'],
  name: ['newDeployment name'],
  namespace: ['newDeployment namespace'],
  replicas: ['newDeployment replicas'],
  servicePort: ['newDeployment servicePort'],
  ports: ['ports['],
  paths: ['paths['],
  methods: ['methods['],
  cidrs: ['cidrs['],
};

export function meshAndPolicyProperties(): void {
  test('TproxyWorkload: any source and props synthesise valid objects or fail naming a property', () => {
    checkProperty('TproxyWorkload', tproxyCase, c => {
      const run = (deployment: any, control = false) => buildAndCheck(namesOf({}, TPROXY_KEYS, 'cidrs'), chart => {
        const w = new TproxyWorkload(chart, 'Workload', {
          source: tproxySource(chart, { ...c, deployment: { props: deployment } }),
          ...(c.interceptionMode !== undefined ? { interceptionMode: c.interceptionMode } : {}),
          ...(c.istioCni !== undefined ? { istioCni: c.istioCni } : {}),
          ...(c.istioVersion ? { istioVersion: c.istioVersion } : {}),
        });
        if (c.policy) w.allowFrom(c.policy);
      }, c.istioVersion, control);
      const outcome = run(c.deployment.props);
      if (c.kind === 'new') expectRejectionNamesVaried(outcome, c.deployment.hostile, () => run(c.deployment.valid, true), ALIASES);
      if (!outcome.accepted) return;
      // The pod template carries exactly the mode asked for (TPROXY by default).
      const workload = outcome.manifests.find(m => m.kind === 'Deployment');
      expect(workload.spec.template.metadata.annotations[TproxyWorkload.ANNOTATION]).toBe(c.interceptionMode ?? InterceptionMode.TPROXY);
    }, 1);
  });

  test('MeshWorkload: any attributes give a target or fail naming a property', () => {
    checkProperty('MeshWorkload', meshCase, ({ props, valid, hostile }) => {
      const run = (p: any, control = false) => buildAndCheck(namesOf(p, ['labels', 'namespace', 'interceptionMode', 'name']), chart => {
        const w = MeshWorkload.fromLabels(chart, 'Workload', p);
        w.denyFrom(['192.0.2.0/24']);
      }, undefined, control);
      expectRejectionNamesVaried(run(props), hostile, () => run(valid, true), ALIASES);
    }, 1.5);
  });

  test('Ambient: any namespace, waypoint and workload synthesise valid objects or fail naming a property', () => {
    checkProperty('Ambient', biased<any>(cleanAmbientCase, ambientCase, 1, 2), ({ waypoint, namespace, workload, policy }) => {
      const run = (wp: any, ns: any, control = false) => buildAndCheck(AMBIENT_KEYS, chart => {
        const w = wp ? new Waypoint(chart, 'Waypoint', wp) : undefined;
        const n = new AmbientNamespace(chart, 'Ns', { ...ns, waypoint: w });
        const app = AmbientWorkload.fromLabels(chart, 'Workload', { ...workload, namespace: n.namespaceName });
        if (policy) {
          const target = !w || policy.on === 'workload' ? app : policy.on === 'service' ? w.forService('httpbin') : w;
          (policy.deny ? target.denyFrom(policy.cidrs) : target.allowFrom(policy.cidrs));
        }
      }, undefined, control);
      const hostile = [...(waypoint?.hostile ?? []), ...namespace.hostile];
      const outcome = run(waypoint?.props, namespace.props);
      expectRejectionNamesVaried(outcome, hostile, () => run(waypoint?.valid, namespace.valid, true), ALIASES);
      if (!outcome.accepted) return;
      // The Namespace is ambient, and names the waypoint exactly when one was given.
      const ns = outcome.manifests.find(m => m.kind === 'Namespace');
      expect(ns.metadata.labels['istio.io/dataplane-mode']).toBe('ambient');
      expect(ns.metadata.labels['istio.io/use-waypoint']).toBe(waypoint ? waypoint.props.name ?? 'waypoint' : undefined);
    }, 1);
  });

  test('XffSidecarFilter: any trust, scope and selection synthesise a valid EnvoyFilter or fail naming a property', () => {
    checkProperty('XffSidecarFilter', biased<any>(cleanFilterCase, filterCase, 1, 6), ({ c, trust, target, workload, second }) => {
      const run = (props: any, control = false) => buildAndCheck(namesOf(props, FILTER_KEYS, 'cidrs', 'numTrustedProxies', 'labels'), chart => {
        const w = MeshWorkload.fromLabels(chart, 'Workload', workload);
        const wide = props.scope === XffFilterScope.NAMESPACE || props.scope === XffFilterScope.MESH || c.hostile.includes('scope');
        const selection = wide ? {} : target === 'workload' ? { workload: w } : { selector: w.targetSelector, namespace: w.targetNamespace };
        new XffSidecarFilter(chart, 'Filter', { ...selection, ...props, trust: buildTrust(chart, trust) });
        if (second) {
          const secondTrust = buildTrust(chart, second.trust.kind === 'hopsOf' ? { kind: 'remote' } : second.trust);
          new XffSidecarFilter(chart, 'Second', { workload: w, trust: secondTrust, portNumber: second.portNumber });
        }
      }, props.istioVersion, control);
      const outcome = run(c.props);
      expectRejectionNamesVaried(outcome, c.hostile, () => run(c.valid, true), ALIASES);
      if (outcome.accepted) assertRendersTrust(outcome.manifests, trust, c.props);
    }, 1);
  });

  test('SourceIpPolicy: a CIDR with host bits set (IPv4 or IPv6, anywhere in a valid list) is refused, naming the entry and the block meant', () => {
    checkProperty('SourceIpPolicy host bits', fc.tuple(cidrListWithShapes, hostBitsCidr, fc.nat()), ([list, bad, at]) => {
      const i = at % (list.length + 1);
      const cidrs = [...list.slice(0, i), bad, ...list.slice(i)];
      const [address, prefix] = bad.split('/');
      const network = (address.includes(':') ? ipaddr.IPv6 : ipaddr.IPv4).networkAddressFromCIDR(bad).toString();
      const target = MeshWorkload.fromLabels(newChart(), 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
      expect(() => target.allowFrom(cidrs)).toThrow(`cidrs[${i}]: "${bad}" has host bits set after the prefix; did you mean "${network}/${prefix}"?`);
    }, 0.3);
  });

  test('SourceIpPolicy: any CIDRs and options on any target synthesise a valid AuthorizationPolicy or fail naming a property', () => {
    checkProperty('SourceIpPolicy', biased<any>(cleanPolicyCase, policyCase, 1, 3), ({ target, c, other }) => {
      const run = (props: any, control = false) => buildAndCheck(namesOf(props, POLICY_KEYS), chart => {
        const t = buildTarget(chart, target);
        new SourceIpPolicy(chart, 'Policy', { ...props, target: t });
        if (other) (other.deny ? SourceIpPolicy.denyFrom(t, other.cidrs) : SourceIpPolicy.allowFrom(t, other.cidrs));
      }, props.istioVersion, control);
      const outcome = run(c.props);
      expectRejectionNamesVaried(outcome, c.hostile, () => run(c.valid, true), ALIASES);
      if (outcome.accepted) assertCanonicalCidrs(outcome.manifests);
    }, 1.5);
  });
}
