/*
 * What each cloud's Service load balancer does with the client address (facts: shared reference peers.md §4 and
 * istio-source-ip.md §5). PROXY protocol capabilities are deliberately not here: they live next to
 * ProxyProtocolGateway, keyed by `LoadBalancerProfile.id`.
 */
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
  public static readonly GENERIC = new LoadBalancerProfile({
    id: 'generic',
    description: 'pass-through L4 load balancer (no annotations)',
  });

  /**
   * AWS Network Load Balancer created by the AWS Load Balancer Controller with instance targets (traffic enters
   * through a NodePort, so `Local` is needed; the target group preserves the client IP by default).
   */
  public static readonly AWS_NLB_INSTANCE = new LoadBalancerProfile({
    id: 'aws-nlb-instance',
    description: 'AWS NLB (AWS Load Balancer Controller), instance targets',
    serviceAnnotations: {
      'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'instance',
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
    },
  });

  /**
   * AWS Network Load Balancer created by the AWS Load Balancer Controller with ip targets: it sends straight
   * to the pod IPs, so kube-proxy and the traffic policy are out of the path. Client IP preservation is off by
   * default for ip targets, so the profile turns it on with `preserve_client_ip.enabled=true`.
   */
  public static readonly AWS_NLB_IP = new LoadBalancerProfile({
    id: 'aws-nlb-ip',
    description: 'AWS NLB (AWS Load Balancer Controller), ip targets',
    requiresLocalTrafficPolicy: false,
    serviceAnnotations: {
      'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true',
    },
  });

  /**
   * AWS Network Load Balancer created by the in-tree cloud provider (`aws-load-balancer-type: nlb`, instance
   * targets): the client address survives with `Local`.
   */
  public static readonly AWS_NLB_IN_TREE = new LoadBalancerProfile({
    id: 'aws-nlb-in-tree',
    description: 'AWS NLB (in-tree cloud provider)',
    serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' },
  });

  /**
   * AWS Classic Load Balancer (the in-tree default): a TCP proxy, so the gateway never sees the client at L3,
   * whatever the traffic policy. Use it with PROXY protocol or behind an X-Forwarded-For hop.
   */
  public static readonly AWS_CLB = new LoadBalancerProfile({
    id: 'aws-clb',
    description: 'AWS Classic Load Balancer (in-tree default)',
    requiresLocalTrafficPolicy: false,
    keepsClientAddress: false,
  });

  /** Google Cloud external passthrough Network Load Balancer (GKE default): needs `Local`. */
  public static readonly GKE = new LoadBalancerProfile({
    id: 'gke',
    description: 'Google Cloud passthrough Network Load Balancer (GKE)',
  });

  /** Azure Standard Load Balancer (AKS default): needs `Local`. */
  public static readonly AKS = new LoadBalancerProfile({
    id: 'aks',
    description: 'Azure Standard Load Balancer (AKS)',
  });

  /** Alibaba Cloud Classic Load Balancer (ACK default): needs `Local`. */
  public static readonly ALIBABA_CLB = new LoadBalancerProfile({
    id: 'alibaba-clb',
    description: 'Alibaba Cloud CLB (ACK default)',
  });

  /**
   * Alibaba Cloud Network Load Balancer (`loadBalancerClass: alibabacloud.com/nlb`): needs `Local`. ACK also
   * requires the `service.beta.kubernetes.io/alibaba-cloud-loadbalancer-zone-maps` annotation: pass it as an
   * extra Service annotation.
   */
  public static readonly ALIBABA_NLB = new LoadBalancerProfile({
    id: 'alibaba-nlb',
    description: 'Alibaba Cloud NLB (ACK)',
    loadBalancerClass: 'alibabacloud.com/nlb',
  });

  /** Tencent Cloud CLB (TKE default, via NodePort): needs `Local`. */
  public static readonly TENCENT_CLB = new LoadBalancerProfile({
    id: 'tencent-clb',
    description: 'Tencent Cloud CLB (TKE)',
  });

  /**
   * Tencent Cloud CLB with direct access to pods (`service.cloud.tencent.com/direct-access: "true"`, VPC-CNI):
   * the CLB sends to the pod IPs, so the client address survives without `Local`.
   */
  public static readonly TENCENT_CLB_DIRECT_ACCESS = new LoadBalancerProfile({
    id: 'tencent-clb-direct-access',
    description: 'Tencent Cloud CLB, direct access to pods (TKE VPC-CNI)',
    requiresLocalTrafficPolicy: false,
    serviceAnnotations: { 'service.cloud.tencent.com/direct-access': 'true' },
  });

  /**
   * Huawei Cloud ELB (CCE): needs `Local`; `kubernetes.io/elb.enable-transparent-client-ip` turns on
   * transparent client IP for shared ELBs (dedicated ELBs always have it). Choose the ELB itself
   * (`kubernetes.io/elb.class`, `kubernetes.io/elb.id`) with extra Service annotations.
   */
  public static readonly HUAWEI_ELB = new LoadBalancerProfile({
    id: 'huawei-elb',
    description: 'Huawei Cloud ELB (CCE)',
    serviceAnnotations: { 'kubernetes.io/elb.enable-transparent-client-ip': 'true' },
  });

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
