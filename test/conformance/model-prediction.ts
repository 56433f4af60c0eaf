import { IConstruct } from 'constructs';
import { parseManifests } from '../../src/explain/manifest-parser';
import { ClientIpField, GatewayModel, ISourceIpTarget, ProxyRole, WorkloadModel } from '../../src/model/model';

/*
 * The one place the conformance comparison reads the library's model: manifests in, what the model says each
 * proxy does with the client address out. Everything else under test/conformance works on these plain types.
 */

/** How the model says a proxy accepts PROXY protocol on its listeners. */
export interface PredictedProxyProtocol {
  /** off, strict (every listener), optional, or strict-per-port. */
  readonly mode: string;
  /** Listener ports it applies to; empty means every listener. */
  readonly ports: number[];
}

/** How the model says a sidecar's inbound HTTP connection manager reads X-Forwarded-For. */
export interface PredictedXff {
  /** default, use-remote-address, trusted-hops or trusted-cidrs. */
  readonly mode: string;
  readonly hops: number;
  readonly cidrs: string[];
  /** Pod ports the setting covers; empty means every inbound port. */
  readonly ports: number[];
}

/** What the model says about one proxy. */
export interface PredictedProxy {
  readonly namespace: string;
  readonly name: string;
  readonly labels: { [key: string]: string };
  /** gateway or sidecar. */
  readonly role: string;
  /** Gateways: X-Forwarded-For hops trusted. */
  readonly trustedHops?: number;
  /** Gateways: PROXY protocol per listener. */
  readonly proxyProtocol?: PredictedProxyProtocol;
  /** Sidecars: REDIRECT, TPROXY or NONE. */
  readonly interceptionMode?: string;
  /** Sidecars: inbound XFF handling. */
  readonly xff?: PredictedXff;
  /** Sidecars: true when the inbound listener accepts PROXY protocol. */
  readonly inboundProxyProtocol?: boolean;
}

/** A source-address rule of an AuthorizationPolicy, as the model reads it. */
export interface PredictedPolicy {
  readonly name: string;
  readonly namespace: string;
  readonly selector: { [key: string]: string };
  /** ALLOW or DENY. */
  readonly action: string;
  /** ipBlocks or remoteIpBlocks. */
  readonly field: string;
  readonly negated: boolean;
  readonly cidrs: string[];
}

/** The model's view of one object set. */
export interface Prediction {
  readonly proxies: PredictedProxy[];
  readonly policies: PredictedPolicy[];
}

/** The model's reading of a set of manifests (the same reading `explain` uses). */
export function predict(manifests: any[]): Prediction {
  const parsed = parseManifests(manifests);
  const policies: PredictedPolicy[] = parsed.policies.map(p => ({
    name: p.name,
    namespace: p.namespace,
    selector: p.selector,
    action: p.action,
    field: p.field === ClientIpField.REMOTE_IP_BLOCKS ? 'remoteIpBlocks' : 'ipBlocks',
    negated: p.negated,
    cidrs: [...p.cidrs],
  }));
  return { proxies: [...parsed.gateways.map(g => fromGateway(g.model)), ...sidecars(parsed.workloads)], policies };
}

/**
 * What the constructs under `scope` say about their own gateways and workloads (`_gatewayModel()` /
 * `_workloadModel()`), read after synthesis: what the library meant, before any manifest was written.
 */
export function declaredProxies(scope: IConstruct): PredictedProxy[] {
  const targets = scope.node.findAll().filter((c): c is ISourceIpTarget & IConstruct =>
    typeof (c as any).gatewayModel === 'function' && typeof (c as any).workloadModel === 'function');
  const proxies = [
    ...targets.flatMap(t => t._gatewayModel() ?? []).map(fromGateway),
    ...sidecars(targets.flatMap(t => t._workloadModel() ?? [])),
  ];
  return proxies.filter((p, i) => proxies.findIndex(q => q.namespace === p.namespace && q.name === p.name) === i);
}

function fromGateway(model: GatewayModel): PredictedProxy {
  return {
    namespace: model.namespace,
    name: model.name,
    labels: model.selector,
    role: 'gateway',
    trustedHops: model.numTrustedProxies,
    proxyProtocol: { mode: model.proxyProtocol, ports: model.proxyProtocolPorts.map(p => listenerPort(model, p)) },
  };
}

/**
 * The gateway listener a PROXY port names. Constructs list Service ports (443), manifests read back list the
 * EnvoyFilter's `portNumber`, which is the pod's listener port (8443): map the former through the server's targetPort.
 */
function listenerPort(model: GatewayModel, port: number): number {
  return model.servers.find(s => s.port === port && s.targetPort !== undefined)?.targetPort ?? port;
}

function sidecars(workloads: WorkloadModel[]): PredictedProxy[] {
  return workloads.filter(w => w.role === ProxyRole.SIDECAR).map(w => ({
    namespace: w.namespace,
    name: w.name,
    labels: w.selector,
    role: 'sidecar',
    interceptionMode: w.interceptionMode,
    xff: { mode: w.xffMode, hops: w.xffTrustedHops ?? 0, cidrs: [...(w.xffTrustedCidrs ?? [])], ports: [...(w.xffPorts ?? [])] },
    inboundProxyProtocol: w.proxyProtocolOnEveryPort === true || (w.proxyProtocolPorts ?? []).length > 0,
  }));
}
