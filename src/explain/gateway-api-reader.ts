import { AgentEnv, proxyContainerEnv } from './agent-env';
import { Finding, FindingSeverity } from './explain-report';
import { parseEmbeddedYaml } from './input';
import { ReadContext, readList, readPort, readString, shortValue, wrongShape } from './read-values';
import { objectWhere } from './skipped';
import { GATEWAY_API_GROUP, GATEWAY_NAME_LABEL, gatewayApiResourceKey, GatewayOverlay, generatedServiceName, ISTIO_GATEWAY_CLASS } from '../model/gateway-api';
import { PolicyTargetRef, ServerModel } from '../model/model';
import { RouteProtocol } from '../model/trace-model';

/*
 * Gateway API objects read back into what the rest of the parser understands (internal): a Gateway of class istio
 * is a gateway whose pods Istio generates (labelled with the gateway's name) behind a Service `<name>-istio` that
 * its parametersRef ConfigMap's `service` overlay shapes; its listeners are the servers; HTTPRoutes, TCPRoutes and
 * TLSRoutes are the routes; policies attached with targetRefs reach the gateway's pods.
 */

/** What a Gateway API Gateway tells about the gateway Istio deploys for it. */
export interface GatewayApiGateway {
  readonly name: string;
  readonly namespace: string;
  /** Labels of the generated pods. */
  readonly podLabels: { [key: string]: string };
  /** Annotations the generated pods get: `spec.infrastructure.annotations` when set, else the Gateway's. */
  readonly podAnnotations: { [key: string]: string };
  /** The Gateway's own annotations (the library's facts, such as the trust chain). */
  readonly ownerAnnotations: { [key: string]: string };
  /** The Service Istio generates, as the overlay shapes it (unless the input holds the real one). */
  readonly service: any;
  /** One server per listener. */
  readonly servers: ServerModel[];
  /** The key routes use to name it. */
  readonly resourceKey: string;
  /** Env of the istio-proxy container from the parametersRef ConfigMap's `deployment` overlay. */
  readonly overlayEnv: AgentEnv;
}

/** The key of a Gateway API Gateway as routes name it. */
export { gatewayApiResourceKey };

export function readGatewayApiGateway(gw: any, configMaps: Map<string, any>, findings: Finding[]): GatewayApiGateway {
  const name = String(gw.metadata?.name ?? 'gateway');
  const namespace = String(gw.metadata?.namespace ?? 'default');
  const ctx: ReadContext = { where: objectWhere(gw), findings };
  const ownerAnnotations = stringMap(gw.metadata?.annotations);
  const infra = gw.spec?.infrastructure;
  const infraAnnotations = infra?.annotations !== undefined && infra?.annotations !== null ? stringMap(infra.annotations) : undefined;
  const podAnnotations = infraAnnotations ?? ownerAnnotations;
  const overlay = serviceOverlay(gw, infra?.parametersRef, namespace, configMaps, ctx);
  const servers = readListeners(gw, ctx);
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: generatedServiceName(name, String(gw.spec?.gatewayClassName ?? ISTIO_GATEWAY_CLASS)),
      namespace,
      annotations: { ...podAnnotations, ...stringMap(overlay?.metadata?.annotations) },
    },
    spec: {
      type: podAnnotations['networking.istio.io/service-type'] ?? 'LoadBalancer',
      ...(overlay?.spec?.externalTrafficPolicy !== undefined ? { externalTrafficPolicy: overlay.spec.externalTrafficPolicy } : {}),
      ...(overlay?.spec?.loadBalancerClass !== undefined ? { loadBalancerClass: overlay.spec.loadBalancerClass } : {}),
      selector: { [GATEWAY_NAME_LABEL]: name },
      ports: servers.map(s => ({ port: s.port, targetPort: s.port })),
    },
  };
  return {
    name,
    namespace,
    podLabels: { [GATEWAY_NAME_LABEL]: name },
    podAnnotations,
    ownerAnnotations,
    service,
    servers,
    resourceKey: gatewayApiResourceKey(namespace, name),
    overlayEnv: deploymentOverlayEnv(gw, infra?.parametersRef, namespace, configMaps, ctx),
  };
}

/** The istio-proxy env of the parametersRef ConfigMap's `deployment` overlay (Istio merges containers by name). */
function deploymentOverlayEnv(gw: any, ref: any, namespace: string, configMaps: Map<string, any>, ctx: ReadContext): AgentEnv {
  if (ref === undefined || ref === null || ref.kind !== 'ConfigMap' || (ref.group ?? '') !== '') return new Map();
  const configMap = configMaps.get(`${namespace}/${ref.name}`);
  const text = configMap?.data?.[GatewayOverlay.DEPLOYMENT];
  if (text === undefined) return new Map();
  const parsed = parseOverlay(gw, configMap, GatewayOverlay.DEPLOYMENT, String(text), namespace, ctx);
  return proxyContainerEnv(parsed?.spec?.template?.spec, `${objectWhere(configMap)} data.${GatewayOverlay.DEPLOYMENT} env`);
}

function parseOverlay(gw: any, configMap: any, key: string, text: string, namespace: string, ctx: ReadContext): any {
  try {
    const parsed = parseEmbeddedYaml(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`it is ${shortValue(parsed)}, not a map`);
    return parsed;
  } catch (e) {
    ctx.findings.push({ severity: FindingSeverity.ERROR, where: objectWhere(configMap), message: `data.${key} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, fix: 'fix the overlay; Istio cannot deploy the gateway of ' + `${namespace}/${gw.metadata?.name}` });
    return undefined;
  }
}

/** The `service` overlay of the parametersRef ConfigMap (a local ConfigMap, as Istio reads it). */
function serviceOverlay(gw: any, ref: any, namespace: string, configMaps: Map<string, any>, ctx: ReadContext): any {
  if (ref === undefined || ref === null) return undefined;
  if (ref.kind !== 'ConfigMap' || (ref.group ?? '') !== '') {
    ctx.findings.push({ severity: FindingSeverity.ERROR, where: ctx.where, message: `spec.infrastructure.parametersRef ${shortValue(ref)} is not a ConfigMap: Istio accepts only a ConfigMap in the Gateway's namespace and does not deploy the gateway`, fix: 'refer to a ConfigMap (group "", kind ConfigMap)' });
    return undefined;
  }
  const configMap = configMaps.get(`${namespace}/${ref.name}`);
  if (!configMap) {
    ctx.findings.push({ severity: FindingSeverity.WARNING, where: ctx.where, message: `spec.infrastructure.parametersRef names ConfigMap ${namespace}/${shortValue(ref.name)}, which is not in the input: explain assumes the generated Service has Istio's defaults (externalTrafficPolicy Cluster)`, fix: 'give the ConfigMap to explain too' });
    return undefined;
  }
  const text = configMap.data?.[GatewayOverlay.SERVICE];
  if (text === undefined) return undefined;
  return parseOverlay(gw, configMap, GatewayOverlay.SERVICE, String(text), namespace, ctx);
}

function readListeners(gw: any, ctx: ReadContext): ServerModel[] {
  return readList(ctx, 'spec.listeners', gw.spec?.listeners).flatMap((l: any, i: number) => {
    const field = `spec.listeners[${i}]`;
    if (l === null || typeof l !== 'object' || Array.isArray(l)) {
      wrongShape(ctx, field, l, 'a map with name, port and protocol');
      return [];
    }
    const port = readPort(ctx, `${field}.port`, l.port);
    if (port === undefined) return [];
    const protocol = (readString(ctx, `${field}.protocol`, l.protocol) ?? 'HTTP').toUpperCase();
    const hostname = readString(ctx, `${field}.hostname`, l.hostname);
    const tlsMode = tlsModeOf(protocol, readString(ctx, `${field}.tls.mode`, l.tls?.mode));
    return [{ port, protocol, hosts: [hostname ?? '*'], ...(tlsMode !== undefined ? { tlsMode } : {}), targetPort: port }];
  });
}

/** A listener's TLS mode in Istio's words (Terminate is SIMPLE). */
function tlsModeOf(protocol: string, mode: string | undefined): string | undefined {
  if (protocol === 'HTTPS') return mode === 'Passthrough' ? 'PASSTHROUGH' : 'SIMPLE';
  if (protocol === 'TLS') return mode === 'Terminate' ? 'SIMPLE' : 'PASSTHROUGH';
  return undefined;
}

/** Each route's Gateway parents (resource keys) and its backend Services as `[name, namespace]`. */
export function gatewayApiRouteBackends(routes: any[], findings: Finding[]): Map<string, Array<[string, string, RouteProtocol]>> {
  const byGateway = new Map<string, Array<[string, string, RouteProtocol]>>();
  for (const route of routes) {
    const ns = String(route.metadata?.namespace ?? 'default');
    const ctx: ReadContext = { where: objectWhere(route), findings };
    // TCPRoutes and TLSRoutes (passthrough) carry connections; HTTPRoutes and GRPCRoutes carry requests.
    const protocol: RouteProtocol = route.kind === 'TCPRoute' || route.kind === 'TLSRoute' ? 'TCP' : 'HTTP';
    const backends: Array<[string, string, RouteProtocol]> = readList(ctx, 'spec.rules', route.spec?.rules)
      .flatMap((r: any) => listOf(r?.backendRefs))
      .filter((b: any) => typeof b?.name === 'string' && (b.kind ?? 'Service') === 'Service' && (b.group ?? '') === '')
      .map((b: any) => [b.name, typeof b.namespace === 'string' ? b.namespace : ns, protocol]);
    for (const parent of readList(ctx, 'spec.parentRefs', route.spec?.parentRefs) as any[]) {
      if ((parent?.kind ?? 'Gateway') !== 'Gateway' || (parent?.group ?? GATEWAY_API_GROUP) !== GATEWAY_API_GROUP || typeof parent?.name !== 'string') continue;
      const key = gatewayApiResourceKey(typeof parent.namespace === 'string' ? parent.namespace : ns, parent.name);
      byGateway.set(key, [...(byGateway.get(key) ?? []), ...backends]);
    }
  }
  return byGateway;
}

/**
 * A policy's targetRefs to Gateway API Gateways, each with the labels of the pods it reaches; other targets
 * (waypoints' Services, ServiceEntries) are left to the caller.
 */
export function gatewayTargetRefs(policy: any): Array<{ ref: PolicyTargetRef; selector: { [key: string]: string } }> {
  const refs = [...listOf(policy.spec?.targetRefs), ...(policy.spec?.targetRef ? [policy.spec.targetRef] : [])];
  return refs
    .filter((r: any) => r?.kind === 'Gateway' && r?.group === GATEWAY_API_GROUP && typeof r?.name === 'string')
    .map((r: any) => ({ ref: { group: GATEWAY_API_GROUP, kind: 'Gateway', name: r.name }, selector: { [GATEWAY_NAME_LABEL]: r.name } }));
}

function stringMap(value: unknown): { [key: string]: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, v]) => typeof v === 'string')) as { [key: string]: string };
}

function listOf(value: unknown): any[] {
  return Array.isArray(value) ? value : [];
}
