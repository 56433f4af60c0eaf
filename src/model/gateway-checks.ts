import { LB_PROXY_PROTOCOL_ANNOTATION } from './annotations';
import { Finding, FindingSeverity } from './findings';
import { unreadProxyProtocolAnnotations } from './load-balancers';
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

/**
 * Findings about the gateway Service's annotations that look like a load balancer's PROXY protocol switch but that
 * the load-balancer table cannot read (a provider it does not know, or a value the provider's controller does not
 * read): the load balancer may send PROXY while neither the constructs nor `explain` know it, so the gateway would
 * take the PROXY header for the start of the request, or explain would trace the wrong client. Never a silent guess.
 *
 * @param gateway the gateway, for `where`
 * @param annotations the annotations of the gateway's Service
 */
export function checkLoadBalancerAnnotations(gateway: { readonly namespace: string; readonly name: string },
  annotations: { readonly [key: string]: string }): Finding[] {
  return unreadProxyProtocolAnnotations({ ...annotations }).map(a => ({
    severity: FindingSeverity.WARNING,
    where: `gateway ${gateway.namespace}/${gateway.name}`,
    message: a.why === 'unknown key'
      ? `Service annotation "${a.key}: ${a.value}" looks like a load balancer's PROXY protocol switch, but the load-balancer table knows no provider with this annotation: whether the load balancer sends PROXY protocol, and which version, is unknown, and the client address is traced as if it did not`
      : `Service annotation "${a.key}: ${a.value}" is ${a.provider}'s PROXY protocol switch, but its controller does not read this value: whether the load balancer sends PROXY protocol is unknown, and the client address is traced as if it did not`,
    fix: `if the load balancer sends PROXY protocol, say so with the annotation ${LB_PROXY_PROTOCOL_ANNOTATION}: "v1" or "v2" (in the constructs: a LoadBalancerProfile and ProxyProtocolGateway); otherwise remove the annotation`,
  }));
}
