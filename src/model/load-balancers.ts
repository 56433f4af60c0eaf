import { LB_PROXY_PROTOCOL_ANNOTATION } from './annotations';
import { HealthCheckFix } from './health-check-fix';
import { ProxyProtocolVersion } from './model';

/*
 * What each cloud's Service load balancer does with the client address, in one table that both renders the
 * Service (LoadBalancerProfile, ProxyProtocolSupport) and recognises it in YAML (`explain`). Facts: kube-proxy
 * and the clouds' load-balancer controllers; each line names the upstream issue where one exists.
 */

/** PROXY protocol facts of a load balancer. */
export interface ProxyProtocolFacts {
  readonly versions: ProxyProtocolVersion[];
  readonly serviceAnnotations?: { [key: string]: string };
  readonly manualStep?: string;
  readonly unsupportedReason?: string;
  readonly healthCheckFix?: HealthCheckFix;
  readonly healthCheckAnnotations?: { [key: string]: string };
  readonly caveat?: string;
}

/** Facts of one load balancer. */
export interface LoadBalancerFacts {
  readonly id: string;
  readonly description: string;
  readonly serviceAnnotations?: { [key: string]: string };
  readonly loadBalancerClass?: string;
  readonly requiresLocalTrafficPolicy?: boolean;
  readonly keepsClientAddress?: boolean;
  /**
   * The subset of `serviceAnnotations` (and `loadBalancerClass`) that identifies this load balancer in YAML.
   * @default - every annotation
   */
  readonly recognisedBy?: { [key: string]: string };
  readonly proxyProtocol: ProxyProtocolFacts;
}

const AWS_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-type';
const AWS_TARGET_TYPE = 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type';
const AWS_SCHEME = 'service.beta.kubernetes.io/aws-load-balancer-scheme';
const AWS_TARGET_GROUP_ATTRIBUTES = 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes';
const AWS_PROXY_PROTOCOL = 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol';
const AWS_HEALTHCHECK_PROTOCOL = 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol';
const AWS_HEALTHCHECK_PORT = 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port';
const ALIBABA_PROXY_PROTOCOL = 'service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol';
const TENCENT_DIRECT_ACCESS = 'service.cloud.tencent.com/direct-access';

/** Annotations whose values are comma-separated lists: two sources are merged item by item, not replaced. */
export const LIST_ANNOTATIONS = [AWS_TARGET_GROUP_ATTRIBUTES];

const AWS_TCP_HEALTH_CHECK = { [AWS_HEALTHCHECK_PROTOCOL]: 'tcp', [AWS_HEALTHCHECK_PORT]: 'traffic-port' };

const AWS_LB_CONTROLLER_NLB: ProxyProtocolFacts = {
  versions: [ProxyProtocolVersion.V2],
  // `proxy-protocol: "*"` rather than `target-group-attributes: proxy_protocol_v2.enabled=true`: the profile may
  // already set target-group-attributes (preserve_client_ip), and a second value would replace the first.
  serviceAnnotations: { [AWS_PROXY_PROTOCOL]: '*' },
  healthCheckAnnotations: AWS_TCP_HEALTH_CHECK,
};

/** PROXY facts of a load balancer this library knows nothing about. */
export const UNKNOWN_PROXY_PROTOCOL: ProxyProtocolFacts = {
  versions: [ProxyProtocolVersion.V1, ProxyProtocolVersion.V2],
  manualStep: 'switch PROXY protocol on in the load balancer itself; this library knows no Service annotation for it',
  healthCheckFix: HealthCheckFix.UNKNOWN,
};

const TENCENT_PROXY_PROTOCOL: ProxyProtocolFacts = {
  versions: [ProxyProtocolVersion.V2],
  manualStep: 'switch PROXY protocol (v2) on for the CLB layer-4 listeners in the Tencent Cloud console or a TkeServiceConfig; TKE has no Service annotation for it',
  healthCheckFix: HealthCheckFix.UNKNOWN,
};

const ALIBABA_PROXY_PROTOCOL_FACTS: ProxyProtocolFacts = {
  versions: [ProxyProtocolVersion.V2],
  serviceAnnotations: { [ALIBABA_PROXY_PROTOCOL]: 'on' },
  healthCheckFix: HealthCheckFix.UNKNOWN,
  caveat: 'Alibaba Cloud cannot switch PROXY protocol on a live listener without interruption (no smooth migration): roll it out together with the gateway change in a maintenance window',
};

/** Every load balancer the library has facts for, keyed by `LoadBalancerProfile.id`, in a stable order. */
export const LOAD_BALANCERS: { readonly [id: string]: LoadBalancerFacts } = {
  'generic': {
    id: 'generic',
    description: 'pass-through L4 load balancer (no annotations)',
    proxyProtocol: UNKNOWN_PROXY_PROTOCOL,
  },
  'aws-nlb-instance': {
    id: 'aws-nlb-instance',
    description: 'AWS NLB (AWS Load Balancer Controller), instance targets',
    serviceAnnotations: { [AWS_TYPE]: 'external', [AWS_TARGET_TYPE]: 'instance', [AWS_SCHEME]: 'internet-facing' },
    recognisedBy: { [AWS_TYPE]: 'external', [AWS_TARGET_TYPE]: 'instance' },
    // Instance targets with externalTrafficPolicy Local are health-checked on kube-proxy's healthCheckNodePort,
    // which does not speak PROXY: always use a TCP check of the traffic port.
    proxyProtocol: Object.assign({}, AWS_LB_CONTROLLER_NLB, { healthCheckFix: HealthCheckFix.TCP_CHECK }),
  },
  'aws-nlb-ip': {
    id: 'aws-nlb-ip',
    description: 'AWS NLB (AWS Load Balancer Controller), ip targets',
    requiresLocalTrafficPolicy: false,
    serviceAnnotations: {
      [AWS_TYPE]: 'external',
      [AWS_TARGET_TYPE]: 'ip',
      [AWS_SCHEME]: 'internet-facing',
      [AWS_TARGET_GROUP_ATTRIBUTES]: 'preserve_client_ip.enabled=true',
    },
    recognisedBy: { [AWS_TARGET_TYPE]: 'ip', [AWS_TARGET_GROUP_ATTRIBUTES]: 'preserve_client_ip.enabled=true' },
    proxyProtocol: Object.assign({}, AWS_LB_CONTROLLER_NLB, { healthCheckFix: HealthCheckFix.STATUS_PORT_OR_TCP_CHECK }),
  },
  'aws-nlb-in-tree': {
    id: 'aws-nlb-in-tree',
    description: 'AWS NLB (in-tree cloud provider)',
    serviceAnnotations: { [AWS_TYPE]: 'nlb' },
    proxyProtocol: {
      versions: [],
      unsupportedReason: 'the in-tree AWS cloud provider silently ignores service.beta.kubernetes.io/aws-load-balancer-proxy-protocol on NLBs (kubernetes/cloud-provider-aws#234); '
        + 'use LoadBalancerProfile.AWS_NLB_IP or LoadBalancerProfile.AWS_NLB_INSTANCE (AWS Load Balancer Controller)',
    },
  },
  'aws-clb': {
    id: 'aws-clb',
    description: 'AWS Classic Load Balancer (in-tree default)',
    requiresLocalTrafficPolicy: false,
    keepsClientAddress: false,
    proxyProtocol: {
      versions: [ProxyProtocolVersion.V1],
      serviceAnnotations: { [AWS_PROXY_PROTOCOL]: '*' },
      // The CLB's own TCP/HTTP health checks carry no PROXY header; they reach the node port, not the listener filter.
      healthCheckFix: HealthCheckFix.NONE_NEEDED,
    },
  },
  'gke': {
    id: 'gke',
    description: 'Google Cloud passthrough Network Load Balancer (GKE)',
    proxyProtocol: {
      versions: [],
      unsupportedReason: 'Google Cloud passthrough Network Load Balancers do not send PROXY protocol (kubernetes/ingress-gce#699); '
        + 'keep the client address with externalTrafficPolicy Local on a PreservedIngressGateway instead',
    },
  },
  'aks': {
    id: 'aks',
    description: 'Azure Standard Load Balancer (AKS)',
    proxyProtocol: {
      versions: [],
      unsupportedReason: 'the Azure Standard Load Balancer does not send PROXY protocol (only Private Link Service does, and then its health probes fail with externalTrafficPolicy Local); '
        + 'keep the client address with externalTrafficPolicy Local on a PreservedIngressGateway instead',
    },
  },
  'alibaba-clb': { id: 'alibaba-clb', description: 'Alibaba Cloud CLB (ACK default)', proxyProtocol: ALIBABA_PROXY_PROTOCOL_FACTS },
  'alibaba-nlb': {
    id: 'alibaba-nlb',
    description: 'Alibaba Cloud NLB (ACK)',
    loadBalancerClass: 'alibabacloud.com/nlb',
    proxyProtocol: ALIBABA_PROXY_PROTOCOL_FACTS,
  },
  'tencent-clb': { id: 'tencent-clb', description: 'Tencent Cloud CLB (TKE)', proxyProtocol: TENCENT_PROXY_PROTOCOL },
  'tencent-clb-direct-access': {
    id: 'tencent-clb-direct-access',
    description: 'Tencent Cloud CLB, direct access to pods (TKE VPC-CNI)',
    requiresLocalTrafficPolicy: false,
    serviceAnnotations: { [TENCENT_DIRECT_ACCESS]: 'true' },
    proxyProtocol: TENCENT_PROXY_PROTOCOL,
  },
  'huawei-elb': {
    id: 'huawei-elb',
    description: 'Huawei Cloud ELB (CCE)',
    serviceAnnotations: { 'kubernetes.io/elb.enable-transparent-client-ip': 'true' },
    proxyProtocol: Object.assign({}, UNKNOWN_PROXY_PROTOCOL, {
      manualStep: 'switch PROXY protocol on for the ELB listener in Huawei Cloud and check which version it sends; this library knows no CCE Service annotation for it',
    }),
  },
};

/** What one Service annotation says about PROXY protocol, as the provider's controller reads its value. */
type ProxyProtocolReading =
  /** PROXY is on, with this version when the value says, on these Service ports (undefined: every port). */
  | { readonly on: true; readonly version?: ProxyProtocolVersion; readonly ports?: number[] }
  /** The value switches PROXY off. */
  | { readonly on: false }
  /** The controller does not read this value (it refuses the Service or ignores the annotation). */
  | undefined;

/** A Service annotation that switches PROXY on at some provider's load balancer. */
interface ProxyProtocolAnnotationRule {
  /** The annotation key, or a pattern for keys that carry a port (Linode's `port-<n>`). */
  readonly key: string | RegExp;
  /** What a value means. */
  readonly read: (value: string, key: string) => ProxyProtocolReading;
}

/** Facts of one provider's Service load balancer, each from the documentation or controller source cited on its row. */
interface ProviderRow {
  readonly provider: string;
  /** The annotations that switch PROXY protocol on; none where the provider has no such annotation. */
  readonly proxyProtocol: readonly ProxyProtocolAnnotationRule[];
  /**
   * False where the load balancer ends the TCP connection and opens its own to the node (a proxy): without PROXY
   * protocol the gateway sees the load balancer's address, whatever the traffic policy. True where it forwards the
   * client's packets (the client is the source, and `externalTrafficPolicy: Local` keeps it past kube-proxy).
   * @default - depends on the load balancer type (the profile rows tell)
   */
  readonly keepsClientAddress?: boolean;
  /** Annotation key prefixes of the provider's controller, to tell its Services apart. */
  readonly keyPrefixes: readonly string[];
}

const ON_EVERY_PORT = (version?: ProxyProtocolVersion): ProxyProtocolReading => ({ on: true, ...(version ? { version } : {}) });
const OFF: ProxyProtocolReading = { on: false };
/** Go's strconv.ParseBool, which the Hetzner and Linode controllers use. */
const GO_TRUE = ['1', 't', 'T', 'true', 'True', 'TRUE'];
const GO_FALSE = ['0', 'f', 'F', 'false', 'False', 'FALSE'];

function goBool(value: string, version?: ProxyProtocolVersion): ProxyProtocolReading {
  return GO_TRUE.includes(value) ? ON_EVERY_PORT(version) : GO_FALSE.includes(value) ? OFF : undefined;
}

/** Scaleway: "false", "true" or "*" for every port, or a comma-separated list of Service ports. */
function scalewayPorts(version: ProxyProtocolVersion): (value: string) => ProxyProtocolReading {
  return value => {
    if (value === 'false') return OFF;
    if (value === 'true' || value === '*') return ON_EVERY_PORT(version);
    return /^\d{1,5}(,\d{1,5})*$/.test(value) ? { on: true, version, ports: value.split(',').map(Number) } : undefined;
  };
}

/** Linode: "none", "v1" or "v2". */
function linodeVersion(value: string): ProxyProtocolReading {
  return value === 'none' ? OFF : value === 'v1' ? ON_EVERY_PORT(ProxyProtocolVersion.V1) : value === 'v2' ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : undefined;
}

/** Linode's per-port JSON (`{"proxy-protocol": "v2", ...}`) on the key `...-port-<n>`. */
function linodePort(value: string, key: string): ProxyProtocolReading {
  let config: unknown;
  try {
    config = JSON.parse(value);
  } catch {
    return undefined;
  }
  const setting = config !== null && typeof config === 'object' ? (config as { [k: string]: unknown })['proxy-protocol'] : undefined;
  if (setting === undefined) return OFF;
  const reading = typeof setting === 'string' ? linodeVersion(setting) : undefined;
  const port = Number(/(\d+)$/.exec(key)?.[1]);
  return reading?.on ? Object.assign({}, reading, { ports: [port] }) : reading;
}

/**
 * Every provider the table knows, with the annotation that switches PROXY protocol on and whether the load balancer
 * keeps the client as the packet source. AWS, Alibaba, Tencent and Huawei are also profile rows (`LOAD_BALANCERS`),
 * which render their annotations; the rows here recognise the others in YAML and in `serviceAnnotations`.
 */
const PROVIDERS: readonly ProviderRow[] = [
  // AWS Load Balancer Controller, "Service annotations" (kubernetes-sigs.github.io/aws-load-balancer-controller,
  // guide/service/annotations): proxy-protocol "*" (the profile rows) or target group attribute proxy_protocol_v2.enabled=true.
  {
    provider: 'AWS',
    proxyProtocol: [{ key: AWS_TARGET_GROUP_ATTRIBUTES, read: v => (/(^|,)\s*proxy_protocol_v2\.enabled=true\s*(,|$)/.test(v) ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : OFF) }],
    // A Classic Load Balancer is a proxy, an NLB is not: the profile rows tell them apart.
    keyPrefixes: ['service.beta.kubernetes.io/aws-load-balancer-'],
  },
  // GKE passthrough Network Load Balancer: no PROXY protocol (kubernetes/ingress-gce#699); the client is the packet source.
  { provider: 'Google Cloud', proxyProtocol: [], keepsClientAddress: true, keyPrefixes: ['cloud.google.com/', 'networking.gke.io/'] },
  // Azure: only Private Link Service sends PROXY v2 (cloud-provider-azure docs, "Azure Private Link Service
  // Integration": service.beta.kubernetes.io/azure-pls-proxy-protocol "true"); the Standard Load Balancer forwards packets.
  {
    provider: 'Azure',
    proxyProtocol: [{ key: 'service.beta.kubernetes.io/azure-pls-proxy-protocol', read: v => (v === 'true' ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : v === 'false' ? OFF : undefined) }],
    keepsClientAddress: true,
    keyPrefixes: ['service.beta.kubernetes.io/azure-'],
  },
  // Alibaba Cloud CCM "Configure a CLB instance by annotations": alibaba-cloud-loadbalancer-proxy-protocol "on" (the profile rows).
  { provider: 'Alibaba Cloud', proxyProtocol: [], keepsClientAddress: true, keyPrefixes: ['service.beta.kubernetes.io/alibaba-cloud-loadbalancer-'] },
  // Tencent TKE: PROXY only through a TkeServiceConfig or the console, no Service annotation (the profile rows).
  { provider: 'Tencent Cloud', proxyProtocol: [], keepsClientAddress: true, keyPrefixes: ['service.kubernetes.io/qcloud-', 'service.kubernetes.io/tke-', 'service.cloud.tencent.com/'] },
  // Huawei CCE, "Configuring Client IP Pass-through" (support.huaweicloud.com usermanual-cce cce_10_0916) and
  // cloud-provider-huaweicloud: kubernetes.io/elb.transparent-client-ip / elb.enable-transparent-client-ip (shared
  // ELB, with externalTrafficPolicy Local); no PROXY annotation documented.
  { provider: 'Huawei Cloud', proxyProtocol: [], keepsClientAddress: true, keyPrefixes: ['kubernetes.io/elb.'] },
  // Oracle OKE, "Summary of Annotations for Load Balancers and Network Load Balancers" and oci-cloud-controller-manager
  // (ServiceAnnotationLoadBalancerConnectionProxyProtocolVersion): "1" or "2" on every listener of the OCI load
  // balancer, which is a proxy; the network load balancer keeps the source (is-preserve-source, with Local).
  {
    provider: 'Oracle Cloud',
    proxyProtocol: [{
      key: 'service.beta.kubernetes.io/oci-load-balancer-connection-proxy-protocol-version',
      read: v => (v === '1' ? ON_EVERY_PORT(ProxyProtocolVersion.V1) : v === '2' ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : undefined),
    }],
    keepsClientAddress: false,
    keyPrefixes: ['service.beta.kubernetes.io/oci-', 'oci.oraclecloud.com/', 'oci-network-load-balancer.oraclecloud.com/'],
  },
  // IBM Cloud, "Exposing apps with load balancers for VPC" (cloud.ibm.com/docs/containers?topic=containers-vpc-lbaas):
  // the Application Load Balancer for VPC keeps the source only with enable-features "proxy-protocol"; the Network
  // Load Balancer ("nlb") preserves it.
  {
    provider: 'IBM Cloud',
    proxyProtocol: [{
      key: 'service.kubernetes.io/ibm-load-balancer-cloud-provider-enable-features',
      read: v => (v.split(',').map(f => f.trim()).includes('proxy-protocol') ? ON_EVERY_PORT() : OFF),
    }],
    keepsClientAddress: false,
    keyPrefixes: ['service.kubernetes.io/ibm-load-balancer-cloud-provider-'],
  },
  // DigitalOcean, "Configure Load Balancers" (docs.digitalocean.com/products/kubernetes): do-loadbalancer-enable-proxy-protocol
  // "true"; the load balancer does not retain the client source address otherwise.
  {
    provider: 'DigitalOcean',
    proxyProtocol: [{ key: 'service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol', read: v => (v === 'true' ? ON_EVERY_PORT() : v === 'false' ? OFF : undefined) }],
    keepsClientAddress: false,
    keyPrefixes: ['service.beta.kubernetes.io/do-loadbalancer-'],
  },
  // Linode/Akamai, linode-cloud-controller-manager docs/configuration/annotations.md: default-proxy-protocol (and the
  // deprecated proxy-protocol) "none", "v1" or "v2", and "proxy-protocol" in a port-<n> JSON; NodeBalancers are proxies.
  {
    provider: 'Linode/Akamai',
    proxyProtocol: [
      { key: 'service.beta.kubernetes.io/linode-loadbalancer-default-proxy-protocol', read: linodeVersion },
      { key: 'service.beta.kubernetes.io/linode-loadbalancer-proxy-protocol', read: linodeVersion },
      { key: /^service\.beta\.kubernetes\.io\/linode-loadbalancer-port-\d{1,5}$/, read: linodePort },
    ],
    keepsClientAddress: false,
    keyPrefixes: ['service.beta.kubernetes.io/linode-loadbalancer-'],
  },
  // Hetzner, hcloud-cloud-controller-manager docs/reference/load_balancer_annotations.md: uses-proxyprotocol (a Go
  // bool); the load balancer is a proxy (Hetzner's load balancer FAQ: PROXY protocol passes the client address).
  {
    provider: 'Hetzner',
    proxyProtocol: [{ key: 'load-balancer.hetzner.cloud/uses-proxyprotocol', read: v => goBool(v) }],
    keepsClientAddress: false,
    keyPrefixes: ['load-balancer.hetzner.cloud/'],
  },
  // OVHcloud, "Expose your applications using OVHcloud Public Cloud Load Balancer" (help.ovhcloud.com, supported
  // annotations): loadbalancer.openstack.org/proxy-protocol "v1"/"true" or "v2" (Octavia, MKS >= 1.31), and the older
  // ovh-loadbalancer-proxy-protocol "v1", "v2", "v2-ssl", "v2-ssl-cn".
  {
    provider: 'OVHcloud',
    proxyProtocol: [
      {
        key: 'loadbalancer.openstack.org/proxy-protocol',
        read: v => (v === 'v1' || v === 'true' ? ON_EVERY_PORT(ProxyProtocolVersion.V1) : v === 'v2' ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : v === 'false' ? OFF : undefined),
      },
      {
        key: 'service.beta.kubernetes.io/ovh-loadbalancer-proxy-protocol',
        read: v => (v === 'v1' ? ON_EVERY_PORT(ProxyProtocolVersion.V1) : ['v2', 'v2-ssl', 'v2-ssl-cn'].includes(v) ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : undefined),
      },
    ],
    keepsClientAddress: false,
    keyPrefixes: ['loadbalancer.openstack.org/', 'loadbalancer.ovhcloud.com/', 'service.beta.kubernetes.io/ovh-loadbalancer-'],
  },
  // Scaleway, scaleway-cloud-controller-manager docs/loadbalancer-annotations.md: scw-loadbalancer-proxy-protocol-v1 and
  // -v2, "true" or "*" for every port or a list of Service ports; the load balancer is a proxy ("Using Proxy Protocol
  // v2 with a Scaleway Load Balancer": without it the backend sees the load balancer's address).
  {
    provider: 'Scaleway',
    proxyProtocol: [
      { key: 'service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v1', read: scalewayPorts(ProxyProtocolVersion.V1) },
      { key: 'service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v2', read: scalewayPorts(ProxyProtocolVersion.V2) },
    ],
    keepsClientAddress: false,
    keyPrefixes: ['service.beta.kubernetes.io/scw-loadbalancer-'],
  },
  // Exoscale, exoscale-cloud-controller-manager docs/service-loadbalancer.md: no PROXY annotation; the Network Load
  // Balancer forwards packets to the instance pool's NodePorts.
  { provider: 'Exoscale', proxyProtocol: [], keepsClientAddress: true, keyPrefixes: ['service.beta.kubernetes.io/exoscale-loadbalancer-'] },
  // Civo, civo-cloud-controller-manager README ("Load Balancer Customisation"): loadbalancer-enable-proxy-protocol
  // "send-proxy" or "send-proxy-v2".
  {
    provider: 'Civo',
    proxyProtocol: [{
      key: 'kubernetes.civo.com/loadbalancer-enable-proxy-protocol',
      read: v => (v === 'send-proxy' ? ON_EVERY_PORT(ProxyProtocolVersion.V1) : v === 'send-proxy-v2' ? ON_EVERY_PORT(ProxyProtocolVersion.V2) : undefined),
    }],
    keepsClientAddress: false,
    keyPrefixes: ['kubernetes.civo.com/'],
  },
  // MetalLB (metallb.universe.tf/usage): it announces the address (ARP/NDP or BGP) and the client's packets reach a
  // node; no PROXY protocol; externalTrafficPolicy Local keeps the source.
  { provider: 'MetalLB', proxyProtocol: [], keepsClientAddress: true, keyPrefixes: ['metallb.universe.tf/', 'metallb.io/'] },
];

/** A key that mentions PROXY protocol (`proxy-protocol`, `proxy_protocol`, `proxyprotocol`, any case). */
const MENTIONS_PROXY_PROTOCOL = /proxy[-_.]?protocol/i;

function ruleMatches(rule: ProxyProtocolAnnotationRule, key: string): boolean {
  return typeof rule.key === 'string' ? rule.key === key : rule.key.test(key);
}

/** One provider annotation on a Service and what its value means. */
interface ProviderReading {
  readonly provider: string;
  readonly key: string;
  readonly reading: ProxyProtocolReading;
}

/** The PROXY readings of the provider rows' annotations on a Service. */
function providerReadings(annotations: { [key: string]: string }): ProviderReading[] {
  const readings: ProviderReading[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    for (const row of PROVIDERS) {
      const rule = row.proxyProtocol.find(r => ruleMatches(r, key));
      if (rule) readings.push({ provider: row.provider, key, reading: typeof value === 'string' ? rule.read(value, key) : undefined });
    }
  }
  return readings;
}

/** The provider whose controller's annotations the Service carries, when one is. */
function providerOf(annotations: { [key: string]: string }): ProviderRow | undefined {
  const keys = Object.keys(annotations);
  return PROVIDERS.find(row => keys.some(k => row.keyPrefixes.some(prefix => k.startsWith(prefix))));
}

/** True for a key a row of the table reads (a profile's or a provider's PROXY switch, or the library's own). */
function isKnownProxyProtocolKey(key: string): boolean {
  if (key === LB_PROXY_PROTOCOL_ANNOTATION) return true;
  if (Object.values(LOAD_BALANCERS).some(f => Object.keys(f.proxyProtocol.serviceAnnotations ?? {}).includes(key))) return true;
  return PROVIDERS.some(row => row.proxyProtocol.some(r => ruleMatches(r, key)));
}

/** An annotation that looks like a PROXY protocol switch, but that the table cannot read. */
export interface UnreadProxyProtocolAnnotation {
  readonly key: string;
  readonly value: string;
  /** Why: a key no row knows, or a value its controller does not read. */
  readonly why: 'unknown key' | 'unread value';
  /** The provider whose annotation it is, for an unread value. @default - none */
  readonly provider?: string;
}

/**
 * The Service annotations that mention PROXY protocol but that the table cannot read: a key of no provider row, or a
 * value the provider's controller does not read. The load balancer may then send PROXY while nothing here says so.
 */
export function unreadProxyProtocolAnnotations(annotations: { [key: string]: string }): UnreadProxyProtocolAnnotation[] {
  const out: UnreadProxyProtocolAnnotation[] = [];
  for (const [key, value] of Object.entries(annotations)) {
    if (!isKnownProxyProtocolKey(key)) {
      if (MENTIONS_PROXY_PROTOCOL.test(key)) out.push({ key, value: String(value), why: 'unknown key' });
    }
  }
  for (const r of providerReadings(annotations)) {
    if (r.reading === undefined) out.push({ key: r.key, value: String(annotations[r.key]), why: 'unread value', provider: r.provider });
  }
  return out;
}

/** The facts of a profile id, own properties only (a custom id such as "constructor" finds nothing). */
export function loadBalancerFacts(id: string): LoadBalancerFacts | undefined {
  return Object.prototype.hasOwnProperty.call(LOAD_BALANCERS, id) ? LOAD_BALANCERS[id] : undefined;
}

/** True when `actual` (a Service annotation value) has `expected`: equal, or every item of a list annotation. */
function annotationHas(key: string, actual: string | undefined, expected: string): boolean {
  if (actual === undefined) return false;
  if (!LIST_ANNOTATIONS.includes(key)) return actual === expected;
  const items = actual.split(',').map(v => v.trim());
  return expected.split(',').map(v => v.trim()).every(v => items.includes(v));
}

function hasAll(annotations: { [key: string]: string }, expected: { [key: string]: string }): boolean {
  const entries = Object.entries(expected);
  return entries.length > 0 && entries.every(([k, v]) => annotationHas(k, annotations[k], v));
}

/** What a gateway Service says about its load balancer, read from its annotations and class. */
export interface RecognisedLoadBalancer {
  /** The profile whose identifying annotations (or class) the Service carries. @default - none recognised */
  readonly id?: string;
  /** The provider whose controller's annotations the Service carries (a row of the provider table). @default - none */
  readonly provider?: string;
  /** The load balancer delivers the client as the packet source whatever the traffic policy. */
  readonly preservesSourceWithoutLocal: boolean;
  /**
   * False when the provider's load balancer is a proxy, so the gateway sees its address unless PROXY protocol carries
   * the client. @default - not known from the annotations
   */
  readonly keepsClientAddress?: boolean;
  /** The load balancer sends PROXY protocol. */
  readonly sendsProxyProtocol: boolean;
  /** The PROXY version, when known. @default - unknown */
  readonly proxyProtocolVersion?: ProxyProtocolVersion;
  /** The Service ports PROXY is sent to, when the annotations list some. @default - every port */
  readonly proxyProtocolPorts?: number[];
}

/** Recent readings by the Service's annotations (in their order) and class: an app's gateways mostly share them. */
const RECOGNISED = new Map<string, RecognisedLoadBalancer>();
const RECOGNISED_MAX = 1024;

/** Recognises the load balancer and its PROXY setting from a Service's annotations and `loadBalancerClass`. */
export function recogniseLoadBalancer(annotations: { [key: string]: string }, loadBalancerClass?: string): RecognisedLoadBalancer {
  const key = JSON.stringify([loadBalancerClass ?? null, Object.entries(annotations)]);
  const known = RECOGNISED.get(key);
  if (known) return known;
  const read = recognise(annotations, loadBalancerClass);
  if (RECOGNISED.size >= RECOGNISED_MAX) RECOGNISED.clear();
  if (read.proxyProtocolPorts) Object.freeze(read.proxyProtocolPorts);
  RECOGNISED.set(key, Object.freeze(read));
  return read;
}

function recognise(annotations: { [key: string]: string }, loadBalancerClass?: string): RecognisedLoadBalancer {
  const facts = Object.values(LOAD_BALANCERS).find(f => (f.loadBalancerClass !== undefined && f.loadBalancerClass === loadBalancerClass)
    || hasAll(annotations, f.recognisedBy ?? f.serviceAnnotations ?? {}));
  const preserves = facts !== undefined && (facts.keepsClientAddress ?? true) && !(facts.requiresLocalTrafficPolicy ?? true);
  const own = annotations[LB_PROXY_PROTOCOL_ANNOTATION];
  const byProfile = facts && hasAll(annotations, facts.proxyProtocol.serviceAnnotations ?? {}) ? facts
    : Object.values(LOAD_BALANCERS).find(f => hasAll(annotations, f.proxyProtocol.serviceAnnotations ?? {}));
  const on = providerReadings(annotations).flatMap(r => (r.reading?.on ? [r.reading] : []));
  const ownVersion = Object.values(ProxyProtocolVersion).find(v => v === own);
  const sends = (own !== undefined && own !== 'false') || byProfile !== undefined || on.length > 0;
  // The version of the recognised row, else the one every row with these PROXY annotations agrees on (Alibaba's CLB
  // and NLB both send v2; AWS's "*" is v1 on a Classic Load Balancer and v2 on an NLB: unknown).
  const matching = byProfile === facts && facts ? [facts]
    : Object.values(LOAD_BALANCERS).filter(f => hasAll(annotations, f.proxyProtocol.serviceAnnotations ?? {}));
  const versions = [...new Set(matching.flatMap(f => f.proxyProtocol.versions))];
  const profileVersion = matching.length > 0 && versions.length === 1 ? versions[0] : undefined;
  const version = ownVersion ?? profileVersion ?? on.find(r => r.version !== undefined)?.version;
  // Ports only when every switch that is on lists ports (one on every port wins).
  const ports = byProfile === undefined && own === undefined && on.length > 0 && on.every(r => r.ports !== undefined)
    ? [...new Set(on.flatMap(r => r.ports!))].sort((a, b) => a - b) : undefined;
  const provider = providerOf(annotations);
  const keeps = facts?.keepsClientAddress ?? provider?.keepsClientAddress;
  return Object.assign({},
    facts ? { id: facts.id } : {},
    provider ? { provider: provider.provider } : {},
    keeps !== undefined ? { keepsClientAddress: keeps } : {},
    { preservesSourceWithoutLocal: preserves, sendsProxyProtocol: sends },
    sends && version ? { proxyProtocolVersion: version } : {},
    ports ? { proxyProtocolPorts: ports } : {});
}

/** The providers of the table, for documentation and tests. */
export function loadBalancerProviders(): string[] {
  return PROVIDERS.map(p => p.provider);
}
