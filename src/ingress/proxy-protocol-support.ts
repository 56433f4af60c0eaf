import { LoadBalancerProfile } from './load-balancer-profile';
import { HealthCheckFix } from '../model/health-check-fix';
import { loadBalancerFacts, UNKNOWN_PROXY_PROTOCOL } from '../model/load-balancers';
import { ProxyProtocolVersion } from '../model/model';
import { checkAnnotations } from '../util/validate';

/*
 * What PROXY protocol each cloud load balancer can send, and how to switch it on from the Service: the PROXY
 * columns of the load-balancer table (src/model/load-balancers.ts), which `explain` reads too.
 */

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
   * How the health checks survive PROXY. TCP_CHECK needs `healthCheckAnnotations`, and so does
   * STATUS_PORT_OR_TCP_CHECK before Istio 1.27. A gateway given this support writes the value on its Service
   * (`source-ip.cdk8s.io/health-check-fix`), and `explain` takes it instead of its own load-balancer facts.
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
    return new ProxyProtocolSupport(profile.id, loadBalancerFacts(profile.id)?.proxyProtocol ?? UNKNOWN_PROXY_PROTOCOL);
  }

  /** Capabilities of a load balancer this library has no facts for. */
  public static custom(profileId: string, options: ProxyProtocolSupportOptions): ProxyProtocolSupport {
    if (!Array.isArray(options.versions) || options.versions.some(v => !Object.values(ProxyProtocolVersion).includes(v))) {
      throw new Error(`proxyProtocolSupport versions ${JSON.stringify(options.versions)} is not allowed: list ProxyProtocolVersion.V1 and/or ProxyProtocolVersion.V2, or [] when the load balancer cannot send PROXY`);
    }
    checkAnnotations('proxyProtocolSupport serviceAnnotations', options.serviceAnnotations);
    checkAnnotations('proxyProtocolSupport healthCheckAnnotations', options.healthCheckAnnotations);
    const fix = options.healthCheckFix;
    if (fix !== undefined && !Object.values(HealthCheckFix).includes(fix)) {
      throw new Error(`proxyProtocolSupport healthCheckFix ${JSON.stringify(fix)} is not allowed: use HealthCheckFix.NONE_NEEDED, STATUS_PORT_OR_TCP_CHECK, TCP_CHECK or UNKNOWN`);
    }
    if (fix === HealthCheckFix.TCP_CHECK && Object.keys(options.healthCheckAnnotations ?? {}).length === 0) {
      throw new Error(`proxyProtocolSupport healthCheckFix ${fix} needs healthCheckAnnotations: give the Service annotations that make the load balancer's health check a plain TCP check of the traffic port`);
    }
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
