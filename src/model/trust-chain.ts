import { TRUST_CHAIN_ANNOTATION } from './annotations';
import { ExternalTrafficPolicy, ProxyProtocolVersion } from './model';
import { checkClientHeaderName } from '../envoy/original-ip-detection';
import { parseCidrs } from '../net/cidr';

/*
 * What stands in front of an ingress gateway, client side first, and the gateway settings that follow
 * from it. Users guess numTrustedProxies and count PROXY hops as XFF hops (istio/istio#31704); a chain
 * lets the library count for them.
 */

/** The kind of a hop in front of a gateway. */
export enum HopKind {
  /** A CDN edge: terminates HTTP and appends the peer to X-Forwarded-For. */
  CDN = 'cdn',
  /** An L7 (HTTP) load balancer: terminates HTTP and appends the peer to X-Forwarded-For. */
  L7_LOAD_BALANCER = 'l7-load-balancer',
  /** An L4 load balancer that forwards packets with the client address as their source. */
  L4_PASSTHROUGH = 'l4-passthrough',
  /** An L4 load balancer that opens its own connection and sends a PROXY protocol header. */
  L4_PROXY_PROTOCOL = 'l4-proxy-protocol',
}

/** Options of a hop. */
export interface HopOptions {
  /**
   * A name for the hop, used in messages and reports.
   * @default - the kind, e.g. "cdn"
   */
  readonly name?: string;
  /**
   * The addresses the hop connects from (its egress ranges). Needed with `variableHops`.
   * @default - unknown
   */
  readonly cidrs?: string[];
  /**
   * True when the hop is a network of proxies whose path length varies (a CDN with tiered caches), so it
   * may append more than one X-Forwarded-For entry. Only for CDN and L7 hops; requires `cidrs`.
   * @default false
   */
  readonly variableHops?: boolean;
  /**
   * The PROXY protocol version the hop sends. Only for PROXY protocol hops.
   * @default - not pinned (Envoy accepts V1 and V2)
   */
  readonly proxyProtocolVersion?: ProxyProtocolVersion;
  /**
   * The request header in which this hop sends the client address it saw, e.g. "CF-Connecting-IP" (Cloudflare),
   * "True-Client-IP" (Akamai, Cloudflare Enterprise), "X-Azure-ClientIP" (Front Door). Only for CDN and L7 hops.
   * The gateway then trusts X-Forwarded-For only up to this hop, so its `remote.ip` is this hop's address and a
   * `CdnOnlyPolicy` can refuse requests that bypassed it; sidecars read the client from the header
   * (`XffTrust.clientHeader`).
   *
   * @default - the hop sends no client header the library relies on
   */
  readonly clientHeader?: string;
}

/** One hop in front of a gateway. Create it with a static factory. */
export class TrustHop {
  /** A CDN edge that appends to X-Forwarded-For. */
  public static cdn(options: HopOptions = {}): TrustHop {
    return new TrustHop(HopKind.CDN, options);
  }

  /** An L7 (HTTP) load balancer that appends to X-Forwarded-For (e.g. AWS ALB, GCP HTTPS LB). */
  public static l7LoadBalancer(options: HopOptions = {}): TrustHop {
    return new TrustHop(HopKind.L7_LOAD_BALANCER, options);
  }

  /** An L4 load balancer that keeps the client address as the packet source (e.g. GCP NLB, Azure LB). */
  public static l4PassThrough(options: HopOptions = {}): TrustHop {
    return new TrustHop(HopKind.L4_PASSTHROUGH, options);
  }

  /** An L4 load balancer that sends a PROXY protocol header (e.g. AWS NLB with proxy_protocol_v2, Tencent CLB). */
  public static l4ProxyProtocol(options: HopOptions = {}): TrustHop {
    return new TrustHop(HopKind.L4_PROXY_PROTOCOL, options);
  }

  /** The hop kind. */
  public readonly kind: HopKind;
  /** The hop name. */
  public readonly name: string;
  /** Normalised egress CIDRs of the hop (empty when unknown). */
  public readonly cidrs: string[];
  /** True when the hop may append a varying number of X-Forwarded-For entries. */
  public readonly variableHops: boolean;
  /** The PROXY protocol version, for PROXY hops. @default - not pinned */
  public readonly proxyProtocolVersion?: ProxyProtocolVersion;
  /** The header the hop sends the client in, lower case. @default - none */
  public readonly clientHeader?: string;

  private constructor(kind: HopKind, options: HopOptions) {
    this.kind = kind;
    this.name = options.name ?? kind;
    if (typeof this.name !== 'string' || this.name.trim() === '') {
      throw new Error(`name ${JSON.stringify(options.name)} is not allowed: give a non-empty hop name such as "cloudfront"`);
    }
    this.cidrs = parseCidrs(options.cidrs ?? [], `${this.name}.cidrs`).map(c => c.text);
    this.variableHops = options.variableHops ?? false;
    if (options.proxyProtocolVersion !== undefined && !Object.values(ProxyProtocolVersion).includes(options.proxyProtocolVersion)) {
      throw new Error(`${this.name}.proxyProtocolVersion ${JSON.stringify(options.proxyProtocolVersion)} is not allowed: use ProxyProtocolVersion.V1 or ProxyProtocolVersion.V2`);
    }
    this.proxyProtocolVersion = options.proxyProtocolVersion;
    if (this.variableHops && !this.appendsXff) {
      throw new Error(`${this.name}.variableHops true is not allowed on a ${kind} hop: only CDN and L7 load balancer hops append X-Forwarded-For entries; remove variableHops`);
    }
    if (this.variableHops && this.cidrs.length === 0) {
      throw new Error(`${this.name}.cidrs is empty but variableHops is true: a varying number of hops can only be trusted by address; list the hop's egress CIDRs, e.g. cidrs: ["198.51.100.0/24"]`);
    }
    if (options.clientHeader !== undefined) {
      if (!this.appendsXff) {
        throw new Error(`${this.name}.clientHeader ${JSON.stringify(options.clientHeader)} is not allowed on a ${kind} hop: only CDN and L7 load balancer hops set request headers; remove clientHeader`);
      }
      this.clientHeader = checkClientHeaderName(`${this.name}.clientHeader`, options.clientHeader);
    }
    if (this.proxyProtocolVersion !== undefined && !this.sendsProxyProtocol) {
      throw new Error(`${this.name}.proxyProtocolVersion ${this.proxyProtocolVersion} is not allowed on a ${kind} hop: only TrustHop.l4ProxyProtocol() sends PROXY protocol; remove proxyProtocolVersion`);
    }
  }

  /** True when the hop appends its peer to X-Forwarded-For (CDN, L7 load balancer). */
  public get appendsXff(): boolean {
    return this.kind === HopKind.CDN || this.kind === HopKind.L7_LOAD_BALANCER;
  }

  /** True when the hop sends a PROXY protocol header. */
  public get sendsProxyProtocol(): boolean {
    return this.kind === HopKind.L4_PROXY_PROTOCOL;
  }
}

/** Gateway settings derived from a trust chain. */
export interface DerivedGatewaySettings {
  /**
   * `gatewayTopology.numTrustedProxies`: the number of X-Forwarded-For appending hops. With variable
   * hops this is the lower bound (each variable hop counted once), which is never spoofable but may
   * resolve to a proxy address; resolve the client with `trustedCidrs` on the sidecars.
   */
  readonly numTrustedProxies: number;
  /** True when a PROXY protocol header reaches the gateway. */
  readonly proxyProtocol: boolean;
  /** The PROXY protocol version that reaches the gateway. @default - not pinned */
  readonly proxyProtocolVersion?: ProxyProtocolVersion;
  /** `Local` when the client address travels only as the packet source; `Cluster` when it is carried in XFF or PROXY. */
  readonly externalTrafficPolicy: ExternalTrafficPolicy;
  /** Union of the hops' CIDRs when a hop has variable hops (for `xff_trusted_cidrs` on sidecars); otherwise empty. */
  readonly trustedCidrs: string[];
  /** True when some hop appends a varying number of X-Forwarded-For entries. */
  readonly variableHops: boolean;
  /**
   * The header a hop sends the client in (`HopOptions.clientHeader`); `numTrustedProxies` then counts only the hops
   * after that one, so that the gateway's `remote.ip` is that hop.
   * @default - no client header
   */
  readonly clientHeader?: string;
  /** The CIDRs of the hop that sends `clientHeader`. @default - no client header */
  readonly clientHeaderHopCidrs?: string[];
}

/** The hops in front of a gateway, client side first. */
export class TrustChain {
  /** Annotation (on a gateway Service, Deployment or pod template) that declares the chain for `explain`. */
  public static readonly ANNOTATION = TRUST_CHAIN_ANNOTATION;

  /**
   * Reads the value of the trust-chain annotation: a JSON list of hops, client side first, e.g.
   * `[{"kind":"cdn","name":"edge"},{"kind":"l4-passthrough"}]`; each hop has `kind` and the `HopOptions` fields.
   */
  public static fromAnnotationValue(text: string): TrustChain {
    let list: any;
    try {
      list = JSON.parse(text);
    } catch (e) {
      throw new Error(`${TrustChain.ANNOTATION} ${JSON.stringify(text)} is not JSON: write a list such as [{"kind":"cdn"},{"kind":"l4-passthrough"}]`);
    }
    if (!Array.isArray(list)) {
      throw new Error(`${TrustChain.ANNOTATION} ${JSON.stringify(text)} is not a list: write a list of hops, client side first, such as [{"kind":"cdn"}]`);
    }
    return TrustChain.of(...list.map((h: any, i: number) => hopFromJson(h, i)));
  }

  /**
   * A chain of hops, client side first: `TrustChain.of(TrustHop.cdn(), TrustHop.l4PassThrough())` is
   * client -> CDN -> L4 load balancer -> gateway.
   */
  public static of(...hops: TrustHop[]): TrustChain {
    return new TrustChain(hops);
  }

  /** Clients connect straight to the gateway Service (no proxy in front). */
  public static direct(): TrustChain {
    return new TrustChain([]);
  }

  /** The hops, client side first. */
  public readonly hops: TrustHop[];

  private constructor(hops: TrustHop[]) {
    hops.forEach((hop, i) => {
      if (!(hop instanceof TrustHop)) {
        throw new Error(`hops[${i}] ${JSON.stringify(hop)} is not a TrustHop: create hops with TrustHop.cdn(), TrustHop.l7LoadBalancer(), TrustHop.l4PassThrough() or TrustHop.l4ProxyProtocol()`);
      }
    });
    checkProxyProtocolHops(hops);
    const headerHops = hops.filter(h => h.clientHeader !== undefined);
    if (headerHops.length > 1) {
      throw new Error(`hops ${headerHops.map(h => `"${h.name}"`).join(' and ')} both set clientHeader: the client is read from one header only; keep clientHeader on the hop that sees the client (the CDN edge)`);
    }
    this.hops = [...hops];
  }

  /** Derives the gateway settings from the chain. */
  public derive(): DerivedGatewaySettings {
    const proxyHop = proxyProtocolHopReachingGateway(this.hops);
    const headerHop = this.hops.findIndex(h => h.clientHeader !== undefined);
    // With a client header the gateway resolves that hop, not the client: count the appending hops after it.
    const appending = this.hops.slice(headerHop + 1).filter(h => h.appendsXff);
    const variableHops = this.hops.some(h => h.variableHops);
    const carriedInBand = appending.length > 0 || proxyHop !== undefined;
    return {
      clientHeader: headerHop >= 0 ? this.hops[headerHop].clientHeader : undefined,
      clientHeaderHopCidrs: headerHop >= 0 ? [...this.hops[headerHop].cidrs] : undefined,
      numTrustedProxies: appending.length,
      proxyProtocol: proxyHop !== undefined,
      proxyProtocolVersion: proxyHop?.proxyProtocolVersion,
      externalTrafficPolicy: carriedInBand ? ExternalTrafficPolicy.CLUSTER : ExternalTrafficPolicy.LOCAL,
      trustedCidrs: variableHops ? unionOf(this.hops.map(h => h.cidrs)) : [],
      variableHops,
    };
  }

  /** The value for the trust-chain annotation (`TrustChain.ANNOTATION`), readable by `fromAnnotationValue`. */
  public toAnnotationValue(): string {
    return JSON.stringify(this.hops.map(h => ({
      kind: h.kind,
      name: h.name,
      ...(h.cidrs.length > 0 ? { cidrs: h.cidrs } : {}),
      ...(h.variableHops ? { variableHops: true } : {}),
      ...(h.proxyProtocolVersion ? { proxyProtocolVersion: h.proxyProtocolVersion } : {}),
      ...(h.clientHeader ? { clientHeader: h.clientHeader } : {}),
    })));
  }

  /** A one-line description, e.g. "client -> cdn -> l4-passthrough -> gateway". */
  public describe(): string {
    return ['client', ...this.hops.map(h => h.name), 'gateway'].join(' -> ');
  }
}

function hopFromJson(h: any, index: number): TrustHop {
  const factories: { [kind: string]: (o: HopOptions) => TrustHop } = {
    [HopKind.CDN]: TrustHop.cdn,
    [HopKind.L7_LOAD_BALANCER]: TrustHop.l7LoadBalancer,
    [HopKind.L4_PASSTHROUGH]: TrustHop.l4PassThrough,
    [HopKind.L4_PROXY_PROTOCOL]: TrustHop.l4ProxyProtocol,
  };
  // Own properties only: kinds such as "valueOf" or "__proto__" must not find Object.prototype members.
  const factory = typeof h?.kind === 'string' && Object.prototype.hasOwnProperty.call(factories, h.kind) ? factories[h.kind] : undefined;
  if (!factory) {
    throw new Error(`hops[${index}].kind ${JSON.stringify(h?.kind)} is unknown: use one of ${Object.keys(factories).join(', ')}`);
  }
  const version = h.proxyProtocolVersion === undefined ? undefined : Object.values(ProxyProtocolVersion).find(v => v === h.proxyProtocolVersion);
  if (h.proxyProtocolVersion !== undefined && version === undefined) {
    throw new Error(`hops[${index}].proxyProtocolVersion ${JSON.stringify(h.proxyProtocolVersion)} is not allowed: use V1 or V2`);
  }
  return factory({ name: h.name, cidrs: h.cidrs, variableHops: h.variableHops, proxyProtocolVersion: version, clientHeader: h.clientHeader });
}

/** A PROXY header only survives L4 pass-through hops; an L7 hop or a second PROXY hop replaces it. */
function checkProxyProtocolHops(hops: TrustHop[]): void {
  hops.forEach((hop, i) => {
    if (!hop.sendsProxyProtocol) return;
    const next = hops.slice(i + 1).find(h => h.appendsXff || h.sendsProxyProtocol);
    if (next?.appendsXff) {
      throw new Error(`hop "${hop.name}" sends PROXY protocol but hop "${next.name}" after it is an L7 proxy that terminates the connection, so the PROXY header never reaches the gateway: `
        + `if "${next.name}" reads the PROXY header and appends the client to X-Forwarded-For, declare "${hop.name}" as TrustHop.l4PassThrough()`);
    }
    if (next?.sendsProxyProtocol) {
      throw new Error(`hops "${hop.name}" and "${next.name}" both send PROXY protocol: the gateway reads only one PROXY header; keep PROXY protocol on the hop next to the gateway and declare the other as TrustHop.l4PassThrough()`);
    }
  });
}

function proxyProtocolHopReachingGateway(hops: TrustHop[]): TrustHop | undefined {
  return hops.find(h => h.sendsProxyProtocol);
}

function unionOf(lists: string[][]): string[] {
  return [...new Set(lists.flat())];
}
