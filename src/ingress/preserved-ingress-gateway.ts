import { Construct } from 'constructs';
import { resolveSharedGatewayProps } from './gateway-config';
import { ExistingGateway, IngressGatewayBase, IngressGatewayConfig } from './ingress-gateway-base';
import { GatewayFlavour, IngressGatewayProps } from './ingress-gateway-props';
import { DEFAULT_ROOT_NAMESPACE } from '../envoy/names';
import { ExternalTrafficPolicy, ProxyProtocolMode } from '../model/model';
import { constructPathOf, resolveWithPath, withConstructPath } from '../util/validate';

/** Above this many trusted proxies a warning asks whether the count is real. */
const MANY_TRUSTED_PROXIES = 5;

/** Props of `PreservedIngressGateway`. */
export interface PreservedIngressGatewayProps extends IngressGatewayProps {
  /**
   * Attach to an existing gateway installation instead of deploying one: only the Gateway, VirtualServices
   * and a partial Service (for `kubectl apply --server-side`) setting `externalTrafficPolicy: Local` are emitted.
   *
   * @default - deploy a new gateway
   */
  readonly existing?: ExistingGateway;
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
    return new PreservedIngressGateway(scope, id, Object.assign({}, props, { existing: Object.assign({}, props.existing, installation) }));
  }

  public constructor(scope: Construct, id: string, props: PreservedIngressGatewayProps = {}) {
    const config = resolveWithPath(constructPathOf(scope, id), () => resolveConfig(scope, props));
    super(scope, id, config);
    try {
      this.warnAboutCosts(props, config);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
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
  const shared = resolveSharedGatewayProps(scope, props, {
    name: 'ingressgateway',
    externalTrafficPolicy: ExternalTrafficPolicy.LOCAL,
    acceptsProxyProtocol: false,
    replicasFix: 'run at least 1 gateway pod, 2 or more with externalTrafficPolicy Local',
    numTrustedProxiesFix: 'count only the proxies that append to X-Forwarded-For',
  }, props.existing ? props.existing.namespace ?? DEFAULT_ROOT_NAMESPACE : undefined);
  const { profile, numTrustedProxies } = shared;
  if (props.existing && shared.flavour === GatewayFlavour.GATEWAY_API) {
    throw new Error('flavour gateway-api is not allowed with existing: attach mode adds Istio Gateway resources to a gateway installation; for the Gateway API, let Istio deploy the gateway (remove existing)');
  }
  if (!profile.keepsClientAddress && numTrustedProxies === 0) {
    throw new Error(`loadBalancerProfile ${profile.id} cannot keep the client IP: it proxies TCP, so the gateway sees the load balancer's address whatever externalTrafficPolicy says; use ProxyProtocolGateway with this profile, or a load balancer that passes packets through (for example LoadBalancerProfile.AWS_NLB_IP)`);
  }
  return Object.assign({}, shared, {
    proxyProtocolMode: ProxyProtocolMode.OFF,
    proxyProtocolPorts: [],
    containerEnv: {},
    existing: props.existing,
  });
}
