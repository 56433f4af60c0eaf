import { GATEWAY_NAME_LABEL, GatewayOverlay } from '../model/gateway-api';

/*
 * What a Gateway API gateway renders, as plain data (internal): listeners from the construct's servers, route
 * specs, and the parametersRef ConfigMap overlays that give Istio's generated Deployment and Service what keeps the
 * client address.
 */

/** A server as the gateway keeps it. */
export interface GatewayApiServer {
  readonly port: number;
  readonly protocol: 'HTTP' | 'HTTPS' | 'TCP' | 'TLS';
  readonly hosts: string[];
  readonly tls?: { [key: string]: unknown };
}

/** One listener of the Gateway: a server's port and one of its hosts. */
export interface GatewayApiListener {
  readonly name: string;
  readonly server: GatewayApiServer;
  readonly hostname?: string;
}

/** One listener per server and host (a Gateway API listener has at most one hostname), named `<protocol>-<port>[-n]`. */
export function listenersOf(servers: GatewayApiServer[]): GatewayApiListener[] {
  const counts = new Map<string, number>();
  return servers.flatMap(server => server.hosts.map(host => {
    const base = `${server.protocol.toLowerCase()}-${server.port}`;
    const n = counts.get(base) ?? 0;
    counts.set(base, n + 1);
    return { name: n === 0 ? base : `${base}-${n}`, server, ...(host === '*' ? {} : { hostname: host }) };
  }));
}

/** `spec.listeners` of the Gateway. */
export function renderListeners(listeners: GatewayApiListener[]): any[] {
  return listeners.map(l => ({
    name: l.name,
    port: l.server.port,
    protocol: l.server.protocol,
    ...(l.hostname !== undefined ? { hostname: l.hostname } : {}),
    ...tlsOf(l.server),
    allowedRoutes: { namespaces: { from: 'Same' } },
  }));
}

function tlsOf(server: GatewayApiServer): { [key: string]: unknown } {
  if (server.protocol === 'HTTPS') {
    return { tls: { mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: String(server.tls?.credentialName) }] } };
  }
  if (server.protocol === 'TLS') return { tls: { mode: 'Passthrough' } };
  return {};
}

/** True for a listener that serves requests (not a redirect) of `protocols`. */
export function isServingListener(l: GatewayApiListener, protocols: string[]): boolean {
  return protocols.includes(l.server.protocol) && l.server.tls?.httpsRedirect !== true;
}

/** A Service host as a `backendRefs` entry. */
export function backendRef(service: { name: string; namespace: string }, port: number): { [key: string]: unknown } {
  return { name: service.name, namespace: service.namespace, port };
}

/** What the ConfigMap overlays set. */
export interface GatewayApiParameters {
  readonly externalTrafficPolicy: string;
  readonly loadBalancerClass?: string;
  readonly serviceAnnotations: { [key: string]: string };
  readonly gatewayName: string;
  readonly replicas: number;
  readonly autoscaling?: { readonly minReplicas: number; readonly maxReplicas: number; readonly targetCpuUtilization: number };
  readonly containerEnv: { [key: string]: string };
}

/**
 * The `parametersRef` ConfigMap's data: strategic-merge overlays Istio applies to the objects it generates. JSON is
 * YAML, and keeps the text stable.
 */
export function renderParameterOverlays(p: GatewayApiParameters): { [key: string]: string } {
  const labels = { [GATEWAY_NAME_LABEL]: p.gatewayName };
  const env = Object.entries(p.containerEnv).map(([name, value]) => ({ name, value }));
  const data: { [key: string]: unknown } = {
    [GatewayOverlay.SERVICE]: Object.assign({},
      Object.keys(p.serviceAnnotations).length > 0 ? { metadata: { annotations: p.serviceAnnotations } } : {},
      { spec: { externalTrafficPolicy: p.externalTrafficPolicy, ...(p.loadBalancerClass ? { loadBalancerClass: p.loadBalancerClass } : {}) } }),
    [GatewayOverlay.DEPLOYMENT]: {
      spec: Object.assign({},
        // With an autoscaler the Deployment leaves the count to it.
        p.autoscaling ? {} : { replicas: p.replicas },
        {
          template: {
            spec: {
              // With Local, nodes without a gateway pod drop traffic: spread over nodes strictly, zones best effort.
              topologySpreadConstraints: [
                { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
                { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
              ],
              // The agent's environment: the automated deployment does not read it from pod annotations.
              ...(env.length > 0 ? { containers: [{ name: 'istio-proxy', env }] } : {}),
            },
          },
        }),
    },
  };
  const minReplicas = p.autoscaling?.minReplicas ?? p.replicas;
  if (minReplicas >= 2) data[GatewayOverlay.POD_DISRUPTION_BUDGET] = { spec: { minAvailable: 1 } };
  if (p.autoscaling) {
    data[GatewayOverlay.HORIZONTAL_POD_AUTOSCALER] = {
      spec: {
        minReplicas: p.autoscaling.minReplicas,
        maxReplicas: p.autoscaling.maxReplicas,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: p.autoscaling.targetCpuUtilization } } }],
      },
    };
  }
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, JSON.stringify(v, null, 2)]));
}
