import { Finding, FindingSeverity } from './findings';
import { IstioVersion } from './istio-version';

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

/** The key routes and policies use to name a Gateway API Gateway (apart from Istio Gateways of the same name). */
export function gatewayApiResourceKey(namespace: string, name: string): string {
  return `${GATEWAY_API_GROUP}:${namespace}/${name}`;
}

/** istiod's flag that serves Gateway API TCP listeners and TCPRoutes before Istio 1.31 (pilot/pkg/features). */
export const ALPHA_GATEWAY_API_FLAG = 'PILOT_ENABLE_ALPHA_GATEWAY_API';

/**
 * The warning for a TCPRoute (before Istio 1.31) or TLSRoute (before 1.30) on a release whose istiod reads it only with
 * the alpha flag (`IstioVersion.gatewayApiTcpWithoutAlphaFlag`, `tlsRouteWithoutAlphaFlag`); undefined where it is stable.
 */
export function gatewayApiAlphaRouteWarning(
  version: { readonly label: string; readonly gatewayApiTcpWithoutAlphaFlag: boolean; readonly tlsRouteWithoutAlphaFlag: boolean },
  method: string, gateway: string, tls: boolean, port: number): string | undefined {
  if (tls ? version.tlsRouteWithoutAlphaFlag : version.gatewayApiTcpWithoutAlphaFlag) return undefined;
  return `${method} on gateway "${gateway}" writes a ${tls ? 'TLSRoute' : 'TCPRoute'}, which Istio ${version.label} reads only when istiod runs with ${ALPHA_GATEWAY_API_FLAG}=true `
    + `(stable from Istio ${tls ? '1.30' : '1.31'}): without it the route is ignored and port ${port} forwards nothing; `
    + `set the istiod environment variable ${ALPHA_GATEWAY_API_FLAG}=true (Helm: pilot.env.${ALPHA_GATEWAY_API_FLAG}), or use GatewayFlavour.ISTIO`;
}

/**
 * Findings for TCPRoutes and TLSRoutes that `istioVersion` reads only with `PILOT_ENABLE_ALPHA_GATEWAY_API=true`
 * (TLSRoute before 1.30, TCPRoute before 1.31; `IstioVersion` holds the gates): without the flag istiod ignores them.
 *
 * @param routes the routes, by kind and where to report them
 * @param istioVersion the release the cluster runs
 */
export function alphaRouteFindings(routes: ReadonlyArray<{ readonly kind: string; readonly where: string }>, istioVersion: IstioVersion): Finding[] {
  return routes.flatMap(r => {
    const alphaOnly = r.kind === 'TCPRoute' ? !istioVersion.gatewayApiTcpWithoutAlphaFlag : r.kind === 'TLSRoute' ? !istioVersion.tlsRouteWithoutAlphaFlag : false;
    if (!alphaOnly) return [];
    return [{
      severity: FindingSeverity.WARNING,
      where: r.where,
      message: `Istio ${istioVersion.label} reads ${r.kind} only when istiod runs with PILOT_ENABLE_ALPHA_GATEWAY_API=true (stable from Istio ${r.kind === 'TCPRoute' ? '1.31' : '1.30'}): without it the route is ignored`,
      fix: 'set the istiod environment variable PILOT_ENABLE_ALPHA_GATEWAY_API=true (Helm: pilot.env.PILOT_ENABLE_ALPHA_GATEWAY_API), or use an Istio Gateway and VirtualService',
    }];
  });
}
