import { STATUS_PORT } from '../envoy/names';
import { HEALTH_CHECK_FIX_ANNOTATION, STATUS_PORT_PROXY_PROTOCOL_ENV } from '../model/annotations';
import { Finding, FindingSeverity } from '../model/findings';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL } from '../model/gateway-api';
import { HealthCheckFix } from '../model/health-check-fix';
import { IstioVersion } from '../model/istio-version';
import { LOAD_BALANCERS } from '../model/load-balancers';
import { ProxyProtocolMode } from '../model/model';
import { isTrueEnv, TracedGateway } from '../model/trace-model';

/*
 * Whether the load balancer's health checks get past a gateway that takes PROXY protocol (internal). Load balancers
 * whose health checks go to the status port 15021 with a PROXY header (istio/istio#25875, #39868) mark every
 * target unhealthy unless the status port accepts PROXY (ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL, Istio 1.27+) or
 * the Service's health-check annotations switch to a TCP check of the traffic port. The same facts decide what
 * ProxyProtocolGateway renders, so explain and the constructs agree.
 */

/** Findings on the health checks of gateways behind a load balancer that sends PROXY. */
export function statusPortFindings(gateways: TracedGateway[], version: IstioVersion): Finding[] {
  return gateways.flatMap(g => statusPortFinding(g, version) ?? []);
}

function statusPortFinding(g: TracedGateway, version: IstioVersion): Finding | undefined {
  if (!g.loadBalancerSendsProxyProtocol || g.model.proxyProtocol === ProxyProtocolMode.OFF || g.loadBalancerId === undefined) return undefined;
  // A fix the construct was told about (and rendered) replaces the table's.
  if (Object.values(HealthCheckFix).includes(g.serviceAnnotations[HEALTH_CHECK_FIX_ANNOTATION] as HealthCheckFix)) return undefined;
  const facts = LOAD_BALANCERS[g.loadBalancerId]?.proxyProtocol;
  if (facts?.healthCheckFix !== HealthCheckFix.STATUS_PORT_OR_TCP_CHECK) return undefined;
  const tcpCheck = facts.healthCheckAnnotations ?? {};
  if (Object.keys(tcpCheck).length > 0 && Object.entries(tcpCheck).every(([k, v]) => g.serviceAnnotations[k] === v)) return undefined;
  const env = g.statusPortProxyProtocolEnv;
  const envOn = isTrueEnv(env?.value);
  if (envOn && version.supportsStatusPortProxyProtocol) return undefined;
  const where = `gateway ${g.model.namespace}/${g.model.name}`;
  const isGatewayApi = g.gatewayResources.some(r => r.startsWith(`${GATEWAY_API_GROUP}:`));
  // A Gateway API gateway's Service is generated: its annotations come from the parametersRef service overlay.
  const service = isGatewayApi ? `${g.model.serviceName ?? g.model.name} (the service overlay of the parametersRef ConfigMap)` : g.model.serviceName ?? g.model.name;
  const annotations = Object.entries(tcpCheck).map(([k, v]) => `${k}: "${v}"`).join(', ');
  const problem = `load balancer "${g.loadBalancerId}" sends PROXY protocol on its health checks of the status port ${STATUS_PORT}`;
  if (env !== undefined && env.value === undefined) {
    return {
      severity: FindingSeverity.WARNING,
      where,
      message: `${problem}: ${STATUS_PORT_PROXY_PROTOCOL_ENV} comes from ${env.source}, which explain cannot read; unless it is "true" (Istio 1.27+), the status port rejects the health checks and every target goes unhealthy`,
      fix: `make sure it resolves to "true"${version.supportsStatusPortProxyProtocol ? '' : ' and upgrade to Istio 1.27+'}, or set ${annotations} on Service ${service}`,
    };
  }
  if (!g.agentEnvKnown && !envOn) {
    return {
      severity: FindingSeverity.INFO,
      where,
      message: `${problem}: the gateway's pods are not in the input, so explain cannot tell whether ${STATUS_PORT_PROXY_PROTOCOL_ENV} is set on their istio-proxy container`,
      fix: `check that the installation sets ${STATUS_PORT_PROXY_PROTOCOL_ENV}: "true" (Istio 1.27+), or set ${annotations} on Service ${service}`,
    };
  }
  if (envOn) {
    return {
      severity: FindingSeverity.ERROR,
      where,
      message: `${problem}, and ${STATUS_PORT_PROXY_PROTOCOL_ENV} (${env?.source}) is ignored before Istio 1.27 (running ${version.label}): the status port rejects the health checks and every target goes unhealthy`,
      fix: `set ${annotations} on Service ${service} (a TCP check of the traffic port), or upgrade to Istio 1.27+`,
    };
  }
  const envSources = isGatewayApi
    ? `a ProxyConfig in namespace ${g.model.namespace} selecting ${GATEWAY_NAME_LABEL}: ${g.model.name} (environmentVariables), or the istio-proxy env in the deployment overlay of the parametersRef ConfigMap`
    : 'a ProxyConfig selecting its pods (environmentVariables), proxyMetadata in proxy.istio.io/config, or the istio-proxy container env of the pod template';
  const envFix = `set ${STATUS_PORT_PROXY_PROTOCOL_ENV}: "true" for the gateway's istio-proxy (${envSources}) and recreate the pods, or `;
  return {
    severity: FindingSeverity.ERROR,
    where,
    message: `${problem}, which does not accept PROXY${env ? ` (${STATUS_PORT_PROXY_PROTOCOL_ENV} is "${env.value}" from ${env.source})` : ''}: the health checks fail and every target goes unhealthy`,
    fix: `${version.supportsStatusPortProxyProtocol ? envFix : ''}set ${annotations} on Service ${service} (a TCP check of the traffic port)${version.supportsStatusPortProxyProtocol ? '' : '; the status port accepts PROXY only from Istio 1.27'}`,
  };
}
