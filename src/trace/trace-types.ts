import { Finding } from '../model/findings';

/*
 * What the trace returns: per path, what every hop sees and which policies match there (public through src/explain).
 */

/** Whether one AuthorizationPolicy rule on client addresses matches at a hop. */
export interface PolicyMatch {
  /** `namespace/name` of the policy. */
  readonly policy: string;
  /** ALLOW or DENY. */
  readonly action: string;
  /** `ipBlocks`, `notIpBlocks`, `remoteIpBlocks` or `notRemoteIpBlocks`. */
  readonly field: string;
  /** The CIDRs of the rule. */
  readonly cidrs: string[];
  /** The address the field is matched against at this hop. */
  readonly address: string;
  /** True when the rule's source matches. */
  readonly matches: boolean;
}

/** A per-client rate limit at a hop, and the bucket key the hop uses. */
export interface RateLimitAt {
  /** `namespace/name` of the EnvoyFilter. */
  readonly rateLimit: string;
  /** The limit, e.g. "10 requests per 1s (burst 20, up to 10000 clients)". */
  readonly limit: string;
  /** The bucket key for the traced client's request: the address the hop resolved (Envoy's `remote_address`). */
  readonly key: string;
  /** The bucket key when the same client sends a forged X-Forwarded-For (a different key means the client picks its bucket). */
  readonly keyWithForgedXff: string;
}

/** What one hop of a path sees. */
export interface HopTrace {
  /** Hop name, e.g. "client", "cloud-lb", "node", "gateway istio-system/ingress", "sidecar", "app". */
  readonly hop: string;
  /** The socket (L3) peer of the hop; for the app, what `getpeername()` returns. @default - not applicable */
  readonly socketPeer?: string;
  /** The PROXY protocol source address the hop receives. @default - no PROXY header */
  readonly proxyProtocolSource?: string;
  /** X-Forwarded-For as the hop receives it. @default - no header */
  readonly xForwardedFor?: string;
  /** X-Envoy-External-Address as the hop receives it. @default - no header */
  readonly externalAddress?: string;
  /** The client address an Envoy hop resolves (`remote.ip`). @default - not an Envoy hop */
  readonly clientAddress?: string;
  /**
   * Client-address headers (`clientAddressHeader()`) as the hop receives them, by lower-case name: the client an
   * earlier hop resolved, or what the caller sent when no hop wrote it.
   * @default - none
   */
  readonly clientAddressHeaders?: { [name: string]: string };
  /** True when this Envoy marks the request internal (`x-envoy-internal: true`, Envoy 1.32 defaults). @default false */
  readonly envoyInternal?: boolean;
  /** AuthorizationPolicy rules on client addresses that apply at this hop. */
  readonly policies: PolicyMatch[];
  /** Per-client rate limits applied at this hop. @default - none */
  readonly rateLimits?: RateLimitAt[];
  /** A remark about this hop. @default - none */
  readonly note?: string;
}

/** One traced path from a client to an app. */
export interface PathTrace {
  /** A title such as "north-south: gateway istio-system/ingress -> workload web/httpbin". */
  readonly title: string;
  /** "north-south" or "east-west". */
  readonly direction: string;
  /** Protocol traced: HTTP or TCP. */
  readonly protocol: string;
  /** The real client address used for the trace. */
  readonly clientAddress: string;
  /** The hops, client first. */
  readonly hops: HopTrace[];
  /** The address the app sees as its socket peer. */
  readonly appSocketPeer: string;
  /** The client address the app can read from headers (X-Envoy-External-Address), when set. @default - none */
  readonly appHeaderClient?: string;
  /** What is lost or spoofable on this path, with fixes. */
  readonly findings: Finding[];
}
