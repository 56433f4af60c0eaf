import { Finding, FindingSeverity } from './findings';
import { GatewayModel, ProxyProtocolMode } from './model';

/*
 * The checks of a gateway's ports against its PROXY protocol settings, on the gateway model: ProxyProtocolGateway
 * runs them on its own model (errors fail synthesis), `explain` on every gateway it read, so both report the same
 * finding for the same objects.
 */

/** Where a finding about `gateway` is reported. */
export function gatewayWhere(gateway: GatewayModel): string {
  return `gateway ${gateway.namespace}/${gateway.name}`;
}

/**
 * Findings about the ports that accept PROXY protocol: ports listed without a server, and server ports left without
 * PROXY while the load balancer sends it on every port (`loadBalancerSendsOnEveryPort`: its Service annotations
 * switch PROXY on for every target, not per listener).
 */
export function checkGatewayPorts(gateway: GatewayModel, loadBalancerSendsOnEveryPort: boolean): Finding[] {
  if (gateway.proxyProtocol === ProxyProtocolMode.OFF) return [];
  const where = gatewayWhere(gateway);
  const findings: Finding[] = [];
  const serverPorts = [...new Set(gateway.servers.map(s => s.port))];
  const listed = gateway.proxyProtocolPorts ?? [];
  const unknown = listed.filter(p => !serverPorts.includes(p));
  if (unknown.length > 0) {
    findings.push({
      severity: FindingSeverity.ERROR,
      where,
      message: `proxyProtocolPorts ${JSON.stringify(unknown)} have no server on gateway "${gateway.name}" (servers: ${JSON.stringify(serverPorts)})`,
      fix: 'add the servers or remove the ports',
    });
  }
  const covered = gateway.proxyProtocol === ProxyProtocolMode.STRICT ? serverPorts : listed;
  const withoutProxy = serverPorts.filter(p => !covered.includes(p));
  if (withoutProxy.length > 0 && loadBalancerSendsOnEveryPort) {
    findings.push({
      severity: FindingSeverity.ERROR,
      where,
      message: `proxyProtocolPorts ${JSON.stringify(listed)} leave ports ${JSON.stringify(withoutProxy)} without PROXY, but the load balancer's Service annotations switch PROXY on for every port: `
        + 'there the header would not be stripped (HTTP parsing fails, TCP and TLS passthrough backends get its bytes)',
      fix: 'add those ports to proxyProtocolPorts, or switch PROXY on per listener at the load balancer instead of by Service annotation (loadBalancerProxyProtocolAnnotations: false)',
    });
  }
  return findings;
}
