import { ClusterAddresses, Observation, observedRole, ObservedFields } from './observations';
import { INBOUND_PASSTHROUGH_IPV4 } from '../envoy/names';
import { manifestInputError } from '../explain/input';
import { ADDRESSES } from '../trace/context';
import { ASSUMED_PROXY_PREFIX } from '../trace/gateway-hop';
import { HopTrace, PathTrace } from '../trace/trace-types';

/*
 * One observation against one traced path: the trace's documentation addresses and the cluster's real ones are
 * compared by role (client, node, pod, the sidecar's 127.0.0.6, a proxy in front), never by value.
 */

/** One field of one observation, predicted against observed. */
export interface FieldComparison {
  /** `client address`, `X-Forwarded-For`, `socket peer`, `X-Envoy-External-Address` or `origin`. */
  readonly field: string;
  /** What the trace predicts, in roles (e.g. `client`, `node, client`, `none`). */
  readonly predicted: string;
  /** What the cluster showed, each address with its role (e.g. `10.128.0.54 (node)`). */
  readonly observed: string;
  readonly ok: boolean;
}

/** One observation checked against one path of one trace. */
export interface ObservationCheck {
  readonly ok: boolean;
  /** The path's title, when the observation names a path of the trace. */
  readonly path?: string;
  /** The hop's name in the trace, when the path has the hop. */
  readonly hop?: string;
  readonly fields: FieldComparison[];
  /** Why nothing could be compared (the path has no such hop). */
  readonly note?: string;
}

/** How a trace's paths are read for one model: the paths, and what a path's caller is (client, or a pod for a bypass). */
export interface PathView {
  readonly paths: PathTrace[];
  /** For a bypass: maps the observation's path to the east-west path of the same workload. */
  readonly redirect?: (path: PathTrace) => PathTrace | undefined;
}

/** The path an observation belongs to; throws an input error when it names none or several. */
export function pathOf(paths: PathTrace[], o: Observation): PathTrace {
  const candidates = o.path === undefined
    ? paths.filter(p => p.direction === 'north-south' && p.protocol === 'HTTP')
    // A whole title names its path, even when it is a part of another one (workload w-r and workload w-ra).
    : paths.some(p => p.title === o.path) ? paths.filter(p => p.title === o.path) : paths.filter(p => p.title.includes(o.path!));
  const titles = [...new Set(candidates.map(p => p.title))];
  if (titles.length !== 1) {
    const all = [...new Set(paths.map(p => p.title))].join('; ');
    const why = o.path === undefined ? `the manifests have ${titles.length} north-south HTTP paths` : `path "${o.path}" matches ${titles.length} paths`;
    throw manifestInputError(o.source, `${why}: give path: with a part of one title (${all || 'the manifests have no paths'})`);
  }
  // The same title for HTTP and TCP: the observation of an HTTP request or connection log is HTTP unless only TCP exists.
  return candidates.find(p => p.protocol === 'HTTP') ?? candidates[0];
}

/** The hop of `path` an observation's `hop` names. */
export function hopOf(path: PathTrace, kind: string): { hop: HopTrace; next?: HopTrace } | undefined {
  const i = kind === 'app' ? path.hops.length - 1 : path.hops.findIndex(h => h.hop === kind || h.hop.startsWith(`${kind} `));
  // ztunnel carries HTTP without reading it: what an Envoy forwards is what the next HTTP hop (or the app) receives.
  return i < 0 ? undefined : { hop: path.hops[i], next: path.hops.slice(i + 1).find(h => h.hop !== 'ztunnel') };
}

/** The role of every documentation address of a path: the client, the node, pods, 127.0.0.6 and the hops in front. */
export function predictedRoles(path: PathTrace, callerIsPod: boolean): Map<string, string> {
  const roles = new Map<string, string>([
    [ADDRESSES.node, 'node'],
    [ADDRESSES.gatewayPod, 'pod'],
    [ADDRESSES.meshClientPod, 'pod'],
    [ADDRESSES.waypointPod, 'pod'],
    [INBOUND_PASSTHROUGH_IPV4, INBOUND_PASSTHROUGH_IPV4],
  ]);
  roles.set(path.clientAddress, callerIsPod ? 'pod' : 'client');
  // A hop in front is named `<kind> <name>`; the next hop's socket peer is its address.
  for (let i = 1; i < path.hops.length - 1; i++) {
    const h = path.hops[i].hop;
    if (h === 'node' || h.startsWith('gateway ') || h.startsWith('sidecar') || h.startsWith('waypoint') || h === 'ztunnel' || h === 'app') break;
    const next = path.hops[i + 1].socketPeer;
    if (next !== undefined && !roles.has(next)) roles.set(next, `proxy ${h.slice(h.indexOf(' ') + 1)}`);
  }
  return roles;
}

function roleOf(roles: Map<string, string>, address: string): string {
  return roles.get(address) ?? 'proxy';
}

/** True when a predicted role and an observed one are the same place. */
function sameRole(predicted: string, observed: string): boolean {
  if (predicted === observed) return true;
  if (observed === 'proxy') return predicted.startsWith('proxy');
  // Without a declared trust chain the trace names the proxies it assumes: any proxy the observations name is one.
  if (observed.startsWith('proxy ')) return predicted === 'proxy' || predicted.startsWith(`proxy ${ASSUMED_PROXY_PREFIX}`);
  if (observed === 'cluster') return predicted === 'node' || predicted === 'pod';
  return false;
}

function list(value: string | undefined): string[] | null {
  if (value === undefined) return null;
  const entries = value.split(',').map(e => e.trim()).filter(e => e !== '');
  return entries.length > 0 ? entries : null;
}

/** An observed X-Forwarded-For list without the entries the client itself sent in front of it (when it starts with them). */
function withoutClientSent(observed: string[] | null, sent: readonly string[]): string[] | null {
  if (observed === null || sent.length === 0 || observed.length < sent.length || !sent.every((a, i) => observed[i] === a)) return observed;
  const rest = observed.slice(sent.length);
  return rest.length > 0 ? rest : null;
}

/** Checks one observation against one path view. */
export function check(view: PathView, o: Observation, addresses: ClusterAddresses): ObservationCheck {
  const base = pathOf(view.paths, o);
  const path = view.redirect ? view.redirect(base) : base;
  if (path === undefined) return { ok: false, fields: [], note: 'no such path' };
  const at = hopOf(path, o.hop);
  if (!at) return { ok: false, path: path.title, fields: [], note: `the trace has no ${o.hop} hop on this path` };
  const roles = predictedRoles(path, view.redirect !== undefined);
  const client = o.client ?? addresses.client;
  const role = (a: string) => observedRole(a, addresses, client);
  const show = (a: string) => `${a} (${role(a)})`;
  const fields: FieldComparison[] = [];
  // One predicted address is one observed address across the fields of an observation (and the reverse): two proxies
  // in front have one role but not one address.
  const bound = new Map<string, string>();
  const boundBack = new Map<string, string>();
  const bind = (predicted: string, observed: string): boolean => {
    if ((bound.get(predicted) ?? observed) !== observed || (boundBack.get(observed) ?? predicted) !== predicted) return false;
    bound.set(predicted, observed);
    boundBack.set(observed, predicted);
    return true;
  };
  const one = (field: string, predicted: string | undefined, observed: string | null | undefined) => {
    if (observed === undefined) return;
    const p = predicted === undefined ? undefined : roleOf(roles, predicted);
    const ok = p === undefined ? observed === null : observed !== null && sameRole(p, role(observed)) && bind(predicted!, observed);
    fields.push({ field, predicted: p ?? 'none', observed: observed === null ? 'none' : show(observed), ok });
  };
  const many = (field: string, predicted: string[] | null, whole: string[] | null | undefined) => {
    if (whole === undefined) return;
    const observed = withoutClientSent(whole, addresses.clientSent);
    const p = predicted?.map(a => roleOf(roles, a)) ?? null;
    const ok = p === null ? observed === null
      : observed !== null && observed.length === p.length && p.every((r, i) => sameRole(r, role(observed[i])) && bind(predicted![i], observed[i]));
    fields.push({ field, predicted: p?.join(', ') ?? 'none', observed: observed?.map(show).join(', ') ?? 'none', ok });
  };
  const f: ObservedFields = o.fields;
  const isApp = o.hop === 'app';
  // %DOWNSTREAM_REMOTE_ADDRESS% is the client the HCM resolved: envoy source/common/http/conn_manager_impl.cc sets the
  // stream's downstream remote address to mutate_result.final_remote_address (XFF or the peer), with or without
  // use_remote_address.
  one('client address', isApp ? undefined : at.hop.clientAddress, isApp ? undefined : f.clientAddress);
  // An Envoy logs X-Forwarded-For after its own change to it (conn_manager_utility.cc mutateRequestHeaders appends to
  // the request headers the access log reads): what the next hop receives.
  many('X-Forwarded-For', list(isApp ? at.hop.xForwardedFor : at.next?.xForwardedFor), f.forwardedFor);
  if (!isApp && at.hop.hop.startsWith('gateway ')) {
    // The gateway sets X-Envoy-External-Address; the hops behind it forward it unchanged to the app.
    one('X-Envoy-External-Address', path.hops[path.hops.length - 1].externalAddress, f.externalAddress);
  }
  // The router writes a route's request_headers_to_add into the downstream request headers the access log reads
  // (envoy source/common/router/router.cc, finalizeRequestHeaders on the request's own header map): like
  // X-Forwarded-For, an access log shows the client-address header as the next hop receives it.
  const forwarded = isApp ? at.hop.clientAddressHeaders : at.next?.clientAddressHeaders;
  if (!isApp && f.clientHeader !== undefined) {
    const names = Object.keys(forwarded ?? {});
    if (names.length <= 1) one(`client-address header${names.length === 1 ? ` ${names[0]}` : ''}`, names.length === 1 ? forwarded![names[0]] : undefined, f.clientHeader);
  }
  if (isApp && f.headers !== undefined) {
    for (const [name, value] of Object.entries(forwarded ?? {})) one(`client-address header ${name}`, value, f.headers[name] ?? null);
  }
  if (isApp) {
    one('socket peer', at.hop.socketPeer, f.socketPeer);
    one('X-Envoy-External-Address', at.hop.externalAddress, f.externalAddress);
    if (f.origin !== undefined) {
      fields.push(origin(list(at.hop.xForwardedFor), at.hop.socketPeer, withoutClientSent(f.origin, addresses.clientSent), roles, role, show));
    }
  }
  return { ok: fields.every(c => c.ok), path: path.title, hop: at.hop.hop, fields };
}

/**
 * httpbin's `origin`: Python httpbin answers X-Forwarded-For whole, go-httpbin its leftmost entry; without the header,
 * both answer the socket peer.
 */
function origin(xff: string[] | null, peer: string | undefined, observed: string[] | null, roles: Map<string, string>,
  role: (a: string) => string, show: (a: string) => string): FieldComparison {
  const p = xff !== null ? xff.map(a => roleOf(roles, a)) : peer !== undefined ? [roleOf(roles, peer)] : null;
  const ok = p !== null && observed !== null && (
    (observed.length === p.length && p.every((r, i) => sameRole(r, role(observed[i]))))
    || (xff !== null && observed.length === 1 && sameRole(p[0], role(observed[0]))));
  return { field: 'origin', predicted: p?.join(', ') ?? 'none', observed: observed?.map(show).join(', ') ?? 'none', ok };
}
