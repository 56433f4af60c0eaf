import { ProxyProtocolVersion } from '../../model/model';
import { RouteProtocol, TracedGateway, addRoute, hostParts } from '../../model/trace-model';
import { WorkloadIndex } from '../../trace/workload-index';
import { Finding } from '../explain-report';
import { readList, readString } from '../read-values';
import { objectWhere } from '../skipped';
import { listOf, namespaceOf } from './objects';

/* Routes (VirtualServices, Gateway API routes) and DestinationRules that send PROXY protocol, to workloads. */

/**
 * Workloads that receive PROXY protocol from every mesh client of their host: a DestinationRule with
 * `trafficPolicy.proxyProtocol` on a Service that selects them.
 */
export function proxyProtocolTargets(destinationRules: any[], workloads: WorkloadIndex): Map<string, ProxyProtocolVersion> {
  const targets = new Map<string, ProxyProtocolVersion>();
  for (const dr of destinationRules) {
    const pp = dr.spec?.trafficPolicy?.proxyProtocol;
    if (pp === undefined || pp === null || typeof dr.spec?.host !== 'string') continue;
    const version = pp.version === 'V1' ? ProxyProtocolVersion.V1 : ProxyProtocolVersion.V2;
    const [name, ns] = hostParts(dr.spec.host, namespaceOf(dr));
    workloads.behind(name, ns).forEach(w => targets.set(`${w.namespace}/${w.name}`, version));
  }
  return targets;
}

/** Follows VirtualServices bound to each gateway to the Services they route to, and those to workloads. */
export function routesOf(gateways: TracedGateway[], virtualServices: any[], gatewayApiBackends: Map<string, Array<[string, string, RouteProtocol]>>,
  workloads: WorkloadIndex, findings: Finding[]): Map<string, Map<string, Set<RouteProtocol>>> {
  const routes = new Map<string, Map<string, Set<RouteProtocol>>>();
  const byGateway = new Map<string, any[]>();
  for (const vs of virtualServices) {
    const ctx = { where: objectWhere(vs), findings };
    for (const g of new Set(readList(ctx, 'spec.gateways', vs.spec?.gateways))) {
      if (typeof g !== 'string') {
        readString(ctx, 'spec.gateways[]', g);
        continue;
      }
      const key = g.includes('/') ? g : `${namespaceOf(vs)}/${g}`;
      const list = byGateway.get(key);
      if (list) list.push(vs);
      else byGateway.set(key, [vs]);
    }
  }
  for (const gw of gateways) {
    const bound = [...new Set(gw.gatewayResources.flatMap(r => byGateway.get(r) ?? []))];
    const backends = gw.gatewayResources.flatMap(r => gatewayApiBackends.get(r) ?? []);
    if (bound.length === 0 && backends.length === 0) continue;
    const key = `${gw.model.namespace}/${gw.model.name}`;
    routes.set(key, new Map());
    for (const [name, ns, protocol] of backends) workloads.behind(name, ns).forEach(w => addRoute(routes, key, `${w.namespace}/${w.name}`, protocol));
    for (const vs of bound) {
      for (const [section, protocol] of [['http', 'HTTP'], ['tcp', 'TCP'], ['tls', 'TCP']] as Array<[string, RouteProtocol]>) {
        const hosts: unknown[] = listOf(vs.spec?.[section]).flatMap((r: any) => listOf(r?.route).map((d: any) => d?.destination?.host));
        for (const host of hosts) {
          if (typeof host !== 'string') continue;
          const [name, ns] = hostParts(host, namespaceOf(vs));
          workloads.behind(name, ns).forEach(w => addRoute(routes, key, `${w.namespace}/${w.name}`, protocol));
        }
      }
    }
  }
  return routes;
}
