import { IConstruct } from 'constructs';
import { ForwardClientCertDetails, GatewayAutoscaling, GatewayFlavour, IngressGatewayProps } from './ingress-gateway-props';
import { LoadBalancerProfile } from './load-balancer-profile';
import { ChainDefaults, defaultsFromTrustChain } from './trust-chain-defaults';
import { IstioVersion } from '../model/istio-version';
import { ExternalTrafficPolicy, ProxyProtocolVersion } from '../model/model';
import { TrustChain } from '../model/trust-chain';
import { checkInteger } from '../util/validate';

/*
 * One resolution of the props every ingress gateway shares (IngressGatewayProps), so that both gateways accept
 * and refuse the same values with the same messages (internal).
 */

/** What differs between the gateways when resolving the shared props. */
export interface GatewayKindDefaults {
  readonly name: string;
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  /** True for the gateway that accepts PROXY protocol (its chain must have a PROXY hop, the other's must not). */
  readonly acceptsProxyProtocol: boolean;
  /** Why at least one replica, for the message. */
  readonly replicasFix: string;
  /** How to count trusted proxies, for the message. */
  readonly numTrustedProxiesFix: string;
}

/** The shared props, validated and defaulted: what both gateways render (`IngressGatewayConfig` adds the rest). */
export interface SharedGatewaySettings {
  /** Name of the gateway (Deployment, Service, ServiceAccount, Gateway). */
  readonly name: string;
  /** Namespace of the gateway and of its Gateway and VirtualServices. */
  readonly namespace: string;
  /** Replicas (the autoscaler's minimum when autoscaling). */
  readonly replicas: number;
  /** Autoscaling. @default - none */
  readonly autoscaling?: GatewayAutoscaling;
  /** `gatewayTopology.numTrustedProxies`. */
  readonly numTrustedProxies: number;
  /** `gatewayTopology.forwardClientCertDetails`. */
  readonly forwardClientCertDetails: ForwardClientCertDetails;
  /** Service `externalTrafficPolicy`. */
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  /** The load balancer in front. */
  readonly profile: LoadBalancerProfile;
  /**
   * Extra Service annotations, over the profile's. Values of
   * `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes` are merged as comma-separated lists.
   */
  readonly serviceAnnotations: { [key: string]: string };
  /** The Istio release the output is for. */
  readonly istioVersion: IstioVersion;
  /** Istio's API or the Gateway API (Istio deploys the gateway). */
  readonly flavour: GatewayFlavour;
  /**
   * The hops in front of the gateway; recorded on the Service so that `explain` can check the gateway against them.
   * @default - not declared
   */
  readonly trustChain?: TrustChain;
  /** What the trust chain implies (empty without a chain). */
  readonly chain: ChainDefaults;
}

/** Resolves the shared props; `existingNamespace` is the attach-mode installation's namespace, if any. */
export function resolveSharedGatewayProps(
  scope: IConstruct, props: IngressGatewayProps & { readonly proxyProtocolVersion?: ProxyProtocolVersion },
  kind: GatewayKindDefaults, existingNamespace?: string): SharedGatewaySettings {
  const profile = props.loadBalancerProfile ?? LoadBalancerProfile.GENERIC;
  if (!(profile instanceof LoadBalancerProfile)) {
    throw new Error(`loadBalancerProfile ${JSON.stringify(profile)} is not allowed: use a LoadBalancerProfile preset such as LoadBalancerProfile.GENERIC, or LoadBalancerProfile.custom()`);
  }
  const replicas = checkInteger('replicas', props.replicas ?? 2, 1, 1000, kind.replicasFix);
  if (props.numTrustedProxies !== undefined) {
    checkInteger('numTrustedProxies', props.numTrustedProxies, 0, 64, kind.numTrustedProxiesFix);
  }
  if (props.externalTrafficPolicy !== undefined && !Object.values(ExternalTrafficPolicy).includes(props.externalTrafficPolicy)) {
    throw new Error(`externalTrafficPolicy ${JSON.stringify(props.externalTrafficPolicy)} is not allowed: use ExternalTrafficPolicy.LOCAL or ExternalTrafficPolicy.CLUSTER`);
  }
  if (props.forwardClientCertDetails !== undefined && !Object.values(ForwardClientCertDetails).includes(props.forwardClientCertDetails)) {
    throw new Error(`forwardClientCertDetails ${JSON.stringify(props.forwardClientCertDetails)} is not allowed: use a ForwardClientCertDetails member such as SANITIZE_SET`);
  }
  const flavour = checkFlavour(props.flavour ?? GatewayFlavour.ISTIO);
  const istioVersion = IstioVersion.resolve(scope, props.istioVersion);
  if (flavour === GatewayFlavour.GATEWAY_API) checkGatewayApiVersion(istioVersion);
  const chain = defaultsFromTrustChain(props, kind.acceptsProxyProtocol);
  return {
    name: props.name ?? kind.name,
    namespace: props.namespace ?? existingNamespace ?? 'istio-ingress',
    replicas,
    autoscaling: props.autoscaling,
    numTrustedProxies: props.numTrustedProxies ?? chain.numTrustedProxies ?? 0,
    forwardClientCertDetails: props.forwardClientCertDetails ?? ForwardClientCertDetails.SANITIZE_SET,
    externalTrafficPolicy: props.externalTrafficPolicy ?? chain.externalTrafficPolicy ?? kind.externalTrafficPolicy,
    profile,
    serviceAnnotations: { ...(props.serviceAnnotations ?? {}) },
    istioVersion,
    flavour,
    trustChain: props.trustChain,
    chain,
  };
}

function checkFlavour(flavour: GatewayFlavour): GatewayFlavour {
  if (!Object.values(GatewayFlavour).includes(flavour)) {
    throw new Error(`flavour ${JSON.stringify(flavour)} is not allowed: use GatewayFlavour.ISTIO or GatewayFlavour.GATEWAY_API`);
  }
  return flavour;
}

function checkGatewayApiVersion(istioVersion: IstioVersion): void {
  if (!istioVersion.supportsGatewayParametersRef) {
    throw new Error(`flavour gateway-api is not allowed with istioVersion ${istioVersion.label}: before Istio 1.26 the Service Istio deploys for a Gateway API gateway cannot be given externalTrafficPolicy Local (no parametersRef ConfigMap), so kube-proxy SNATs the client to a node IP; `
      + 'use istioVersion 1.26 or newer, or GatewayFlavour.ISTIO (the default) on this release');
  }
}
