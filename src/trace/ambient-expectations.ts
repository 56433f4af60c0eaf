import { waypointsOfPolicy } from '../model/ambient';
import { ClientIpField, PolicyAction, PolicyModel, ProxyRole, WaypointModel } from '../model/model';
import { namespaceReaches, selectorMatches } from '../model/selectors';
import { TraceModel } from '../model/trace-model';

/*
 * What the trace expects of ambient mode's two enforcers, as facts the walk uses and the conformance stage compares
 * with istiod's output: the waypoint's HTTP connection manager, and what ztunnel enforces of each policy. Internal:
 * not part of the library's API.
 */

/**
 * The client-address settings istiod gives every HTTP connection manager of a waypoint
 * (pilot/pkg/networking/core/listener_waypoint.go): it does not use the remote address and trusts no hop, so
 * remote.ip is the rightmost X-Forwarded-For entry (the socket peer without the header), and no detection extension.
 */
export const WAYPOINT_HCM = { useRemoteAddress: false, xffNumTrustedHops: 0 } as const;

/**
 * How ztunnel enforces a policy: istiod converts it for ztunnel without its HTTP attributes (remoteIpBlocks, paths,
 * methods), which ztunnel cannot see (pilot/pkg/serviceregistry/ambient/authorization.go handleRule).
 */
export enum ZtunnelEnforcement {
  /** Every attribute of the rule is L4: enforced as written. */
  AS_WRITTEN = 'as-written',
  /** An ALLOW rule with HTTP attributes is dropped: it never matches, and the policy allows nothing. */
  NEVER_MATCHES = 'never-matches',
  /** A DENY rule with HTTP attributes keeps only its L4 attributes: it denies more than written. */
  WITHOUT_HTTP_ATTRIBUTES = 'without-http-attributes',
}

/** How ztunnel enforces `policy` (a policy with a rule on remoteIpBlocks or HTTP attributes loses them). */
export function ztunnelEnforcement(policy: Pick<PolicyModel, 'action' | 'field' | 'matchesHttpAttributes'>): ZtunnelEnforcement {
  const http = policy.field === ClientIpField.REMOTE_IP_BLOCKS || policy.matchesHttpAttributes === true;
  if (!http) return ZtunnelEnforcement.AS_WRITTEN;
  return policy.action === PolicyAction.ALLOW ? ZtunnelEnforcement.NEVER_MATCHES : ZtunnelEnforcement.WITHOUT_HTTP_ATTRIBUTES;
}

/** What ztunnel's enforcement means for traffic, in the words of the trace's findings. */
export function ztunnelEffect(policy: Pick<PolicyModel, 'action' | 'field' | 'matchesHttpAttributes'>): string {
  switch (ztunnelEnforcement(policy)) {
    case ZtunnelEnforcement.NEVER_MATCHES: return 'this ALLOW never matches and denies every request';
    case ZtunnelEnforcement.WITHOUT_HTTP_ATTRIBUTES:
      return `istiod enforces this DENY without its HTTP attributes, so it denies ${policy.field === ClientIpField.REMOTE_IP_BLOCKS ? 'every caller' : 'these callers'} on its ports, whatever the request`;
    default: return 'ztunnel enforces it as written';
  }
}

/** One rule of a policy as ztunnel gets it. */
export interface ZtunnelRuleExpectation {
  readonly sourceCidrs: string[];
  readonly notSourceCidrs: string[];
  readonly ports: number[];
  /** True when nothing in the rule names a caller: it matches every source. */
  readonly anySource: boolean;
}

/** One AuthorizationPolicy as the trace expects ztunnel to enforce it. */
export interface ZtunnelPolicyExpectation {
  readonly namespace: string;
  readonly name: string;
  /** WORKLOAD_SELECTOR, NAMESPACE (no selector) or GLOBAL (no selector, in a root namespace). */
  readonly scope: string;
  readonly action: PolicyAction;
  readonly enforcement: ZtunnelEnforcement;
  /** The rules ztunnel gets (none for an ALLOW that never matches). */
  readonly rules: ZtunnelRuleExpectation[];
  /** The ambient workloads (`namespace/name`) it applies to. */
  readonly workloads: string[];
}

/**
 * The policies ztunnel enforces on the model's ambient workloads: those attached by selector (or namespace-wide)
 * that reach at least one ambient workload; policies with targetRefs are the waypoints' and gateways'.
 */
export function ztunnelExpectations(model: Pick<TraceModel, 'policies' | 'workloads' | 'rootNamespaces'>): ZtunnelPolicyExpectation[] {
  const ambient = model.workloads.filter(w => w.role === ProxyRole.AMBIENT);
  const out: ZtunnelPolicyExpectation[] = [];
  for (const p of model.policies) {
    if ((p.targetRefs ?? []).length > 0) continue;
    const workloads = ambient.filter(w => namespaceReaches(p.namespace, w.namespace, model.rootNamespaces) && selectorMatches(p.selector, w.selector))
      .map(w => `${w.namespace}/${w.name}`);
    if (workloads.length === 0) continue;
    const selected = Object.keys(p.selector).length > 0;
    const enforcement = ztunnelEnforcement(p);
    // ipBlocks survive the conversion; remoteIpBlocks do not.
    const cidrs = p.field === ClientIpField.IP_BLOCKS ? [...p.cidrs] : [];
    out.push({
      namespace: p.namespace,
      name: p.name,
      scope: selected ? 'WORKLOAD_SELECTOR' : model.rootNamespaces.includes(p.namespace) ? 'GLOBAL' : 'NAMESPACE',
      action: p.action,
      enforcement,
      rules: enforcement === ZtunnelEnforcement.NEVER_MATCHES ? [] : [{
        sourceCidrs: p.negated ? [] : cidrs,
        notSourceCidrs: p.negated ? cidrs : [],
        ports: [...(p.ports ?? [])],
        anySource: cidrs.length === 0,
      }],
      workloads: [...new Set(workloads)].sort(),
    });
  }
  return out;
}

/** What the trace expects a waypoint's Envoy to enforce. */
export interface WaypointExpectation {
  readonly waypoint: WaypointModel;
  /** Every HTTP connection manager of the waypoint. */
  readonly hcm: typeof WAYPOINT_HCM;
  /** The policies attached to it (targetRefs to its Gateway, or to a Service whose traffic it handles). */
  readonly policies: PolicyModel[];
}

/** The model's waypoints, each with the policies the trace applies there. */
export function waypointExpectations(model: Pick<TraceModel, 'policies' | 'waypoints' | 'workloadsOfService' | 'namespaceWaypoints'>): WaypointExpectation[] {
  return model.waypoints.map(waypoint => ({
    waypoint,
    hcm: WAYPOINT_HCM,
    policies: model.policies.filter(p => waypointsOfPolicy(p, [waypoint], name => model.workloadsOfService(p.namespace, name),
      model.namespaceWaypoints?.get(p.namespace)).length > 0),
  }));
}

/** Where ztunnel sends the traffic of one ambient workload, as the trace walks it. */
export interface ZtunnelRoutingExpectation {
  /** `namespace/name` of the ambient workload. */
  readonly workload: string;
  /** The waypoint (`namespace/name`) its traffic goes through, if any. */
  readonly waypoint?: string;
  /** True when ingress traffic goes through the waypoint too. */
  readonly ingressUseWaypoint: boolean;
}

/** The model's ambient workloads with the waypoint the trace sends their traffic through. */
export function ztunnelRoutingExpectations(model: Pick<TraceModel, 'workloads'>): ZtunnelRoutingExpectation[] {
  return model.workloads.filter(w => w.role === ProxyRole.AMBIENT).map(w => ({
    workload: `${w.namespace}/${w.name}`,
    ...(w.waypoint !== undefined ? { waypoint: w.waypoint } : {}),
    ingressUseWaypoint: w.waypoint !== undefined && w.ingressUseWaypoint === true,
  }));
}
