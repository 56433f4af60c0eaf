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
    proxyProtocol: { ...AWS_LB_CONTROLLER_NLB, healthCheckFix: HealthCheckFix.TCP_CHECK },
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
    proxyProtocol: { ...AWS_LB_CONTROLLER_NLB, healthCheckFix: HealthCheckFix.STATUS_PORT_OR_TCP_CHECK },
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
    proxyProtocol: {
      ...UNKNOWN_PROXY_PROTOCOL,
      manualStep: 'switch PROXY protocol on for the ELB listener in Huawei Cloud and check which version it sends; this library knows no CCE Service annotation for it',
    },
  },
};

/**
 * Annotations that switch PROXY on at load balancers no profile renders, recognised in hand-written YAML only.
 * The value is a regular expression the annotation value must match.
 */
interface RecognisedAnnotation {
  readonly key: string;
  readonly value: RegExp;
  readonly version?: ProxyProtocolVersion;
}

const RECOGNISED_PROXY_PROTOCOL_ANNOTATIONS: readonly RecognisedAnnotation[] = [
  { key: AWS_TARGET_GROUP_ATTRIBUTES, value: /(^|,)\s*proxy_protocol_v2\.enabled=true\s*(,|$)/, version: ProxyProtocolVersion.V2 },
  { key: 'service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol', value: /^true$/ },
  { key: 'service.beta.kubernetes.io/azure-pls-proxy-protocol', value: /^true$/, version: ProxyProtocolVersion.V2 },
];

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
  /** The load balancer delivers the client as the packet source whatever the traffic policy. */
  readonly preservesSourceWithoutLocal: boolean;
  /** The load balancer sends PROXY protocol. */
  readonly sendsProxyProtocol: boolean;
  /** The PROXY version, when known. @default - unknown */
  readonly proxyProtocolVersion?: ProxyProtocolVersion;
}

/** Recognises the load balancer and its PROXY setting from a Service's annotations and `loadBalancerClass`. */
export function recogniseLoadBalancer(annotations: { [key: string]: string }, loadBalancerClass?: string): RecognisedLoadBalancer {
  const facts = Object.values(LOAD_BALANCERS).find(f => (f.loadBalancerClass !== undefined && f.loadBalancerClass === loadBalancerClass)
    || hasAll(annotations, f.recognisedBy ?? f.serviceAnnotations ?? {}));
  const preserves = facts !== undefined && (facts.keepsClientAddress ?? true) && !(facts.requiresLocalTrafficPolicy ?? true);
  const own = annotations[LB_PROXY_PROTOCOL_ANNOTATION];
  const byProfile = facts && hasAll(annotations, facts.proxyProtocol.serviceAnnotations ?? {}) ? facts
    : Object.values(LOAD_BALANCERS).find(f => hasAll(annotations, f.proxyProtocol.serviceAnnotations ?? {}));
  const byOther = RECOGNISED_PROXY_PROTOCOL_ANNOTATIONS.find(r => annotations[r.key] !== undefined && r.value.test(annotations[r.key]));
  const ownVersion = Object.values(ProxyProtocolVersion).find(v => v === own);
  const sends = (own !== undefined && own !== 'false') || byProfile !== undefined || byOther !== undefined;
  const profileVersion = byProfile === facts && facts?.proxyProtocol.versions.length === 1 ? facts.proxyProtocol.versions[0] : undefined;
  const version = ownVersion ?? profileVersion ?? byOther?.version;
  return {
    ...(facts ? { id: facts.id } : {}),
    preservesSourceWithoutLocal: preserves,
    sendsProxyProtocol: sends,
    ...(sends && version ? { proxyProtocolVersion: version } : {}),
  };
}
