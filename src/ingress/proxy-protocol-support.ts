import { LoadBalancerProfile } from './load-balancer-profile';
import { ProxyProtocolVersion } from '../model/model';
import { checkAnnotations } from '../util/validate';

/*
 * What PROXY protocol each cloud load balancer can send, and how to switch it on from the Service. Facts:
 * shared reference peers.md §3 (#14, #21) and §4, istio-source-ip.md §5 and §9 (pitfalls 18, 30).
 */

const AWS_PROXY_PROTOCOL = 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol';
const AWS_HEALTHCHECK_PROTOCOL = 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol';
const AWS_HEALTHCHECK_PORT = 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port';
const ALIBABA_PROXY_PROTOCOL = 'service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol';

/** How the load balancer's health checks get past a gateway that requires PROXY protocol. */
export enum HealthCheckFix {
  /** The load balancer's health checks never carry a PROXY header (and do not need one): nothing to do. */
  NONE_NEEDED = 'none-needed',
  /**
   * On Istio 1.27+ the status port 15021 accepts PROXY when present (`ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL`);
   * on older releases the profile's `healthCheckAnnotations` switch to a plain TCP check of the traffic port.
   */
  STATUS_PORT_OR_TCP_CHECK = 'status-port-or-tcp-check',
  /**
   * The health check goes to kube-proxy's `healthCheckNodePort` or another target that never speaks PROXY,
   * so it must always be a plain TCP check of the traffic port (`healthCheckAnnotations`).
   */
  TCP_CHECK = 'tcp-check',
  /** Unknown for this load balancer: verify the health checks yourself (a warning says so). */
  UNKNOWN = 'unknown',
}

/** Options of `ProxyProtocolSupport.custom()`. */
export interface ProxyProtocolSupportOptions {
  /** The PROXY protocol versions the load balancer can send; empty when it cannot send PROXY at all. */
  readonly versions: ProxyProtocolVersion[];
  /**
   * Service annotations that make the load balancer send PROXY on every port.
   * @default - none: PROXY is switched on outside Kubernetes (see `manualStep`)
   */
  readonly serviceAnnotations?: { [key: string]: string };
  /**
   * What the user must do by hand to switch PROXY on (console, cloud CRD), when annotations cannot.
   * @default - nothing
   */
  readonly manualStep?: string;
  /**
   * Why the load balancer cannot send PROXY, for the error message, when `versions` is empty.
   * @default - no reason given
   */
  readonly unsupportedReason?: string;
  /**
   * How the health checks survive PROXY.
   * @default HealthCheckFix.UNKNOWN
   */
  readonly healthCheckFix?: HealthCheckFix;
  /**
   * Annotations for a health check that needs no PROXY header (a TCP check of the traffic port).
   * @default - none
   */
  readonly healthCheckAnnotations?: { [key: string]: string };
  /**
   * Something to know before switching PROXY on (a warning).
   * @default - nothing
   */
  readonly caveat?: string;
}

/**
 * What PROXY protocol a load balancer profile can send and how to switch it on, keyed by `LoadBalancerProfile.id`.
 */
export class ProxyProtocolSupport {
  /**
   * The PROXY capabilities of a load balancer profile. Custom profiles get the capabilities of an unknown
   * load balancer: both versions, no annotations, a manual step.
   */
  public static forProfile(profile: LoadBalancerProfile): ProxyProtocolSupport {
    // Own properties only: a custom id such as "constructor" must not find Object.prototype members.
    const known = Object.prototype.hasOwnProperty.call(KNOWN, profile.id) ? KNOWN[profile.id] : undefined;
    return new ProxyProtocolSupport(profile.id, known ?? UNKNOWN_LOAD_BALANCER);
  }

  /** Capabilities of a load balancer this library has no facts for. */
  public static custom(profileId: string, options: ProxyProtocolSupportOptions): ProxyProtocolSupport {
    if (!Array.isArray(options.versions) || options.versions.some(v => !Object.values(ProxyProtocolVersion).includes(v))) {
      throw new Error(`proxyProtocolSupport versions ${JSON.stringify(options.versions)} is not allowed: list ProxyProtocolVersion.V1 and/or ProxyProtocolVersion.V2, or [] when the load balancer cannot send PROXY`);
    }
    checkAnnotations('proxyProtocolSupport serviceAnnotations', options.serviceAnnotations);
    checkAnnotations('proxyProtocolSupport healthCheckAnnotations', options.healthCheckAnnotations);
    return new ProxyProtocolSupport(profileId, options);
  }

  /** The `LoadBalancerProfile.id` these facts are about. */
  public readonly profileId: string;
  /** The versions the load balancer can send (empty: none). */
  public readonly versions: ProxyProtocolVersion[];
  /** What the user must do by hand to switch PROXY on. @default - nothing */
  public readonly manualStep?: string;
  /** Something to know before switching PROXY on. @default - nothing */
  public readonly caveat?: string;
  /** How the health checks survive PROXY. */
  public readonly healthCheckFix: HealthCheckFix;
  private readonly annotations: { [key: string]: string };
  private readonly healthAnnotations: { [key: string]: string };
  private readonly unsupportedReason?: string;

  private constructor(profileId: string, options: ProxyProtocolSupportOptions) {
    this.profileId = profileId;
    this.versions = [...options.versions];
    this.annotations = { ...(options.serviceAnnotations ?? {}) };
    this.healthAnnotations = { ...(options.healthCheckAnnotations ?? {}) };
    this.manualStep = options.manualStep;
    this.caveat = options.caveat;
    this.healthCheckFix = options.healthCheckFix ?? HealthCheckFix.UNKNOWN;
    this.unsupportedReason = options.unsupportedReason;
  }

  /** True when the load balancer can send PROXY protocol at all. */
  public get canSend(): boolean {
    return this.versions.length > 0;
  }

  /** Service annotations that switch PROXY on for every port (a copy; empty when it is a manual step). */
  public get serviceAnnotations(): { [key: string]: string } {
    return { ...this.annotations };
  }

  /** Service annotations for a health check that needs no PROXY header (a copy; may be empty). */
  public get healthCheckAnnotations(): { [key: string]: string } {
    return { ...this.healthAnnotations };
  }

  /**
   * Throws unless the load balancer can send PROXY protocol, and `version` (when given) is one it sends.
   *
   * @param property the property named in the error, e.g. "loadBalancerProfile"
   * @param version the version the user asked for
   */
  public check(property: string, version?: ProxyProtocolVersion): void {
    if (!this.canSend) {
      throw new Error(`${property} "${this.profileId}" cannot send PROXY protocol: ${this.unsupportedReason ?? 'the load balancer has no PROXY support'}`);
    }
    if (version !== undefined && !this.versions.includes(version)) {
      throw new Error(`proxyProtocolVersion ${version} is not sent by ${property} "${this.profileId}": it sends only ${this.versions.join(' and ')}; `
        + `set proxyProtocolVersion to ${this.versions[0]} or leave it unset (Envoy accepts both versions)`);
    }
  }
}

const AWS_TCP_HEALTH_CHECK = { [AWS_HEALTHCHECK_PROTOCOL]: 'tcp', [AWS_HEALTHCHECK_PORT]: 'traffic-port' };

const AWS_LB_CONTROLLER_NLB: ProxyProtocolSupportOptions = {
  versions: [ProxyProtocolVersion.V2],
  // `proxy-protocol: "*"` rather than `target-group-attributes: proxy_protocol_v2.enabled=true`: the profile may
  // already set target-group-attributes (preserve_client_ip), and a second value would replace the first.
  serviceAnnotations: { [AWS_PROXY_PROTOCOL]: '*' },
  healthCheckAnnotations: AWS_TCP_HEALTH_CHECK,
};

const UNKNOWN_LOAD_BALANCER: ProxyProtocolSupportOptions = {
  versions: [ProxyProtocolVersion.V1, ProxyProtocolVersion.V2],
  manualStep: 'switch PROXY protocol on in the load balancer itself; this library knows no Service annotation for it',
  healthCheckFix: HealthCheckFix.UNKNOWN,
};

const TENCENT_CLB: ProxyProtocolSupportOptions = {
  versions: [ProxyProtocolVersion.V2],
  manualStep: 'switch PROXY protocol (v2) on for the CLB layer-4 listeners in the Tencent Cloud console or a TkeServiceConfig; TKE has no Service annotation for it',
  healthCheckFix: HealthCheckFix.UNKNOWN,
};

const ALIBABA: ProxyProtocolSupportOptions = {
  versions: [ProxyProtocolVersion.V2],
  serviceAnnotations: { [ALIBABA_PROXY_PROTOCOL]: 'on' },
  healthCheckFix: HealthCheckFix.UNKNOWN,
  caveat: 'Alibaba Cloud cannot switch PROXY protocol on a live listener without interruption (no smooth migration): roll it out together with the gateway change in a maintenance window',
};

const KNOWN: { [profileId: string]: ProxyProtocolSupportOptions } = {
  'aws-nlb-ip': { ...AWS_LB_CONTROLLER_NLB, healthCheckFix: HealthCheckFix.STATUS_PORT_OR_TCP_CHECK },
  // Instance targets with externalTrafficPolicy Local are health-checked on kube-proxy's healthCheckNodePort,
  // which does not speak PROXY: always use a TCP check of the traffic port.
  'aws-nlb-instance': { ...AWS_LB_CONTROLLER_NLB, healthCheckFix: HealthCheckFix.TCP_CHECK },
  'aws-clb': {
    versions: [ProxyProtocolVersion.V1],
    serviceAnnotations: { [AWS_PROXY_PROTOCOL]: '*' },
    // The CLB's own TCP/HTTP health checks carry no PROXY header; they reach the node port, not the listener filter.
    healthCheckFix: HealthCheckFix.NONE_NEEDED,
  },
  'aws-nlb-in-tree': {
    versions: [],
    unsupportedReason: 'the in-tree AWS cloud provider silently ignores service.beta.kubernetes.io/aws-load-balancer-proxy-protocol on NLBs (kubernetes/cloud-provider-aws#234); '
      + 'use LoadBalancerProfile.AWS_NLB_IP or LoadBalancerProfile.AWS_NLB_INSTANCE (AWS Load Balancer Controller)',
  },
  'gke': {
    versions: [],
    unsupportedReason: 'Google Cloud passthrough Network Load Balancers do not send PROXY protocol (kubernetes/ingress-gce#699); '
      + 'keep the client address with externalTrafficPolicy Local on a PreservedIngressGateway instead',
  },
  'aks': {
    versions: [],
    unsupportedReason: 'the Azure Standard Load Balancer does not send PROXY protocol (only Private Link Service does, and then its health probes fail with externalTrafficPolicy Local); '
      + 'keep the client address with externalTrafficPolicy Local on a PreservedIngressGateway instead',
  },
  'alibaba-clb': ALIBABA,
  'alibaba-nlb': ALIBABA,
  'tencent-clb': TENCENT_CLB,
  'tencent-clb-direct-access': TENCENT_CLB,
  'huawei-elb': {
    ...UNKNOWN_LOAD_BALANCER,
    manualStep: 'switch PROXY protocol on for the ELB listener in Huawei Cloud and check which version it sends; this library knows no CCE Service annotation for it',
  },
  'generic': UNKNOWN_LOAD_BALANCER,
};
