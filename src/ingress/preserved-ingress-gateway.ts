import { Construct } from 'constructs';
import {
  ExistingGateway, ForwardClientCertDetails, GatewayAutoscaling, IngressGatewayBase, IngressGatewayConfig,
} from './ingress-gateway-base';
import { LoadBalancerProfile } from './load-balancer-profile';
import { defaultsFromTrustChain } from './trust-chain-defaults';
import { IstioVersion } from '../model/istio-version';
import { ExternalTrafficPolicy, ProxyProtocolMode } from '../model/model';
import { TrustChain } from '../model/trust-chain';
import { checkInteger } from '../util/validate';

/** Above this many trusted proxies a warning asks whether the count is real. */
const MANY_TRUSTED_PROXIES = 5;

/** Props of `PreservedIngressGateway`. */
export interface PreservedIngressGatewayProps {
  /**
   * Name of the gateway Deployment, Service, ServiceAccount and Istio Gateway.
   *
   * @default 'ingressgateway'
   */
  readonly name?: string;

  /**
   * Namespace of the gateway and its Istio resources. TLS secrets (`credentialName`) must be in the namespace
   * of the gateway pods.
   *
   * @default 'istio-ingress'; in attach mode, the existing installation's namespace
   */
  readonly namespace?: string;

  /**
   * Gateway pods. With `externalTrafficPolicy: Local` a node without a gateway pod drops the traffic sent to
   * it, so keep at least 2; 1 gives a warning.
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * Scale the gateway on CPU (the autoscaler's minimum defaults to `replicas`).
   *
   * @default - fixed `replicas`
   */
  readonly autoscaling?: GatewayAutoscaling;

  /**
   * How many proxies in front of the gateway append to X-Forwarded-For (CDN, L7 load balancer). The gateway
   * takes the client from that far right in the header. L4 load balancers do not count.
   *
   * @default - derived from `trustChain`, else 0
   */
  readonly numTrustedProxies?: number;

  /**
   * What the gateway does with the `x-forwarded-client-cert` header.
   *
   * @default ForwardClientCertDetails.SANITIZE_SET
   */
  readonly forwardClientCertDetails?: ForwardClientCertDetails;

  /**
   * The gateway Service's traffic policy. `Local` keeps the client address as the packet source; `Cluster`
   * lets kube-proxy SNAT it to a node address.
   *
   * @default - derived from `trustChain`, else ExternalTrafficPolicy.LOCAL
   */
  readonly externalTrafficPolicy?: ExternalTrafficPolicy;

  /**
   * The cloud load balancer in front: Service annotations and whether it needs `Local`.
   *
   * @default LoadBalancerProfile.GENERIC
   */
  readonly loadBalancerProfile?: LoadBalancerProfile;

  /**
   * Extra annotations of the gateway Service, over the profile's.
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * The proxies between the client and the gateway. When given, `numTrustedProxies` and
   * `externalTrafficPolicy` are derived from it; explicit values must agree with it. A chain with a PROXY
   * protocol hop needs `ProxyProtocolGateway` instead.
   *
   * @default - no chain: use the explicit props or their defaults
   */
  readonly trustChain?: TrustChain;

  /**
   * Attach to an existing gateway installation instead of deploying one: only the Gateway, VirtualServices
   * and a partial Service (for `kubectl apply --server-side`) setting `externalTrafficPolicy: Local` are emitted.
   *
   * @default - deploy a new gateway
   */
  readonly existing?: ExistingGateway;

  /**
   * The Istio release the output is for.
   *
   * @default - the `cdk8s-istio-source-ip:istioVersion` context, else IstioVersion.LATEST
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * An Istio ingress gateway that keeps the client source IP for north-south HTTP and HTTPS: its Service uses
 * `externalTrafficPolicy: Local` (with 2+ replicas spread over nodes and zones, and a PodDisruptionBudget),
 * and `gatewayTopology.numTrustedProxies` matches the X-Forwarded-For hops in front.
 *
 * Add servers and routes with `addHttpServer()`, `addHttpsServer()`, `addHttpsRedirect()` and `addRoute()`.
 */
export class PreservedIngressGateway extends IngressGatewayBase {
  /**
   * Attaches to an existing installation (by default the Helm chart's `istio-ingressgateway` in
   * `istio-system`) instead of deploying a gateway.
   */
  public static attach(
    scope: Construct, id: string, installation: ExistingGateway = {}, props: PreservedIngressGatewayProps = {},
  ): PreservedIngressGateway {
    return new PreservedIngressGateway(scope, id, { ...props, existing: { ...(props.existing ?? {}), ...installation } });
  }

  public constructor(scope: Construct, id: string, props: PreservedIngressGatewayProps = {}) {
    const config = resolveConfig(scope, props);
    super(scope, id, config);
    this.warnAboutCosts(props, config);
  }

  private warnAboutCosts(props: PreservedIngressGatewayProps, config: IngressGatewayConfig): void {
    const { profile, numTrustedProxies, externalTrafficPolicy } = config;
    if (numTrustedProxies > 0 && !props.trustChain) {
      // Pitfall 19: Envoy falls back to fewer entries only when XFF is too short, so a client chooses its address
      // whenever it can reach the gateway without passing every trusted hop.
      this.warn(`numTrustedProxies ${numTrustedProxies} without a trustChain: the gateway takes the client from X-Forwarded-For (and trusts X-Forwarded-Proto/-Port), so a client that reaches the load balancer or gateway without passing every trusted proxy can spoof its address; `
        + 'allow only the proxies to reach the load balancer (e.g. loadBalancerSourceRanges) and declare them with trustChain so explain can check the count');
    }
    if (numTrustedProxies > MANY_TRUSTED_PROXIES) {
      this.warn(`numTrustedProxies ${numTrustedProxies} is unusually high: count only the proxies in front of the gateway that append to X-Forwarded-For; too high a count lets clients spoof their address`);
    }
    if (profile.requiresLocalTrafficPolicy && externalTrafficPolicy === ExternalTrafficPolicy.CLUSTER && numTrustedProxies === 0) {
      this.warn(`externalTrafficPolicy Cluster with loadBalancerProfile ${profile.id}: kube-proxy SNATs cross-node traffic, so the gateway and the app see a node IP instead of the client; remove externalTrafficPolicy to get Local, or choose a profile that keeps the client without it`);
    }
    if (config.existing && (numTrustedProxies > 0 || props.forwardClientCertDetails !== undefined)) {
      this.warn(`existing gateway "${this.serviceName}": attach mode does not change its pods, so set the pod annotation proxy.istio.io/config to '${this.proxyConfigAnnotation()}' in the installation (Helm value podAnnotations) and restart them`);
    }
  }
}

function resolveConfig(scope: Construct, props: PreservedIngressGatewayProps): IngressGatewayConfig {
  const profile = props.loadBalancerProfile ?? LoadBalancerProfile.GENERIC;
  const replicas = checkInteger('replicas', props.replicas ?? 2, 1, 1000, 'run at least 1 gateway pod, 2 or more with externalTrafficPolicy Local');
  if (props.numTrustedProxies !== undefined) {
    checkInteger('numTrustedProxies', props.numTrustedProxies, 0, 64, 'count only the proxies that append to X-Forwarded-For');
  }
  if (props.externalTrafficPolicy !== undefined && !Object.values(ExternalTrafficPolicy).includes(props.externalTrafficPolicy)) {
    throw new Error(`externalTrafficPolicy ${JSON.stringify(props.externalTrafficPolicy)} is not allowed: use ExternalTrafficPolicy.LOCAL or ExternalTrafficPolicy.CLUSTER`);
  }
  if (props.forwardClientCertDetails !== undefined && !Object.values(ForwardClientCertDetails).includes(props.forwardClientCertDetails)) {
    throw new Error(`forwardClientCertDetails ${JSON.stringify(props.forwardClientCertDetails)} is not allowed: use a ForwardClientCertDetails member such as SANITIZE_SET`);
  }
  const derived = defaultsFromTrustChain(props, false);
  const numTrustedProxies = props.numTrustedProxies ?? derived.numTrustedProxies ?? 0;
  const externalTrafficPolicy = props.externalTrafficPolicy ?? derived.externalTrafficPolicy ?? ExternalTrafficPolicy.LOCAL;
  if (!profile.keepsClientAddress && numTrustedProxies === 0) {
    throw new Error(`loadBalancerProfile ${profile.id} cannot keep the client IP: it proxies TCP, so the gateway sees the load balancer's address whatever externalTrafficPolicy says; use ProxyProtocolGateway with this profile, or a load balancer that passes packets through (for example LoadBalancerProfile.AWS_NLB_IP)`);
  }
  return {
    name: props.name ?? 'ingressgateway',
    namespace: props.namespace ?? (props.existing ? props.existing.namespace ?? 'istio-system' : 'istio-ingress'),
    replicas,
    autoscaling: props.autoscaling,
    numTrustedProxies,
    forwardClientCertDetails: props.forwardClientCertDetails ?? ForwardClientCertDetails.SANITIZE_SET,
    proxyProtocolMode: ProxyProtocolMode.OFF,
    proxyProtocolPorts: [],
    externalTrafficPolicy,
    profile,
    containerEnv: {},
    serviceAnnotations: { ...(props.serviceAnnotations ?? {}) },
    istioVersion: IstioVersion.resolve(scope, props.istioVersion),
    existing: props.existing,
    trustChain: props.trustChain,
  };
}
