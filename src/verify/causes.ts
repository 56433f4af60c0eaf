import { PathView } from './compare';
import { IstioVersion } from '../model/istio-version';
import { ExternalTrafficPolicy, InterceptionMode, ProxyProtocolMode, ProxyRole, WorkloadModel } from '../model/model';
import { MAX_ASSUMED_PROXIES, TracedGateway, TraceModel } from '../model/trace-model';
import { TrustChain, TrustHop } from '../model/trust-chain';
import { trace } from '../trace/app-trace';
import { ASSUMED_PROXY_PREFIX } from '../trace/gateway-hop';
import { PathTrace } from '../trace/trace-types';

/*
 * The likely causes of a mismatch are alternative models: the manifests' model with one fact changed, traced by the
 * same trace(). A cause is listed when its model predicts observations the manifests' model does not.
 */

/** A model with one fact changed, and what that fact means on the cluster. */
export interface Alternative {
  /** A stable id, e.g. `external-traffic-policy-cluster`. */
  readonly id: string;
  /** The cause in words, naming the object. */
  readonly cause: string;
  /** The alternative's paths. */
  readonly view: () => PathView;
}

/** The name of the proxy an alternative adds in front of a declared trust chain. */
const UNDECLARED_PROXY = 'undeclared-proxy';

/** Gateways and workloads varied one by one: beyond these, the causes would grow with the cluster. */
export const MAX_VARIED_OBJECTS = 8;

/** Every alternative of `model`: each changes one fact of one gateway or workload, the Istio release, or the path. */
export function alternatives(model: TraceModel, version: IstioVersion, basePaths: PathTrace[]): Alternative[] {
  const out: Alternative[] = [];
  const traced = (m: TraceModel, v: IstioVersion = version) => () => ({ paths: trace(m, v).paths });
  model.gateways.slice(0, MAX_VARIED_OBJECTS).forEach((g, i) => {
    const where = `gateway ${g.model.namespace}/${g.model.name}`;
    const withGateway = (changed: Partial<TracedGateway>): TraceModel => ({
      ...model, gateways: model.gateways.map((x, j) => (j === i ? { ...x, ...changed } : x)),
    });
    const withModel = (changed: Partial<TracedGateway['model']>) => withGateway({ model: { ...g.model, ...changed } });
    const m = g.model;
    const external = g.serviceType === 'LoadBalancer' || g.serviceType === 'NodePort' || g.serviceType === undefined;
    if (external && (m.externalTrafficPolicy === ExternalTrafficPolicy.LOCAL || m.loadBalancerPreservesSource)) {
      out.push({
        id: 'source-not-preserved',
        view: traced(withModel({ externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, loadBalancerPreservesSource: false })),
        cause: `the load balancer does not preserve the source at ${where}: kube-proxy SNATs to a node address (the cluster's Service has externalTrafficPolicy: Cluster, or the load balancer is not the one the manifests describe)`,
      });
    } else if (external) {
      out.push({
        id: 'source-preserved',
        view: traced(withModel({ externalTrafficPolicy: ExternalTrafficPolicy.LOCAL })),
        cause: `the source is preserved at ${where}: the cluster's Service has externalTrafficPolicy: Local, or its load balancer keeps the client as the packet source`,
      });
    }
    for (const delta of [1, -1]) {
      for (const v of hopCountVariants(g, delta)) out.push({ id: v.id, view: traced(withGateway(v.changed)), cause: `hop count one off at ${where}: ${v.text}` });
    }
    const proxy = proxyProtocolVariant(g);
    if (proxy) out.push({ id: proxy.id, view: traced(withGateway(proxy.changed)), cause: `${proxy.text} at ${where}` });
    if (m.clientAddressHeader !== undefined) {
      out.push({
        id: 'client-address-header-not-written',
        view: traced(withModel({ clientAddressHeader: undefined })),
        cause: `${where} does not write ${m.clientAddressHeader} (its VirtualService or EnvoyFilter is not applied on the cluster): the app gets what the caller sent, if anything`,
      });
    }
  });
  model.workloads.slice(0, MAX_VARIED_OBJECTS).forEach((w, i) => {
    if (w.role !== ProxyRole.SIDECAR || w.interceptionMode === InterceptionMode.NONE) return;
    if (w.clientAddressHeader !== undefined) {
      out.push({
        id: 'client-address-header-not-written',
        view: traced({ ...model, workloads: model.workloads.map((x, j) => (j === i ? { ...w, clientAddressHeader: undefined } : x)) }),
        cause: `the sidecar of workload ${w.namespace}/${w.name} does not write ${w.clientAddressHeader} (its EnvoyFilter is not applied on the cluster): the app gets what reached the sidecar`,
      });
    }
    const other = w.interceptionMode === InterceptionMode.TPROXY ? InterceptionMode.REDIRECT : InterceptionMode.TPROXY;
    const changed: WorkloadModel = { ...w, interceptionMode: other };
    out.push({
      id: `interception-${other.toLowerCase()}`,
      view: traced({ ...model, workloads: model.workloads.map((x, j) => (j === i ? changed : x)) }),
      cause: `REDIRECT vs TPROXY: the sidecar of workload ${w.namespace}/${w.name} intercepts with ${other}, not ${w.interceptionMode} (the running pods' sidecar.istio.io/interceptionMode)`,
    });
  });
  const otherRelease = version.noInternalAddressesByDefault ? IstioVersion.OLDEST : IstioVersion.LATEST;
  if (otherRelease.noInternalAddressesByDefault !== version.noInternalAddressesByDefault) {
    out.push({
      id: 'istio-release',
      view: traced(model, otherRelease),
      cause: `the cluster runs an Istio release whose Envoy ${otherRelease.noInternalAddressesByDefault ? 'treats no address as internal (1.25 and later)' : 'treats private addresses as internal (1.24): no X-Envoy-External-Address for them'}, not ${version}`,
    });
  }
  out.push({
    id: 'bypassed-gateway',
    view: () => ({ paths: basePaths, redirect: p => basePaths.find(e => e.direction === 'east-west' && p.title.includes(' -> ') && e.title.endsWith(p.title.slice(p.title.lastIndexOf(' -> ') + 4))) }),
    cause: 'the request bypassed the gateway: it reached the workload from inside the cluster (a port-forward, a pod, a NodePort on the workload\'s Service), so no gateway or proxy in front touched it',
  });
  return out;
}

/**
 * The gateway trusting one hop more or fewer than the proxies in front (its pods run with another numTrustedProxies),
 * and, when no trust chain is declared (the trace then assumes numTrustedProxies appending proxies in front), one
 * proxy more or fewer in front than counted, or both numbers one off together.
 */
function hopCountVariants(g: TracedGateway, delta: number): Array<{ id: string; changed: Partial<TracedGateway>; text: string }> {
  const m = g.model;
  const out: Array<{ id: string; changed: Partial<TracedGateway>; text: string }> = [];
  const word = delta > 0 ? 'plus' : 'minus';
  const n = m.numTrustedProxies + delta;
  if (n < 0 || n > MAX_ASSUMED_PROXIES) return out;
  const trusted = `the running pods' gatewayTopology.numTrustedProxies (proxy.istio.io/config or meshConfig) is ${n}, not ${m.numTrustedProxies}`;
  if (g.trustChain) {
    out.push({ id: `num-trusted-proxies-${word}-one`, changed: { model: { ...m, numTrustedProxies: n } }, text: `the gateway trusts ${n} hops: ${trusted}` });
    const hops = g.trustChain.hops;
    const firstAppending = hops.findIndex(h => h.appendsXff);
    if (delta > 0) {
      out.push({
        id: 'hop-count-plus-one',
        changed: { trustChain: TrustChain.of(TrustHop.l7LoadBalancer({ name: UNDECLARED_PROXY }), ...hops) },
        text: `a proxy in front of ${hops[0]?.name ?? 'the gateway'} appends X-Forwarded-For, but the trust chain does not declare it (numTrustedProxies ${m.numTrustedProxies} does not count it)`,
      });
    } else if (firstAppending >= 0) {
      out.push({
        id: 'hop-count-minus-one',
        changed: { trustChain: TrustChain.of(...hops.filter((_, j) => j !== firstAppending)) },
        text: `${hops[firstAppending].name} is not in front (the client reaches the next hop directly), but numTrustedProxies ${m.numTrustedProxies} counts it`,
      });
    }
    return out;
  }
  const chain = (count: number) => {
    const hops: TrustHop[] = [];
    for (let i = 1; i <= count; i++) hops.push(TrustHop.l7LoadBalancer({ name: `${ASSUMED_PROXY_PREFIX}${i}` }));
    if (g.serviceType === 'LoadBalancer') hops.push(g.loadBalancerSendsProxyProtocol ? TrustHop.l4ProxyProtocol({ name: 'cloud-lb' }) : TrustHop.l4PassThrough({ name: 'cloud-lb' }));
    return TrustChain.of(...hops);
  };
  const count = m.numTrustedProxies;
  out.push({
    id: `num-trusted-proxies-${word}-one`,
    changed: { model: { ...m, numTrustedProxies: n }, trustChain: chain(count) },
    text: `the gateway trusts ${n} of the ${count} proxies in front: ${trusted}`,
  });
  out.push({
    id: `hop-count-${word}-one`,
    changed: { trustChain: chain(n) },
    text: `${n} proxies in front append X-Forwarded-For, but numTrustedProxies counts ${count} (${delta > 0 ? 'a proxy in front that the gateway does not count' : 'one proxy fewer in front than counted'})`,
  });
  out.push({
    id: `proxies-in-front-${word}-one`,
    changed: { model: { ...m, numTrustedProxies: n } },
    text: `${n} proxies in front, all trusted: ${trusted}, and that many proxies append X-Forwarded-For`,
  });
  return out;
}

/** The load balancer sending PROXY when the model says it does not (and the gateway accepts it), or the reverse. */
function proxyProtocolVariant(g: TracedGateway): { id: string; changed: Partial<TracedGateway>; text: string } | undefined {
  const accepts = g.model.proxyProtocol !== ProxyProtocolMode.OFF;
  if (g.trustChain) {
    const senders = g.trustChain.hops.filter(h => h.sendsProxyProtocol);
    if (senders.length > 0) {
      const hops = g.trustChain.hops.map(h => (h.sendsProxyProtocol ? TrustHop.l4PassThrough({ name: h.name, cidrs: h.cidrs }) : h));
      return { id: 'proxy-protocol-not-sent', changed: { trustChain: TrustChain.of(...hops) }, text: `PROXY not sent: ${senders.map(h => h.name).join(', ')} does not send PROXY protocol (its annotation or listener setting is off on the cluster)` };
    }
    const passes = g.trustChain.hops.filter(h => h.kind === TrustHop.l4PassThrough().kind);
    if (accepts && passes.length > 0) {
      const hops = g.trustChain.hops.map(h => (h === passes[0] ? TrustHop.l4ProxyProtocol({ name: h.name, cidrs: h.cidrs }) : h));
      return { id: 'proxy-protocol-sent', changed: { trustChain: TrustChain.of(...hops) }, text: `PROXY sent: ${passes[0].name} sends PROXY protocol although the trust chain says it passes the packets through` };
    }
    return undefined;
  }
  if (g.serviceType !== 'LoadBalancer') return undefined;
  if (g.loadBalancerSendsProxyProtocol) {
    return { id: 'proxy-protocol-not-sent', changed: { loadBalancerSendsProxyProtocol: false }, text: 'PROXY not sent: the load balancer does not send PROXY protocol (its annotation is not applied on the cluster, or the load balancer ignores it)' };
  }
  if (accepts) {
    return { id: 'proxy-protocol-sent', changed: { loadBalancerSendsProxyProtocol: true }, text: 'PROXY sent: the load balancer sends PROXY protocol although no annotation on the Service says so' };
  }
  return undefined;
}
