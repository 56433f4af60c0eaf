import { ApiObject, Chart, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { assertMergeSetsNoZero } from './merge-guard';
import type {
  EnvoyFilterSpecConfigPatches,
} from '../../imports/networking.istio.io';
import {
  DEFAULT_ROOT_NAMESPACE, HCM_FILTER, HCM_TYPE, VIRTUAL_INBOUND_LISTENER, XFF_DETECTION, XFF_DETECTION_TYPE,
} from '../envoy/names';
import { checkClientHeaderName, checkRejectStatus, customHeaderExtension } from '../envoy/original-ip-detection';
import { NETWORKING } from '../ingress/l1';
import { ONLY_THROUGH_CDN_ANNOTATION, ROOT_NAMESPACE_ANNOTATION } from '../model/annotations';
import { findingText } from '../model/finding-text';
import { Finding } from '../model/findings';
import { IstioVersion } from '../model/istio-version';
import { ISourceIpTarget, ProxyRole, SidecarXffMode, XffFilterScope } from '../model/model';
import { formatLabels } from '../model/selectors';
import { Derived, Topology, XffFilterMember, XffSettings } from '../model/topology';
import { filterReaches } from '../model/workload-model';
import { XffFilterModel, xffFilterOverlaps } from '../model/xff-filter-checks';
import { Cidr, parseCidrs } from '../net/cidr';
import { CidrList } from '../net/cidr-list';
import { CdnOnlyPolicy } from '../policy/cdn-only-policy';
import { LabelIndex } from '../trace/selector-index';
import { joinTrace, trustChainOf } from '../trace/topology-trace';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';
import { checkDnsLabel, checkDnsSubdomain, checkInteger, checkLabels, checkPort, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

/** The most XFF hops a sidecar may trust (the same bound as a gateway's `numTrustedProxies`). */
const MAX_TRUSTED_HOPS = 64;

/** A trusted hop count, or why it cannot be known. */
interface HopsResult {
  readonly hops?: number;
  readonly problem?: string;
}

/** Options of `XffTrust.clientHeader()`. */
export interface ClientHeaderOptions {
  /**
   * The request header the CDN sends the client address in, e.g. "CF-Connecting-IP" (Cloudflare), "True-Client-IP"
   * (Akamai), "X-Azure-ClientIP" (Azure Front Door). The gateway forwards it unchanged.
   */
  readonly headerName: string;

  /**
   * The `CdnOnlyPolicy` on the gateway in front that denies requests not coming from the CDN. Without it (or
   * `onlyReachableThroughCdn`), anyone who reaches the gateway directly chooses the client address.
   *
   * @default - none: `onlyReachableThroughCdn` must be true
   */
  readonly enforcedBy?: CdnOnlyPolicy;

  /**
   * Set to true when the gateway can only be reached through the CDN by other means (a private origin, the cloud
   * load balancer's source ranges, authenticated origin pulls), so no generated policy is needed.
   *
   * @default false
   */
  readonly onlyReachableThroughCdn?: boolean;

  /**
   * Let requests without the header (or with something that is not an IP address in it) through, with the socket
   * peer (the gateway pod) as the client. By default they are rejected (fail closed).
   *
   * @default false
   */
  readonly failOpen?: boolean;

  /**
   * The status answered to requests without a valid header: 403, 400 or 401. Not with `failOpen`.
   *
   * @default 403
   */
  readonly rejectStatus?: number;
}

/**
 * How the sidecar's inbound HTTP connection manager decides which address is the client. Choose one with a
 * static factory.
 */
export class XffTrust {
  /**
   * `use_remote_address: true` (the ASM method): the sidecar takes its socket peer as the client and appends it
   * to X-Forwarded-For, so the app finds its caller's pod IP as the last XFF entry. Behind a gateway the peer is
   * the gateway pod.
   */
  public static useRemoteAddress(): XffTrust {
    return new XffTrust(SidecarXffMode.USE_REMOTE_ADDRESS, () => ({}), []);
  }

  /**
   * `xff_num_trusted_hops: hops` with `use_remote_address` left false: the client is the (hops+1)-th XFF entry
   * from the right, which is what a gateway trusting `hops` proxies resolved, so `remoteIpBlocks` on the workload
   * match the same client as on the gateway (istio/istio#30166, #34177).
   *
   * @param hops a whole number from 1 to 64 (0 is the sidecar's default and cannot be set by a MERGE)
   */
  public static trustedHops(hops: number): XffTrust {
    checkHops('trustedHops', hops, 'give the number of XFF-appending proxies in front of the gateway, the same as its numTrustedProxies');
    return new XffTrust(SidecarXffMode.TRUSTED_HOPS, () => ({ hops }), []);
  }

  /**
   * Trusted hops read from a gateway when synthesising: its `numTrustedProxies`, so the sidecar
   * resolves the same client the gateway did. The gateway must trust at least one proxy.
   *
   * @param gateway an ingress gateway of this library, such as a `PreservedIngressGateway`
   */
  public static trustHopsOf(gateway: ISourceIpTarget): XffTrust {
    if (gateway.targetRole !== ProxyRole.GATEWAY) {
      throw new Error(`trustHopsOf: "${gateway.node.path}" has targetRole ${gateway.targetRole}, not gateway: give the ingress gateway in front of the workload, or use XffTrust.trustedHops(n)`);
    }
    return new XffTrust(SidecarXffMode.TRUSTED_HOPS, () => {
      const model = gateway._gatewayModel();
      if (!model) return { problem: `trustHopsOf: "${gateway.node.path}" has no gateway model: give an ingress gateway of this library, or use XffTrust.trustedHops(n)` };
      if (model.numTrustedProxies === 0) {
        return { problem: `trustHopsOf: gateway "${model.namespace}/${model.name}" has numTrustedProxies 0 is not allowed here: the sidecar's default (the rightmost XFF entry) already is the client the gateway resolved; remove this XffSidecarFilter, or give the gateway numTrustedProxies` };
      }
      if (model.numTrustedProxies > MAX_TRUSTED_HOPS) {
        return { problem: `trustHopsOf gateway "${model.namespace}/${model.name}" numTrustedProxies ${model.numTrustedProxies} is not allowed: use a whole number from 1 to ${MAX_TRUSTED_HOPS}; use a gateway that trusts 1 to 64 proxies` };
      }
      return { hops: model.numTrustedProxies };
    }, []);
  }

  /**
   * Envoy's `envoy.http.original_ip_detection.xff` extension with `xff_trusted_cidrs` and
   * `skip_xff_append: false`: XFF entries are walked from the right while they (and the socket peer) fall in these
   * blocks; the first untrusted one is the client. Sidecars only: a gateway's `use_remote_address: true` cannot be
   * mixed with detection extensions. Since Envoy 1.33 private ranges are not trusted implicitly: list the gateway
   * pod CIDR (the peer) too.
   *
   * @param cidrs addresses or CIDR blocks of the trusted proxies (at least one)
   */
  public static trustedCidrs(cidrs: string[]): XffTrust {
    const parsed = parseCidrs(cidrs, 'trustedCidrs');
    const everything = parsed.find(c => c.prefixLength === 0);
    if (everything) {
      throw new Error(`trustedCidrs "${everything.text}" is not allowed: it trusts every address as a proxy, so the client writes its own address into X-Forwarded-For; list only the proxies in front of the sidecar, such as the gateway pod CIDR`);
    }
    if (parsed.length === 0) {
      throw new Error('trustedCidrs is empty: give the CIDR blocks of the proxies in front of the sidecar (e.g. the gateway pod CIDR "10.32.0.0/14"), or use XffTrust.useRemoteAddress()');
    }
    return new XffTrust(SidecarXffMode.TRUSTED_CIDRS, () => ({}), parsed);
  }

  /**
   * Trusted CIDRs read from a gateway's trust chain: the `cidrs` of every hop in front that appends to
   * X-Forwarded-For, plus `clusterCidrs`, the ranges between the gateway and the sidecar that Envoy 1.33+ no longer
   * trusts implicitly: the node range (the gateway appends a node address when the Service uses
   * `externalTrafficPolicy: Cluster`) and the gateway pod range (the sidecar's own peer). Use it when the path in
   * front varies (`variableHops`): the gateway then trusts only the lower bound, and the sidecar finds the client on
   * every path.
   *
   * @param gateway an ingress gateway of this library with a `trustChain`
   * @param clusterCidrs the node and gateway pod ranges, e.g. ["10.0.0.0/16", "10.244.0.0/16"]
   */
  public static trustedCidrsOf(gateway: ISourceIpTarget, clusterCidrs: string[]): XffTrust {
    const chain = trustChainOf(gateway);
    if (gateway.targetRole !== ProxyRole.GATEWAY || !chain) {
      throw new Error(`trustedCidrsOf: "${gateway.node.path}" is not an ingress gateway with a trustChain: give a PreservedIngressGateway or ProxyProtocolGateway whose trustChain lists the hops' cidrs, or use XffTrust.trustedCidrs([...])`);
    }
    const blind = chain.hops.filter(h => h.appendsXff && h.cidrs.length === 0);
    if (blind.length > 0) {
      throw new Error(`trustedCidrsOf: hop ${blind.map(h => `"${h.name}"`).join(', ')} of gateway "${gateway.node.path}" appends to X-Forwarded-For but has no cidrs, so its address would be taken as the client; list its egress ranges in the hop's cidrs`);
    }
    const cluster = parseCidrs(clusterCidrs, 'clusterCidrs');
    if (cluster.length === 0) {
      throw new Error('clusterCidrs is empty: give the node range and the gateway pod range (Envoy 1.33 and later trust no private range implicitly), e.g. ["10.0.0.0/16", "10.244.0.0/16"]');
    }
    const all = [...chain.hops.filter(h => h.appendsXff).flatMap(h => h.cidrs), ...cluster.map(c => c.text)];
    return XffTrust.trustedCidrs(CidrList.fromCidrs(all, { name: 'trustedCidrsOf' }).cidrs);
  }

  /**
   * Envoy's `envoy.http.original_ip_detection.custom_header` extension: the client is the address in the header a
   * CDN sets (its own view of the client), read with `allow_extension_to_set_address_as_trusted`, and by default
   * requests without it are answered with 403 (`reject_with_status`). Behind the gateway the header is only as
   * trustworthy as the path: the gateway must be reachable only through the CDN, so give the `CdnOnlyPolicy` that
   * enforces it (`enforcedBy`) or acknowledge it (`onlyReachableThroughCdn`). X-Forwarded-For is left as received.
   */
  public static clientHeader(options: ClientHeaderOptions): XffTrust {
    if (!options || typeof options !== 'object') throw new Error('clientHeader options are required: give headerName, e.g. { headerName: "CF-Connecting-IP", enforcedBy: cdnOnlyPolicy }');
    const headerName = checkClientHeaderName('headerName', options.headerName);
    if (options.enforcedBy === undefined && options.onlyReachableThroughCdn !== true) {
      throw new Error(`headerName "${options.headerName}" is refused without proof that the gateway is reachable only through the CDN: anyone who reaches the gateway directly can write any address into "${options.headerName}"; `
        + 'give enforcedBy: new CdnOnlyPolicy(scope, id, { gateway }) (a DENY on requests whose peer is outside the CDN ranges), or set onlyReachableThroughCdn: true if the origin is private or the load balancer admits only the CDN');
    }
    if (options.enforcedBy !== undefined && !(options.enforcedBy instanceof CdnOnlyPolicy)) {
      throw new Error(`enforcedBy ${JSON.stringify(options.enforcedBy)} is not a CdnOnlyPolicy: create one with new CdnOnlyPolicy(scope, id, { gateway })`);
    }
    const chainHeader = options.enforcedBy ? chainHeaderOf(options.enforcedBy) : undefined;
    if (chainHeader !== undefined && chainHeader !== headerName) {
      throw new Error(`headerName "${options.headerName}" differs from clientHeader "${chainHeader}" of the trust chain of gateway "${options.enforcedBy!.gateway.node.path}": read the header the CDN hop declares`);
    }
    if (options.failOpen && options.rejectStatus !== undefined) {
      throw new Error(`rejectStatus ${options.rejectStatus} is not allowed with failOpen true: a fail-open filter rejects nothing; remove one of them`);
    }
    const rejectStatus = options.failOpen ? undefined : checkRejectStatus('rejectStatus', options.rejectStatus ?? 403);
    const acknowledged = options.enforcedBy === undefined && options.onlyReachableThroughCdn === true;
    return new XffTrust(SidecarXffMode.CUSTOM_HEADER, () => ({}), [], { headerName, rejectStatus, acknowledged });
  }

  private constructor(
    /** The sidecar XFF mode this trust renders. */
    public readonly mode: SidecarXffMode,
    private readonly hopsSource: () => HopsResult,
    private readonly parsedCidrs: Cidr[],
    private readonly header?: { readonly headerName: string; readonly rejectStatus?: number; readonly acknowledged?: boolean }) {
  }

  /** The client header (CUSTOM_HEADER only), lower case. @default - none */
  public get clientHeaderName(): string | undefined {
    return this.header?.headerName;
  }

  /** The status for requests without a valid client header (CUSTOM_HEADER only). @default - no rejection */
  public get clientHeaderRejectStatus(): number | undefined {
    return this.header?.rejectStatus;
  }

  /** The trusted CIDRs, normalised (empty unless TRUSTED_CIDRS). */
  public get cidrs(): string[] {
    return this.parsedCidrs.map(c => c.text);
  }

  /**
   * The trusted hop count (TRUSTED_HOPS only), read now: call it when synthesising, after the gateway is complete.
   *
   * @returns the hop count, or undefined for the other modes
   */
  public resolveHops(): number | undefined {
    const result = this.hopsSource();
    if (result.problem !== undefined) throw new Error(result.problem);
    return result.hops;
  }

  /** @internal the settings as plain data, read now; an unresolvable hop count is a `problem`, never an exception. */
  public _settings(): XffSettings {
    const result = this.hopsSource();
    return {
      mode: this.mode,
      ...(result.hops !== undefined ? { hops: result.hops } : {}),
      cidrs: this.cidrs,
      ...(this.header !== undefined ? { clientHeaderName: this.header.headerName } : {}),
      ...(this.header?.rejectStatus !== undefined ? { clientHeaderRejectStatus: this.header.rejectStatus } : {}),
      ...(this.header?.acknowledged === true ? { onlyReachableThroughCdn: true } : {}),
      ...(result.problem !== undefined ? { problem: result.problem } : {}),
    };
  }

  /** @internal the HttpConnectionManager fields this trust sets, never a false or zero value. */
  public _hcmFields(): { [key: string]: unknown } {
    switch (this.mode) {
      case SidecarXffMode.USE_REMOTE_ADDRESS:
        return { use_remote_address: true };
      case SidecarXffMode.TRUSTED_HOPS:
        return { xff_num_trusted_hops: this.resolveHops() };
      case SidecarXffMode.CUSTOM_HEADER:
        return { original_ip_detection_extensions: [customHeaderExtension(this.header!.headerName, this.header!.rejectStatus)] };
      default:
        return {
          original_ip_detection_extensions: [{
            name: XFF_DETECTION,
            typed_config: {
              '@type': XFF_DETECTION_TYPE,
              'xff_trusted_cidrs': { cidrs: this.parsedCidrs.map(c => ({ address_prefix: c.address, prefix_len: c.prefixLength })) },
              // Unset defaults to true on this extension: the app would then not find its caller in XFF.
              'skip_xff_append': false,
            },
          }],
        };
    }
  }
}

/** Props of `XffSidecarFilter`. */
export interface XffSidecarFilterProps {
  /** How the sidecar resolves the client from X-Forwarded-For. */
  readonly trust: XffTrust;
  /**
   * The meshed workload whose sidecars get the filter: gives `namespace` and `selector` (a `TproxyWorkload` or a
   * `MeshWorkload`). Gateways are refused: SIDECAR_INBOUND patches never reach them.
   *
   * @default - `namespace` and `selector` are used
   */
  readonly workload?: ISourceIpTarget;
  /**
   * Pod labels of the workloads that get the filter (`workloadSelector.labels`). Required with scope WORKLOAD
   * unless `workload` is given; must be absent for NAMESPACE and MESH.
   *
   * @default - taken from `workload`
   */
  readonly selector?: { [key: string]: string };
  /**
   * Namespace of the EnvoyFilter (and of the selected pods).
   *
   * @default - the workload's namespace; `rootNamespace` for scope MESH; else the chart's namespace, else "default"
   */
  readonly namespace?: string;
  /**
   * Which proxies are changed. NAMESPACE and MESH change every sidecar in scope, so they must be asked for.
   *
   * @default XffFilterScope.WORKLOAD
   */
  readonly scope?: XffFilterScope;
  /**
   * The mesh's `meshConfig.rootNamespace`, where a MESH filter goes.
   *
   * @default "istio-system"
   */
  readonly rootNamespace?: string;
  /**
   * Only the inbound filter chain of this pod (container) port, e.g. 8000 for httpbin. Not the Service port.
   *
   * @default - every inbound HTTP port
   */
  readonly portNumber?: number;
  /**
   * Add `match.proxy.proxyVersion` for `istioVersion`, so only proxies of that release get the patch. Every patch
   * here is valid for every supported release (1.24+, Envoy 1.32+), so this is off by default; a pinned filter
   * stops applying after an upgrade until it is re-synthesised for the new version.
   *
   * @default false
   */
  readonly pinProxyVersion?: boolean;
  /**
   * Name of the EnvoyFilter.
   *
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The Istio release the output is for.
   *
   * @default - `IstioVersion.resolve(this)`
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * An EnvoyFilter that MERGEs X-Forwarded-For settings into the `envoy.filters.network.http_connection_manager` of
 * the selected sidecars' inbound listener (`SIDECAR_INBOUND`, `virtualInbound`): the app, and `remoteIpBlocks` on
 * the workload, then see the client `trust` describes.
 *
 * A MERGE can only turn settings on: this construct never emits a false or zero value (istio/istio#18169).
 */
export class XffSidecarFilter extends Construct implements XffFilterMember {
  /** The Istio release the output is for. */
  public readonly istioVersion: IstioVersion;
  /** How the client is resolved. */
  public readonly trust: XffTrust;
  /** Which proxies are changed. */
  public readonly scope: XffFilterScope;
  /** Namespace of the EnvoyFilter. */
  public readonly namespace: string;
  /** The mesh root namespace assumed for scope MESH and for selectors in the root namespace. */
  public readonly rootNamespace: string;
  /** Pod labels selected (empty for NAMESPACE and MESH scope). */
  public readonly selector: { [key: string]: string };
  /** The pod port the patch is limited to. @default - every inbound port */
  public readonly portNumber?: number;
  /** The EnvoyFilter (an L1 `EnvoyFilter` of `networking.istio.io/v1alpha3`). */
  public readonly resource: ApiObject;
  private readonly pinProxyVersion: boolean;

  public constructor(scope: Construct, id: string, props: XffSidecarFilterProps) {
    super(scope, id);
    try {
      if (!props || !(props.trust instanceof XffTrust)) {
        throw new Error('trust is required: choose XffTrust.useRemoteAddress(), XffTrust.trustedHops(n), XffTrust.trustHopsOf(gateway), XffTrust.trustedCidrs([...]) or XffTrust.clientHeader({...})');
      }
      this.istioVersion = IstioVersion.resolve(this, props.istioVersion);
      this.trust = props.trust;
      this.scope = props.scope ?? XffFilterScope.WORKLOAD;
      this.rootNamespace = checkDnsLabel('rootNamespace', props.rootNamespace ?? DEFAULT_ROOT_NAMESPACE);
      this.pinProxyVersion = props.pinProxyVersion ?? false;
      if (props.workload) checkWorkloadTarget(props.workload, this.trust);
      this.selector = this.resolveSelector(props);
      this.namespace = this.resolveNamespace(props);
      if (props.portNumber !== undefined) this.portNumber = checkPort('portNumber', props.portNumber);
      if (props.name !== undefined) checkDnsSubdomain('name', props.name);

      // A filter in the root namespace reaches every namespace: say which namespace that is, for explain.
      // An acknowledged CDN-only path is a fact the objects cannot show: say it, for explain and the trace.
      const annotations: { [key: string]: string } = {};
      if (this.namespace === this.rootNamespace) annotations[ROOT_NAMESPACE_ANNOTATION] = this.rootNamespace;
      if (this.trust._settings().onlyReachableThroughCdn === true) annotations[ONLY_THROUGH_CDN_ANNOTATION] = 'true';
      const rootAnnotation = Object.keys(annotations).length > 0 ? { annotations } : {};
      this.resource = LibraryManifest.render(this, 'Resource', NETWORKING.EnvoyFilter, {
        // Object.assign, not literals that start with a spread: see docs/ARCHITECTURE.md, "Object literals".
        metadata: Object.assign(props.name !== undefined ? { name: props.name } : {}, { namespace: this.namespace }, rootAnnotation),
        spec: Object.assign(this.scope === XffFilterScope.WORKLOAD ? { workloadSelector: { labels: { ...this.selector } } } : {},
          { configPatches: Lazy.any({ produce: () => [this.renderPatch()] }) }),
      });
      Topology.of(this).addXffFilter(this);
      joinTrace(this);
      if (this.trust.mode === SidecarXffMode.CUSTOM_HEADER) {
        SourceIpWarnings.add(this, `trust ${this.trust.mode}: the sidecar reads "${this.trust.clientHeaderName}" from any caller, so a pod that calls it directly, bypassing the gateway, can forge its client address; `
          + 'allow only the gateway\'s principal to reach the workload (an AuthorizationPolicy on principals)');
      }
      if (this.trust.mode === SidecarXffMode.TRUSTED_HOPS) {
        // The sidecar cannot tell the gateway from any other caller: hop counting trusts whatever the caller sent.
        SourceIpWarnings.add(this, `trust ${this.trust.mode}: the sidecar trusts X-Forwarded-For entries from any caller, so a pod that calls it directly, bypassing the gateway, can forge its client address; `
          + 'allow only the gateway\'s principal to reach the workload (an AuthorizationPolicy on principals), or use XffTrust.trustedCidrs with the gateway pod CIDR');
      }
      if (this.trust.mode === SidecarXffMode.TRUSTED_CIDRS) {
        // The trusted ranges hold the gateway pods, and so every other pod of that range: the peer check passes for them too.
        SourceIpWarnings.add(this, `trust ${this.trust.mode}: the sidecar trusts X-Forwarded-For entries from any caller inside [${this.trust.cidrs.join(', ')}], so a pod in those ranges that calls it directly, bypassing the gateway, can forge its client address; `
          + 'allow only the gateway\'s principal to reach the workload (an AuthorizationPolicy on principals)');
      }
      Topology.of(this).addChecks(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /**
   * True when this filter changes the sidecar of pods with `podLabels` in `namespace`.
   *
   * @param namespace the pods' namespace
   * @param podLabels the pods' labels
   */
  public appliesTo(namespace: string, podLabels: { [key: string]: string }): boolean {
    return filterReaches(this, namespace, podLabels);
  }

  /** @internal what this filter sets, as plain data (never throws). */
  public _xffSettings(): XffSettings {
    return this.trust._settings();
  }

  /**
   * @internal this filter as the shared checks and `explain` see it (never throws). Kept per state of the topology
   * (the trace and the overlap check both read it), so read it without changing it.
   */
  public _xffFilterModel(): XffFilterModel {
    return Topology.of(this).deriveFor(this, XFF_FILTER_MODEL, () => this.buildModel());
  }

  /** @internal the checks the topology runs for this filter (see `Topology.addChecks`). */
  public _topologyErrors(): string[] {
    return [...this.checkResolvable(), ...this.checkGatewaySelection(), ...this.checkOverlaps()];
  }

  private buildModel(): XffFilterModel {
    const settings = this._xffSettings();
    return {
      name: this.resource.name,
      namespace: this.namespace,
      rootNamespace: this.rootNamespace,
      selector: { ...this.selector },
      ...(this.portNumber !== undefined ? { portNumber: this.portNumber } : {}),
      settings: {
        mode: settings.mode,
        ...(settings.hops !== undefined ? { hops: settings.hops } : {}),
        cidrs: settings.cidrs,
        ...(settings.problem !== undefined ? { unresolved: true } : {}),
      },
    };
  }

  private resolveSelector(props: XffSidecarFilterProps): { [key: string]: string } {
    if (this.scope !== XffFilterScope.WORKLOAD) {
      if (props.selector !== undefined || props.workload !== undefined) {
        throw new Error(`selector ${JSON.stringify(props.selector ?? props.workload?.targetSelector)} is not allowed with scope ${this.scope}: a ${this.scope}-wide filter has no workloadSelector; use scope WORKLOAD to select pods`);
      }
      return {};
    }
    const selector = props.selector ?? props.workload?.targetSelector;
    if (selector === undefined || (typeof selector === 'object' && selector !== null && Object.keys(selector).length === 0)) {
      throw new Error(`selector ${JSON.stringify(selector)} is not allowed: an EnvoyFilter without workloadSelector changes every sidecar in its namespace; give selector (e.g. { app: "httpbin" }) or workload, or ask for it with scope XffFilterScope.NAMESPACE or XffFilterScope.MESH`);
    }
    return checkLabels('selector', selector);
  }

  private resolveNamespace(props: XffSidecarFilterProps): string {
    if (this.scope === XffFilterScope.MESH) {
      if (props.namespace !== undefined && props.namespace !== this.rootNamespace) {
        throw new Error(`namespace "${props.namespace}" is not allowed with scope MESH: a mesh-wide filter must be in the root namespace "${this.rootNamespace}"; remove namespace or set rootNamespace`);
      }
      return this.rootNamespace;
    }
    const workloadNamespace = props.workload?.targetNamespace;
    if (props.namespace !== undefined && workloadNamespace !== undefined && props.namespace !== workloadNamespace) {
      throw new Error(`namespace "${props.namespace}" is not allowed: workload "${props.workload!.node.path}" is in namespace "${workloadNamespace}" and a non-root EnvoyFilter only reaches pods of its own namespace; remove namespace`);
    }
    return checkDnsLabel('namespace', props.namespace ?? workloadNamespace ?? Chart.of(this).namespace ?? 'default');
  }

  private renderPatch(): ApiShaped<EnvoyFilterSpecConfigPatches> {
    const value = { typed_config: { '@type': HCM_TYPE, ...this.trust._hcmFields() } };
    assertMergeSetsNoZero(value, `filter "${this.node.path}"`);
    return {
      applyTo: 'NETWORK_FILTER',
      match: {
        context: 'SIDECAR_INBOUND',
        ...(this.pinProxyVersion ? { proxy: { proxyVersion: this.istioVersion.proxyVersionRegex } } : {}),
        listener: {
          name: VIRTUAL_INBOUND_LISTENER,
          ...(this.portNumber !== undefined ? { portNumber: this.portNumber } : {}),
          filterChain: { filter: { name: HCM_FILTER } },
        },
      },
      patch: { operation: 'MERGE', value },
    };
  }

  /** A gateway-derived hop count is only known now; report it as a validation error rather than a synth crash. */
  private checkResolvable(): string[] {
    const problem = this.trust._settings().problem;
    return problem === undefined ? [] : [problem];
  }

  /** SIDECAR_INBOUND never reaches a gateway: a selector that picks one of this app's gateways is a mistake. */
  private checkGatewaySelection(): string[] {
    if (this.scope !== XffFilterScope.WORKLOAD) return [];
    const topology = Topology.of(this);
    // A filter outside the root namespace reaches its own namespace only: look up the gateways there by label, not
    // every gateway of the app for every filter (quadratic in apps with many of both).
    const candidates = this.namespace === this.rootNamespace ? topology.gateways
      : topology.derive(GATEWAYS_BY_LABELS, () => indexGateways(topology.gateways)).selectedBy(this.namespace, this.selector);
    return candidates
      .filter(gw => this.appliesTo(gw.targetNamespace, gw.targetSelector))
      .map(gw => gatewayRefusal(gw, this.trust, `selector ${formatLabels(this.selector)}`));
  }

  /**
   * Two filters on the same sidecar port MERGE into one connection manager: the shared check (the one `explain`
   * runs on EnvoyFilters) over every filter of the app, once per state of the topology.
   */
  private checkOverlaps(): string[] {
    const topology = Topology.of(this);
    const byFilter = topology.derive(XFF_FILTER_OVERLAPS, () => {
      const filters = topology.xffFilters.filter((f): f is XffSidecarFilter => f instanceof XffSidecarFilter);
      const overlaps = xffFilterOverlaps(filters.map(f => f._xffFilterModel()));
      // Only the filters with findings: the map lives as long as the app.
      return new Map(filters.flatMap((f, i) => overlaps[i].length > 0 ? [[f, overlaps[i]] as const] : []));
    });
    return (byFilter.get(this) ?? []).map(findingText);
  }
}

/** The app's gateways by namespace and pod labels, in creation order. */
function indexGateways(gateways: readonly ISourceIpTarget[]): LabelIndex<ISourceIpTarget> {
  const index = new LabelIndex<ISourceIpTarget>();
  for (const gw of gateways) index.add(gw.targetNamespace, gw.targetSelector, gw);
  return index;
}

const GATEWAYS_BY_LABELS = new Derived<LabelIndex<ISourceIpTarget>>('gateways-by-labels');
const XFF_FILTER_MODEL = new Derived<XffFilterModel>('xff-filter-model');

/** The client header the trust chain of the policy's gateway declares, if any. */
function chainHeaderOf(policy: CdnOnlyPolicy): string | undefined {
  return trustChainOf(policy.gateway)?.derive().clientHeader;
}

function checkHops(property: string, hops: number, fix: string): number {
  return checkInteger(property, hops, 1, MAX_TRUSTED_HOPS, fix);
}

function checkWorkloadTarget(workload: ISourceIpTarget, trust: XffTrust): void {
  if (workload.targetRole === ProxyRole.GATEWAY) throw new Error(gatewayRefusal(workload, trust, 'workload'));
  if (workload.targetRole === ProxyRole.AMBIENT) {
    throw new Error(`workload "${workload.node.path}" has targetRole ambient, which is not allowed: it has no sidecar and ztunnel does not parse HTTP; use a waypoint, or read the client at the ingress gateway`);
  }
}

function gatewayRefusal(gateway: ISourceIpTarget, trust: XffTrust, what: string): string {
  const where = `${what} selects gateway "${gateway.targetNamespace}/${formatLabels(gateway.targetSelector)}"`;
  if (trust.mode === SidecarXffMode.TRUSTED_CIDRS) {
    return `${where}, and trusted CIDRs (original_ip_detection_extensions) are not allowed on a gateway context: gateways always have use_remote_address true, which Envoy refuses to mix with detection extensions, and a MERGE cannot turn it off; set numTrustedProxies on the gateway instead`;
  }
  return `${where}: an XffSidecarFilter patches SIDECAR_INBOUND listeners, which gateways do not have; set numTrustedProxies on the gateway instead, and select the backend workload here`;
}

/** The overlap findings of each XffSidecarFilter that has any. */
const XFF_FILTER_OVERLAPS = new Derived<Map<XffSidecarFilter, Finding[]>>('xff-filter-overlaps');
