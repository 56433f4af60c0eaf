/*
 * The profiles are rows of the load-balancer table (src/model/load-balancers.ts), which `explain` also uses to
 * recognise them in YAML. PROXY protocol capabilities are in the same rows, read by ProxyProtocolSupport.
 */
import { loadBalancerFacts } from '../model/load-balancers';
import { checkAnnotations, checkLoadBalancerClass } from '../util/validate';

/** Options of `LoadBalancerProfile.custom()`. */
export interface CustomLoadBalancerProfileOptions {
  /**
   * Stable identifier of the profile, kebab-case (for example "metallb-l2").
   */
  readonly id: string;

  /**
   * Annotations the gateway Service needs for this load balancer.
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * `spec.loadBalancerClass` of the gateway Service.
   *
   * @default - none (the cluster's default load balancer implementation)
   */
  readonly loadBalancerClass?: string;

  /**
   * True when the client address survives only with `externalTrafficPolicy: Local` (kube-proxy SNATs
   * cross-node hops under `Cluster`).
   *
   * @default true
   */
  readonly requiresLocalTrafficPolicy?: boolean;

  /**
   * False when the load balancer terminates TCP and opens its own connection, so the gateway sees the load
   * balancer's address whatever the traffic policy (only PROXY protocol or X-Forwarded-For can carry the client).
   *
   * @default true
   */
  readonly keepsClientAddress?: boolean;

  /**
   * One line for humans: which load balancer this is.
   *
   * @default - the id
   */
  readonly description?: string;
}

/**
 * The cloud load balancer in front of an ingress gateway: which Service annotations it needs and whether the
 * client address survives it at L3 (as the packet source) with or without `externalTrafficPolicy: Local`.
 *
 * Choose a preset, or `LoadBalancerProfile.custom()` for anything else.
 */
export class LoadBalancerProfile {
  /**
   * Any load balancer that passes packets through without SNAT (MetalLB, most bare-metal setups): the client
   * address survives only with `externalTrafficPolicy: Local`. No annotations.
   */
  public static readonly GENERIC = LoadBalancerProfile.preset('generic');

  /**
   * AWS Network Load Balancer created by the AWS Load Balancer Controller with instance targets (traffic enters
   * through a NodePort, so `Local` is needed; the target group preserves the client IP by default).
   */
  public static readonly AWS_NLB_INSTANCE = LoadBalancerProfile.preset('aws-nlb-instance');

  /**
   * AWS Network Load Balancer created by the AWS Load Balancer Controller with ip targets: it sends straight
   * to the pod IPs, so kube-proxy and the traffic policy are out of the path. Client IP preservation is off by
   * default for ip targets, so the profile turns it on with `preserve_client_ip.enabled=true`.
   */
  public static readonly AWS_NLB_IP = LoadBalancerProfile.preset('aws-nlb-ip');

  /**
   * AWS Network Load Balancer created by the in-tree cloud provider (`aws-load-balancer-type: nlb`, instance
   * targets): the client address survives with `Local`.
   */
  public static readonly AWS_NLB_IN_TREE = LoadBalancerProfile.preset('aws-nlb-in-tree');

  /**
   * AWS Classic Load Balancer (the in-tree default): a TCP proxy, so the gateway never sees the client at L3,
   * whatever the traffic policy. Use it with PROXY protocol or behind an X-Forwarded-For hop.
   */
  public static readonly AWS_CLB = LoadBalancerProfile.preset('aws-clb');

  /** Google Cloud external passthrough Network Load Balancer (GKE default): needs `Local`. */
  public static readonly GKE = LoadBalancerProfile.preset('gke');

  /** Azure Standard Load Balancer (AKS default): needs `Local`. */
  public static readonly AKS = LoadBalancerProfile.preset('aks');

  /** Alibaba Cloud Classic Load Balancer (ACK default): needs `Local`. */
  public static readonly ALIBABA_CLB = LoadBalancerProfile.preset('alibaba-clb');

  /**
   * Alibaba Cloud Network Load Balancer (`loadBalancerClass: alibabacloud.com/nlb`): needs `Local`. ACK also
   * requires the `service.beta.kubernetes.io/alibaba-cloud-loadbalancer-zone-maps` annotation: pass it as an
   * extra Service annotation.
   */
  public static readonly ALIBABA_NLB = LoadBalancerProfile.preset('alibaba-nlb');

  /** Tencent Cloud CLB (TKE default, via NodePort): needs `Local`. */
  public static readonly TENCENT_CLB = LoadBalancerProfile.preset('tencent-clb');

  /**
   * Tencent Cloud CLB with direct access to pods (`service.cloud.tencent.com/direct-access: "true"`, VPC-CNI):
   * the CLB sends to the pod IPs, so the client address survives without `Local`.
   */
  public static readonly TENCENT_CLB_DIRECT_ACCESS = LoadBalancerProfile.preset('tencent-clb-direct-access');

  /**
   * Huawei Cloud ELB (CCE): needs `Local`; `kubernetes.io/elb.enable-transparent-client-ip` turns on
   * transparent client IP for shared ELBs (dedicated ELBs always have it). Choose the ELB itself
   * (`kubernetes.io/elb.class`, `kubernetes.io/elb.id`) with extra Service annotations.
   */
  public static readonly HUAWEI_ELB = LoadBalancerProfile.preset('huawei-elb');

  /** Every preset, in a stable order. */
  public static all(): LoadBalancerProfile[] {
    return [
      LoadBalancerProfile.GENERIC, LoadBalancerProfile.AWS_NLB_INSTANCE, LoadBalancerProfile.AWS_NLB_IP,
      LoadBalancerProfile.AWS_NLB_IN_TREE, LoadBalancerProfile.AWS_CLB, LoadBalancerProfile.GKE, LoadBalancerProfile.AKS,
      LoadBalancerProfile.ALIBABA_CLB, LoadBalancerProfile.ALIBABA_NLB, LoadBalancerProfile.TENCENT_CLB,
      LoadBalancerProfile.TENCENT_CLB_DIRECT_ACCESS, LoadBalancerProfile.HUAWEI_ELB,
    ];
  }

  /**
   * A load balancer without a preset.
   */
  public static custom(options: CustomLoadBalancerProfileOptions): LoadBalancerProfile {
    if (typeof options.id !== 'string' || !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(options.id)) {
      throw new Error(`loadBalancerProfile id ${JSON.stringify(options.id)} is not allowed: use kebab-case letters and digits, for example "metallb-l2"`);
    }
    if (LoadBalancerProfile.all().some(p => p.id === options.id)) {
      throw new Error(`loadBalancerProfile id "${options.id}" is taken by a preset: use LoadBalancerProfile.${presetName(options.id)} or choose another id`);
    }
    checkAnnotations('loadBalancerProfile serviceAnnotations', options.serviceAnnotations);
    checkLoadBalancerClass('loadBalancerProfile loadBalancerClass', options.loadBalancerClass);
    return new LoadBalancerProfile(options);
  }

  private static preset(id: string): LoadBalancerProfile {
    const facts = loadBalancerFacts(id)!;
    return new LoadBalancerProfile({
      id: facts.id,
      description: facts.description,
      serviceAnnotations: facts.serviceAnnotations,
      loadBalancerClass: facts.loadBalancerClass,
      requiresLocalTrafficPolicy: facts.requiresLocalTrafficPolicy,
      keepsClientAddress: facts.keepsClientAddress,
    });
  }

  /** Stable kebab-case identifier, for example "aws-nlb-ip". */
  public readonly id: string;
  /** One line for humans. */
  public readonly description: string;
  /** True when the client address survives only with `externalTrafficPolicy: Local`. */
  public readonly requiresLocalTrafficPolicy: boolean;
  /** False when the load balancer proxies TCP, so the gateway never sees the client as the packet source. */
  public readonly keepsClientAddress: boolean;
  /** `spec.loadBalancerClass` of the Service. @default - none */
  public readonly loadBalancerClass?: string;
  private readonly annotations: { [key: string]: string };

  private constructor(options: CustomLoadBalancerProfileOptions) {
    this.id = options.id;
    this.description = options.description ?? options.id;
    this.requiresLocalTrafficPolicy = options.requiresLocalTrafficPolicy ?? true;
    this.keepsClientAddress = options.keepsClientAddress ?? true;
    this.loadBalancerClass = options.loadBalancerClass;
    this.annotations = { ...(options.serviceAnnotations ?? {}) };
  }

  /** The Service annotations this load balancer needs (a copy). */
  public get serviceAnnotations(): { [key: string]: string } {
    return { ...this.annotations };
  }

  /**
   * True when the load balancer delivers the client as the packet source whatever the traffic policy (ip
   * targets, direct access).
   */
  public get preservesSourceWithoutLocal(): boolean {
    return this.keepsClientAddress && !this.requiresLocalTrafficPolicy;
  }

  public toString(): string {
    return this.id;
  }
}

function presetName(id: string): string {
  return id.toUpperCase().replace(/-/g, '_');
}
