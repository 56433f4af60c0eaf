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
