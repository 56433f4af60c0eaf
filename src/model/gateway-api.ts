/*
 * Facts about Istio's Gateway API implementation that the constructs render and `explain` reads back: one place,
 * so both sides agree.
 */

/** API group of the Kubernetes Gateway API. */
export const GATEWAY_API_GROUP = 'gateway.networking.k8s.io';

/** The GatewayClass of Istio's ingress gateways (`istio-waypoint` is the ambient waypoints' class). */
export const ISTIO_GATEWAY_CLASS = 'istio';

/** Label Istio puts on the pods of a Gateway API gateway (policies with `targetRefs` reach them by it). */
export const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

/** Name of the Deployment and Service Istio generates for a Gateway: `<gateway>-<class>`. */
export function generatedServiceName(gatewayName: string, className: string = ISTIO_GATEWAY_CLASS): string {
  return `${gatewayName}-${className}`;
}

/** Keys of the `parametersRef` ConfigMap Istio applies as strategic-merge overlays (Istio 1.26+). */
export enum GatewayOverlay {
  DEPLOYMENT = 'deployment',
  SERVICE = 'service',
  POD_DISRUPTION_BUDGET = 'podDisruptionBudget',
  HORIZONTAL_POD_AUTOSCALER = 'horizontalPodAutoscaler',
}

/** A Service host `name.namespace.svc[...]` as its name and namespace; undefined for any other host. */
export function serviceOfHost(host: string): { readonly name: string; readonly namespace: string } | undefined {
  const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.svc(\.[a-z0-9.-]+)?$/.exec(host);
  return m ? { name: m[1], namespace: m[2] } : undefined;
}

/** istiod's flag that serves Gateway API TCP listeners and TCPRoutes before Istio 1.31 (pilot/pkg/features). */
export const ALPHA_GATEWAY_API_FLAG = 'PILOT_ENABLE_ALPHA_GATEWAY_API';

/**
 * The warning for a Gateway API TCP listener on a release whose istiod serves it only with the alpha flag
 * (`IstioVersion.gatewayApiTcpWithoutAlphaFlag`); undefined from Istio 1.31.
 */
export function gatewayApiTcpWarning(
  version: { readonly label: string; readonly gatewayApiTcpWithoutAlphaFlag: boolean }, port: number): string | undefined {
  if (version.gatewayApiTcpWithoutAlphaFlag) return undefined;
  return `addTcpServer port ${port} with flavour gateway-api and istioVersion ${version.label}: before Istio 1.31 istiod ignores Gateway API TCP listeners and TCPRoutes `
    + `unless it runs with ${ALPHA_GATEWAY_API_FLAG}=true (and the cluster has the experimental channel's TCPRoute CRD), so the port serves nothing; `
    + `set ${ALPHA_GATEWAY_API_FLAG}=true on istiod (pilot.env), or use GatewayFlavour.ISTIO for TCP on this release`;
}
