import { CLIENT_ACCESS_LOG_FIELDS, CLIENT_HEADER_LOG_FIELD } from '../envoy/client-fields';
import { INBOUND_PASSTHROUGH_IPV4 } from '../envoy/names';
import { escapeForTerminal } from '../explain/escape';
import { checkText, manifestInputError } from '../explain/input';
import { addressInCidr, Cidr, parseCidr } from '../net/cidr';
import { isPrivateAddress } from '../trace/xff-rule';

/*
 * What the cluster produced, read into observations of one hop of one path (internal). The inputs are the ones the
 * seeds check with: Istio's default text access-log line (as `kubectl logs` prints it, with or without the
 * `--prefix` pod name), httpbin's `/headers` and `/ip` responses, and echo-server's response text.
 */

/** A value the cluster showed: an address, a list of addresses, or `null` when the output shows the header absent. */
export type Observed<T> = T | null | undefined;

/** The fields one observation shows (undefined: the input does not show this field at all). */
export interface ObservedFields {
  /** Envoy's downstream remote address at an Envoy hop (`%DOWNSTREAM_REMOTE_ADDRESS%`, without the port). */
  readonly clientAddress?: Observed<string>;
  /** X-Forwarded-For as the hop forwards it (access log) or as the app receives it (app responses). */
  readonly forwardedFor?: Observed<string[]>;
  /** The app's socket peer (echo-server's `client_address`). */
  readonly socketPeer?: Observed<string>;
  /** X-Envoy-External-Address as the app receives it. */
  readonly externalAddress?: Observed<string>;
  /** httpbin `/ip`'s `origin`: X-Forwarded-For (all of it, or its leftmost entry), else the socket peer. */
  readonly origin?: Observed<string[]>;
  /**
   * The client-address header as an Envoy hop forwards it (the JSON access log's `client_address_header`, whichever
   * header the provider logs).
   */
  readonly clientHeader?: Observed<string>;
  /** Every request header the app received, by lower-case name (httpbin `/headers`), to find the client-address header. */
  readonly headers?: { readonly [name: string]: string };
}

/** One observation: which path and hop it belongs to, where it came from, and what it shows. */
export interface Observation {
  /** A part of a path's title (e.g. `workload default/echo-server`, `east-west`); undefined: the only HTTP path. */
  readonly path?: string;
  /** `gateway`, `sidecar`, `waypoint` or `app`. */
  readonly hop: string;
  /** Where it came from, e.g. `observations[0].accessLog line 2`. */
  readonly source: string;
  /** The client address of this request, when it is not the file's `client` (an in-mesh caller's pod address). */
  readonly client?: string;
  readonly fields: ObservedFields;
}

/** The cluster's addresses, so that observed addresses can be compared with the trace's documentation addresses. */
export interface ClusterAddresses {
  /** The client the requests came from, as the internet sees it. */
  readonly client: string;
  readonly nodes: Cidr[];
  readonly pods: Cidr[];
  /** Egress addresses of the named hops in front (the trust chain's hop names). */
  readonly proxies: Array<{ readonly name: string; readonly cidrs: Cidr[] }>;
  /**
   * X-Forwarded-For entries the client itself sent, leftmost first (`curl -H 'X-Forwarded-For: ...'`): untrusted, every
   * hop keeps them in front of what it appends, and the trace (which predicts the list from the client on) does not
   * know them, so they are taken off the front of an observed list before it is compared. Empty when not given.
   */
  readonly clientSent: string[];
}

/** A whole observations file. */
export interface ObservationSet {
  readonly addresses: ClusterAddresses;
  readonly observations: Observation[];
}

export const HOP_KINDS = ['gateway', 'sidecar', 'waypoint', 'app'];

const OBSERVATION_KEYS = ['path', 'hop', 'client', 'accessLog', 'httpbin', 'echoServer'];

/**
 * Istio's default text access-log format (istio/istio pilot/pkg/model/telemetry_logging.go, `EnvoyTextLogFormat`):
 *   [%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE% %RESPONSE_FLAGS%
 *   %RESPONSE_CODE_DETAILS% %CONNECTION_TERMINATION_DETAILS% "%UPSTREAM_TRANSPORT_FAILURE_REASON%" %BYTES_RECEIVED%
 *   %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%"
 *   "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%" %UPSTREAM_CLUSTER_RAW% %UPSTREAM_LOCAL_ADDRESS%
 *   %DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS% %REQUESTED_SERVER_NAME% %ROUTE_NAME%
 * Counted by its quoted fields: X-Forwarded-For is the third, and %DOWNSTREAM_REMOTE_ADDRESS% the fourth bare field
 * after the seventh (%UPSTREAM_HOST%). Envoy writes `-` for an absent value.
 */
const XFF_QUOTED_FIELD = 2;
const UPSTREAM_HOST_QUOTED_FIELD = 6;
const DOWNSTREAM_REMOTE_AFTER_UPSTREAM_HOST = 4;

/** The keys of the JSON format's fields verify reads (their values are in src/envoy/client-fields.ts). */
const JSON_FIELDS = {
  remote: jsonKeyOf('%DOWNSTREAM_REMOTE_ADDRESS%'),
  forwardedFor: jsonKeyOf('%REQ(X-FORWARDED-FOR)%'),
  externalAddress: jsonKeyOf('%REQ(X-ENVOY-EXTERNAL-ADDRESS)%'),
};

function jsonKeyOf(operator: string): string {
  return Object.entries(CLIENT_ACCESS_LOG_FIELDS).find(([, v]) => v === operator)![0];
}

/** `[pod/name/container] ` as `kubectl logs --prefix` writes it. */
const KUBECTL_PREFIX = /^\[pod\/[^\]\s]+\]\s+/;

/**
 * The fields of one access-log line in Istio's default text format, or in the JSON format of
 * `ClientAddressAccessLog.meshConfigProvider()`; undefined for a line in another format.
 */
export function parseAccessLogLine(line: string): ObservedFields | undefined {
  const text = line.trim().replace(KUBECTL_PREFIX, '');
  if (text.startsWith('{')) return parseJsonAccessLogLine(text);
  if (!text.startsWith('[')) return undefined;
  const tokens: Array<{ quoted: boolean; value: string }> = [];
  let i = text.indexOf(']') + 1;
  if (i === 0) return undefined;
  while (i < text.length) {
    if (text[i] === ' ') { i++; continue; }
    if (text[i] === '"') {
      const end = text.indexOf('"', i + 1);
      if (end < 0) return undefined;
      tokens.push({ quoted: true, value: text.slice(i + 1, end) });
      i = end + 1;
    } else {
      const end = text.indexOf(' ', i);
      const stop = end < 0 ? text.length : end;
      tokens.push({ quoted: false, value: text.slice(i, stop) });
      i = stop;
    }
  }
  const quoted = tokens.map((t, index) => ({ ...t, index })).filter(t => t.quoted);
  if (quoted.length <= UPSTREAM_HOST_QUOTED_FIELD) return undefined;
  const remote = tokens[quoted[UPSTREAM_HOST_QUOTED_FIELD].index + DOWNSTREAM_REMOTE_AFTER_UPSTREAM_HOST];
  if (remote === undefined || remote.quoted) return undefined;
  const address = withoutPort(remote.value);
  if (address === undefined) return undefined;
  return { clientAddress: address, forwardedFor: addressList(quoted[XFF_QUOTED_FIELD].value) };
}

/**
 * A line of the JSON access-log format (`envoyFileAccessLog.logFormat.labels`): an object with the
 * `downstream_remote_address` field, and optionally `x_forwarded_for`, `x_envoy_external_address` and
 * `client_address_header`. Envoy writes an absent value as null in JSON (or `-`, as in text).
 */
function parseJsonAccessLogLine(text: string): ObservedFields | undefined {
  let line: any;
  try {
    line = JSON.parse(text);
  } catch {
    return undefined;
  }
  const remote = line?.[JSON_FIELDS.remote];
  if (line === null || typeof line !== 'object' || (typeof remote !== 'string' && remote !== null)) return undefined;
  const address = remote === null ? null : withoutPort(remote);
  if (address === undefined) return undefined;
  const value = (key: string): string | null | undefined => {
    if (!(key in line)) return undefined;
    const v = line[key];
    return v === null || v === '-' || v === '' ? null : String(v).trim();
  };
  const xff = value(JSON_FIELDS.forwardedFor);
  const external = value(JSON_FIELDS.externalAddress);
  const header = value(CLIENT_HEADER_LOG_FIELD);
  return {
    clientAddress: address,
    ...(xff !== undefined ? { forwardedFor: addressList(xff) } : {}),
    ...(external !== undefined ? { externalAddress: external } : {}),
    ...(header !== undefined ? { clientHeader: header } : {}),
  };
}

/** An address without its port (`1.2.3.4:5678`, `[::1]:80`); null for `-`; undefined when it is not an address. */
function withoutPort(value: string): string | null | undefined {
  if (value === '-') return null;
  const v6 = /^\[([0-9a-fA-F:.]+)\](?::\d+)?$/.exec(value);
  if (v6) return v6[1];
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::\d+)?$/.exec(value);
  return v4 ? v4[1] : undefined;
}

/** A comma-separated address list; null when absent (`-` or empty). */
export function addressList(value: string | undefined | null): string[] | null {
  if (value === undefined || value === null) return null;
  const entries = value.split(',').map(e => e.trim()).filter(e => e !== '' && e !== '-');
  return entries.length > 0 ? entries : null;
}

/** The fields of an httpbin `/headers` or `/ip` response (Python httpbin or go-httpbin JSON). */
export function parseHttpbin(text: string, source: string): ObservedFields {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    throw manifestInputError(source, 'is not JSON: give the body of httpbin\'s /headers or /ip response');
  }
  if (body !== null && typeof body === 'object' && typeof body.origin === 'string') {
    return { origin: addressList(body.origin) };
  }
  const headers = body !== null && typeof body === 'object' ? body.headers : undefined;
  if (headers === null || typeof headers !== 'object' || Array.isArray(headers)) {
    throw manifestInputError(source, 'has neither "headers" nor "origin": give the body of httpbin\'s /headers or /ip response');
  }
  const header = (name: string): string | null => {
    const key = Object.keys(headers).find(k => k.toLowerCase() === name);
    if (key === undefined) return null;
    const value = headers[key];
    // go-httpbin answers each header as a list of values.
    return Array.isArray(value) ? value.map(String).join(',') : String(value);
  };
  const external = header('x-envoy-external-address');
  const all = Object.fromEntries(Object.keys(headers).map(k => [k.toLowerCase(), header(k.toLowerCase())!.trim()]));
  return { forwardedFor: addressList(header('x-forwarded-for')), externalAddress: external === null ? null : external.trim(), headers: all };
}

/**
 * The fields of an echo-server response (the `registry.k8s.io/echoserver` text the seeds print: `client_address=...`
 * and a `HEADERS RECEIVED:` block of `name=value`), or a JSON echo with a `headers` map.
 */
export function parseEchoServer(text: string, source: string): ObservedFields {
  if (text.trimStart().startsWith('{')) return parseHttpbin(text, source);
  const peer = /client_address=(\S+)/.exec(text);
  const at = text.search(/HEADERS RECEIVED:/i);
  if (!peer && at < 0) {
    throw manifestInputError(source, 'has neither client_address= nor HEADERS RECEIVED: give echo-server\'s response text');
  }
  const fields: { -readonly [K in keyof ObservedFields]: ObservedFields[K] } = {};
  if (peer) fields.socketPeer = withoutPort(peer[1]) ?? peer[1];
  if (at >= 0) {
    // Headers are `name=value` joined by blanks, one block per line or all on one line: a value ends where the next
    // `name=` starts.
    const block = text.slice(at).replace(/HEADERS RECEIVED:/i, '').split(/\n\s*BODY:/)[0].replace(/\s+/g, ' ');
    const header = (name: string): string | null => {
      const m = new RegExp(`(?:^| )${name}=(.*?)(?= [a-z0-9-]+=|$)`, 'i').exec(block);
      return m ? m[1].trim() : null;
    };
    fields.forwardedFor = addressList(header('x-forwarded-for'));
    fields.externalAddress = header('x-envoy-external-address');
    fields.headers = Object.fromEntries([...block.matchAll(/(?:^| )([a-z0-9-]+)=/gi)].map(m => [m[1].toLowerCase(), header(m[1]) ?? '']));
  }
  return fields;
}

/** Reads an observations file (YAML or JSON); throws a manifest input error naming the field that is wrong. */
export function readObservations(text: string, source = 'observations'): ObservationSet {
  checkText(text, source);
  let doc: any;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    doc = require('js-yaml').load(text);
  } catch (e) {
    throw manifestInputError(source, `is not YAML or JSON: ${(e as Error).message.split('\n')[0]}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw manifestInputError(source, 'is not a map: give client:, observations: and optionally nodes:, pods:, proxies:, clientSent:');
  }
  const client = checkedAddress(doc.client, source, 'client');
  const cidrs = (value: unknown, where: string): Cidr[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) throw manifestInputError(source, `${where} ${short(value)} is not a list: give CIDRs, e.g. [10.0.0.0/16]`);
    return value.map((c, i) => {
      try {
        return parseCidr(String(c).includes('/') ? String(c) : `${c}/${String(c).includes(':') ? 128 : 32}`);
      } catch {
        throw manifestInputError(source, `${where}[${i}] ${short(c)} is not a CIDR or address: give e.g. 10.0.0.0/16`);
      }
    });
  };
  const proxiesValue = doc.proxies ?? {};
  if (typeof proxiesValue !== 'object' || Array.isArray(proxiesValue)) {
    throw manifestInputError(source, `proxies ${short(proxiesValue)} is not a map: give hop name -> CIDRs, e.g. { cdn: [198.51.100.0/24] }`);
  }
  const addresses: ClusterAddresses = {
    client,
    nodes: cidrs(doc.nodes, 'nodes'),
    pods: cidrs(doc.pods, 'pods'),
    proxies: Object.entries(proxiesValue).map(([name, list]) => ({ name, cidrs: cidrs(list, `proxies.${name}`) })),
    clientSent: clientSentOf(doc.clientSent, source),
  };
  if (!Array.isArray(doc.observations) || doc.observations.length === 0) {
    throw manifestInputError(source, `observations ${short(doc.observations)} is not a non-empty list: give one entry per hop you looked at, e.g. - { hop: gateway, accessLog: "..." }`);
  }
  const observations = doc.observations.flatMap((o: any, i: number) => readEntry(o, `${source}: observations[${i}]`));
  return { addresses, observations };
}

function readEntry(o: any, where: string): Observation[] {
  if (o === null || typeof o !== 'object' || Array.isArray(o)) throw manifestInputError(where, 'is not a map: give hop: and one of accessLog:, httpbin:, echoServer:');
  const unknown = Object.keys(o).find(k => !OBSERVATION_KEYS.includes(k));
  if (unknown !== undefined) throw manifestInputError(where, `has unknown key ${short(unknown)}: allowed are ${OBSERVATION_KEYS.join(', ')}`);
  if (!HOP_KINDS.includes(o.hop)) throw manifestInputError(where, `hop ${short(o.hop)} is not allowed: use one of ${HOP_KINDS.join(', ')}`);
  if (o.path !== undefined && (typeof o.path !== 'string' || o.path.trim() === '')) throw manifestInputError(where, `path ${short(o.path)} is not a non-empty string: give a part of a path title, e.g. "workload default/httpbin"`);
  const client = o.client === undefined ? undefined : checkedAddress(o.client, where, 'client');
  const inputs = ['accessLog', 'httpbin', 'echoServer'].filter(k => o[k] !== undefined);
  if (inputs.length !== 1) throw manifestInputError(where, `has ${inputs.length === 0 ? 'no' : inputs.join(' and ')} input: give exactly one of accessLog:, httpbin:, echoServer:`);
  const input = inputs[0];
  const text = typeof o[input] === 'string' ? o[input] : input === 'httpbin' ? JSON.stringify(o[input]) : undefined;
  if (text === undefined) throw manifestInputError(where, `${input} ${short(o[input])} is not text: paste the output as a string`);
  const base = { hop: o.hop as string, ...(o.path ? { path: o.path as string } : {}), ...(client ? { client } : {}) };
  if (input === 'accessLog') {
    if (o.hop === 'app') throw manifestInputError(where, 'hop app has no Envoy access log: an access log belongs to hop gateway, sidecar or waypoint');
    const lines = text.split('\n').map((l: string, n: number) => ({ fields: parseAccessLogLine(l), n: n + 1, blank: l.trim() === '' }));
    const read = lines.filter((l: { fields?: ObservedFields }) => l.fields !== undefined);
    if (read.length === 0) throw manifestInputError(where, 'accessLog holds no line in Istio\'s default text format ([START_TIME] "GET / HTTP/1.1" ... DOWNSTREAM_REMOTE_ADDRESS ...) or in the JSON format of ClientAddressAccessLog.meshConfigProvider() ({"downstream_remote_address": ...})');
    return read.map((l: { fields?: ObservedFields; n: number }) => ({ ...base, source: `${where}.accessLog line ${l.n}`, fields: l.fields! }));
  }
  if (o.hop !== 'app') throw manifestInputError(where, `${input} is what the app answers: give it with hop: app`);
  const fields = input === 'httpbin' ? parseHttpbin(text, `${where}.httpbin`) : parseEchoServer(text, `${where}.echoServer`);
  return [{ ...base, source: `${where}.${input}`, fields }];
}

function clientSentOf(value: unknown, source: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw manifestInputError(source, `clientSent ${short(value)} is not a list: give the X-Forwarded-For entries the client sent, leftmost first, e.g. [56.5.6.7]`);
  return value.map((a, i) => checkedAddress(a, source, `clientSent[${i}]`));
}

function checkedAddress(value: unknown, where: string, name: string): string {
  const text = typeof value === 'string' ? value.trim() : '';
  if (withoutPort(text) !== text || text === '') {
    throw manifestInputError(where, `${name} ${short(value)} is not an IP address: give the address the request came from, e.g. 203.0.113.10`);
  }
  return text;
}

function short(value: unknown): string {
  const text = escapeForTerminal(JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** The role of an observed address: client, node, pod, the sidecar's 127.0.0.6, a named proxy, or `proxy` (unknown). */
export function observedRole(address: string, addresses: ClusterAddresses, client: string): string {
  if (address === client) return 'client';
  if (address === INBOUND_PASSTHROUGH_IPV4) return INBOUND_PASSTHROUGH_IPV4;
  const inAny = (cidrs: Cidr[]) => cidrs.some(c => safeIn(address, c));
  if (inAny(addresses.nodes)) return 'node';
  if (inAny(addresses.pods)) return 'pod';
  const proxy = addresses.proxies.find(p => inAny(p.cidrs));
  if (proxy) return `proxy ${proxy.name}`;
  // Without nodes: and pods:, a private address is somewhere in the cluster.
  if (addresses.nodes.length === 0 && addresses.pods.length === 0 && isPrivateAddress(address)) return 'cluster';
  return 'proxy';
}

function safeIn(address: string, cidr: Cidr): boolean {
  try {
    return addressInCidr(address, cidr);
  } catch {
    return false;
  }
}
