import { LoadBalancerProfile } from './load-balancer-profile';
import { IstioVersion } from '../model/istio-version';
import { ExternalTrafficPolicy } from '../model/model';
import { TrustChain } from '../model/trust-chain';

/** `gatewayTopology.forwardClientCertDetails`: what the gateway does with the `x-forwarded-client-cert` header. */
export enum ForwardClientCertDetails {
  /** Remove the header from requests (do not forward it). */
  SANITIZE = 'SANITIZE',
  /** Forward the header only when the connection is mTLS. */
  FORWARD_ONLY = 'FORWARD_ONLY',
  /** Append the client certificate details to the header (the sidecar default). */
  APPEND_FORWARD = 'APPEND_FORWARD',
  /** Replace the header with the client certificate details (the gateway default). */
  SANITIZE_SET = 'SANITIZE_SET',
  /** Always forward the header, whatever the connection. */
  ALWAYS_FORWARD_ONLY = 'ALWAYS_FORWARD_ONLY',
}

/** Which API the gateway is configured with. */
export enum GatewayFlavour {
  /**
   * Istio's own API: a `networking.istio.io` Gateway and VirtualServices on a gateway Deployment and Service this
   * library renders.
   */
  ISTIO = 'istio',
  /**
   * The Kubernetes Gateway API: a `gateway.networking.k8s.io/v1` Gateway of class `istio` with HTTPRoutes, TCPRoutes
   * and TLSRoutes; Istio deploys the gateway and its Service, set up by a `parametersRef` ConfigMap (Istio 1.26+).
   */
  GATEWAY_API = 'gateway-api',
}

/** Horizontal autoscaling of the gateway Deployment on CPU. */
export interface GatewayAutoscaling {
  /**
   * Fewest replicas. Keep it at 2 or more with `externalTrafficPolicy: Local`.
   *
   * @default - the gateway's `replicas`
   */
  readonly minReplicas?: number;

  /** Most replicas. */
  readonly maxReplicas: number;

  /**
   * Average CPU utilisation (percent of requests) the autoscaler aims at.
   *
   * @default 80
   */
  readonly targetCpuUtilization?: number;
}

/** The props every ingress gateway of this library takes (`PreservedIngressGateway`, `ProxyProtocolGateway`). */
export interface IngressGatewayProps {
  /**
   * Name of the gateway Deployment, Service, ServiceAccount and Istio Gateway.
   *
   * @default 'ingressgateway' for PreservedIngressGateway, 'proxy-protocol-gateway' for ProxyProtocolGateway
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
   * takes the client from that far right in the header. L4 load balancers and PROXY protocol hops do not count.
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
   * lets kube-proxy SNAT it to a node address (PROXY protocol carries the client in the stream, so `Cluster`
   * keeps it there).
   *
   * @default - derived from `trustChain`, else ExternalTrafficPolicy.LOCAL for PreservedIngressGateway and
   * ExternalTrafficPolicy.CLUSTER for ProxyProtocolGateway
   */
  readonly externalTrafficPolicy?: ExternalTrafficPolicy;

  /**
   * The cloud load balancer in front: Service annotations and whether it needs `Local`.
   *
   * @default LoadBalancerProfile.GENERIC
   */
  readonly loadBalancerProfile?: LoadBalancerProfile;

  /**
   * Extra annotations of the gateway Service, over the profile's (and the PROXY ones).
   *
   * @default - none
   */
  readonly serviceAnnotations?: { [key: string]: string };

  /**
   * The proxies between the client and the gateway. When given, `numTrustedProxies` and
   * `externalTrafficPolicy` are derived from it; explicit values must agree with it. A chain with a PROXY
   * protocol hop needs `ProxyProtocolGateway`; `ProxyProtocolGateway` needs one.
   *
   * @default - no chain: use the explicit props or their defaults
   */
  readonly trustChain?: TrustChain;

  /**
   * The API the gateway is configured with. GATEWAY_API needs Istio 1.26+ and no `existing` installation.
   *
   * @default GatewayFlavour.ISTIO
   */
  readonly flavour?: GatewayFlavour;

  /**
   * The Istio release the output is for.
   *
   * @default - the `cdk8s-istio-source-ip:istioVersion` context, else IstioVersion.LATEST
   */
  readonly istioVersion?: IstioVersion;
}
