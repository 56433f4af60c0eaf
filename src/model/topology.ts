import { ApiObject } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  GatewayModel, InterceptionMode, ISourceIpTarget, PolicyModel, ProxyProtocolVersion, SidecarXffMode, WaypointModel, WorkloadModel, XffFilterScope,
} from './model';
import type { RateLimitModel } from './rate-limit';
import type { XffFilterModel } from './xff-filter-checks';
import { appRootOf } from '../util/app-root';
import { duplicateObjectErrors } from '../util/duplicate-objects';
import { entryOf } from '../util/keys';

/*
 * The app's topology as the constructs build it: typed lists of the library's constructs per app (construct
 * root), and the plain-data model they add up to. Constructs register here when they are created and find each
 * other here; checks read the plain data. Derived values are cached until the topology changes, so that cdk8s,
 * which validates the whole app once per chart, does not redo app-wide work for every chart.
 */

/** An XffSidecarFilter as the topology sees it. @internal */
export interface XffFilterMember extends IConstruct {
  readonly namespace: string;
  readonly rootNamespace: string;
  readonly selector: { [key: string]: string };
  readonly scope: XffFilterScope;
  readonly portNumber?: number;
  /** The settings it renders, read now; never throws (an unresolvable hop count is a `problem`). */
  _xffSettings(): XffSettings;
  /** The filter as the shared overlap check and the trace read it. */
  _xffFilterModel(): XffFilterModel;
}

/** What an XffSidecarFilter sets on the sidecar. @internal */
export interface XffSettings {
  readonly mode: SidecarXffMode;
  /** TRUSTED_HOPS only; undefined when it cannot be resolved. */
  readonly hops?: number;
  /** TRUSTED_CIDRS only. */
  readonly cidrs: string[];
  /** CUSTOM_HEADER only: the request header the client address is read from. */
  readonly clientHeaderName?: string;
  /** CUSTOM_HEADER only: the status for requests without a valid header (fail closed). */
  readonly clientHeaderRejectStatus?: number;
  /** CUSTOM_HEADER only: the user acknowledged that the gateway is reachable only through the CDN. */
  readonly onlyReachableThroughCdn?: boolean;
  /** Why the settings cannot be rendered, for the filter's own validation. */
  readonly problem?: string;
}

/** A meshed workload target (TproxyWorkload, MeshWorkload). @internal */
export interface WorkloadMember extends ISourceIpTarget {
  readonly interceptionMode: InterceptionMode;
  /** Every label of the workload's pods (a Service may select them by any), when known. */
  readonly podLabels?: { [key: string]: string };
}

/** A ProxyProtocolBackend: its sidecars strip PROXY on every inbound port. @internal */
export interface ProxyProtocolBackendMember extends IConstruct {
  readonly targetNamespace: string;
  readonly targetSelector: { [key: string]: string };
  /** The PROXY protocol version its callers send. */
  readonly version: ProxyProtocolVersion;
}

/** A PROXY protocol listener filter (EnvoyFilter) on the pods `selector` picks in `namespace`. @internal */
export interface ProxyProtocolFilterMember extends IConstruct {
  readonly namespace: string;
  readonly selector: { [key: string]: string };
  /** True for the SIDECAR_INBOUND context: the sidecars strip PROXY on every inbound port. */
  readonly _stripsOnSidecarInbound: boolean;
}

/** A waypoint (Gateway of class istio-waypoint). @internal */
export interface WaypointMember extends IConstruct {
  /** @internal */
  _waypointModel(): WaypointModel;
}

/** A namespace this app puts in ambient mode, with its waypoint labels. @internal */
export interface AmbientNamespaceMember extends IConstruct {
  readonly namespaceName: string;
  /** The waypoint (`namespace/name`) its labels name. */
  readonly waypoint?: string;
  readonly ingressUseWaypoint: boolean;
}

/** A per-client rate limit (the EnvoyFilter of `rateLimitPerClient()`). @internal */
export interface RateLimitMember extends IConstruct {
  /** @internal */
  _rateLimitModel(): RateLimitModel;
}

/** A SourceIpPolicy. @internal */
export interface PolicyMember extends IConstruct {
  readonly target: ISourceIpTarget;
  /** @internal */
  _policyModel(): PolicyModel;
}

/**
 * A construct whose checks the topology runs (see `Topology.addChecks`): the construct itself is the check, so
 * that no closure and no record per construct is kept for the app's lifetime. @internal
 */
export interface CheckedMember extends IConstruct {
  /** The construct's errors given the current topology; empty when there are none. */
  _topologyErrors(): string[];
}

/** A check added with `Topology.addValidation`. */
interface CheckRecord {
  readonly construct: IConstruct;
  readonly validate: () => string[];
}

/** The app's topology as plain data: what `explain` parses back from the synthesised YAML. */
export interface TopologyModel {
  readonly gateways: GatewayModel[];
  readonly workloads: WorkloadModel[];
  readonly policies: PolicyModel[];
  /** Ambient waypoints. */
  readonly waypoints: WaypointModel[];
}

const TOPOLOGIES = new WeakMap<IConstruct, Topology>();

/**
 * A kind of value computed from a topology and cached until the topology changes, for the topology itself or for one
 * of its members (`Topology.derive`, `Topology.deriveFor`): typed by what it holds, so that a cached value is read back
 * as the type it was computed with. @internal
 */
export class Derived<V> {
  private readonly values = new WeakMap<object, { readonly version: number; readonly basis?: object; readonly value: V }>();

  /** @param name what the value is, for debugging */
  public constructor(public readonly name: string) {}

  /**
   * The value for `owner` at `version` (and `basis`, when the value also depends on an object that can change without
   * the topology changing), computed when it has none for them. @internal
   */
  public _valueFor(owner: object, version: number, compute: () => V, basis?: object): V {
    const cached = this.values.get(owner);
    if (cached && cached.version === version && cached.basis === basis) return cached.value;
    const value = compute();
    this.values.set(owner, { version, basis, value });
    return value;
  }

  /** The value for `owner` at `version`, if one was computed. @internal */
  public _cachedFor(owner: object, version: number): V | undefined {
    const cached = this.values.get(owner);
    return cached && cached.version === version ? cached.value : undefined;
  }
}

/** The library's constructs of one app, by kind. */
export class Topology {
  /** The topology of the app `scope` belongs to. */
  public static of(scope: IConstruct): Topology {
    const root = appRootOf(scope);
    let topology = TOPOLOGIES.get(root);
    if (!topology) {
      topology = new Topology(root);
      TOPOLOGIES.set(root, topology);
    }
    return topology;
  }

  private readonly gatewayList: ISourceIpTarget[] = [];
  private readonly workloadList: WorkloadMember[] = [];
  private readonly filterList: XffFilterMember[] = [];
  private readonly backendList: ProxyProtocolBackendMember[] = [];
  private readonly proxyProtocolFilterList: ProxyProtocolFilterMember[] = [];
  private readonly policyList: PolicyMember[] = [];
  private readonly waypointList: WaypointMember[] = [];
  private readonly ambientNamespaceList: AmbientNamespaceMember[] = [];
  private readonly rateLimitList: RateLimitMember[] = [];
  private readonly members = new WeakSet<IConstruct>();
  private readonly appValidations = new Set<string>();
  private readonly checks: Array<CheckRecord | CheckedMember> = [];
  private readonly reporting = new WeakSet<IConstruct>();
  private changes = 0;

  private constructor(
    /** The app's root construct. */
    public readonly root: IConstruct) {}

  /** Ingress gateways, in creation order. */
  public get gateways(): readonly ISourceIpTarget[] {
    return this.gatewayList;
  }

  /** Meshed workload targets (TproxyWorkload, MeshWorkload), in creation order. */
  public get workloads(): readonly WorkloadMember[] {
    return this.workloadList;
  }

  /** XffSidecarFilters, in creation order. */
  public get xffFilters(): readonly XffFilterMember[] {
    return this.filterList;
  }

  /** ProxyProtocolBackends, in creation order. */
  public get proxyProtocolBackends(): readonly ProxyProtocolBackendMember[] {
    return this.backendList;
  }

  /** PROXY protocol listener filters (standalone, and those of ProxyProtocolBackends), in creation order. */
  public get proxyProtocolFilters(): readonly ProxyProtocolFilterMember[] {
    return this.proxyProtocolFilterList;
  }

  /** SourceIpPolicies, in creation order. */
  public get policies(): readonly PolicyMember[] {
    return this.policyList;
  }

  /** Ambient waypoints, in creation order. */
  public get waypoints(): readonly WaypointMember[] {
    return this.waypointList;
  }

  /** Namespaces put in ambient mode (AmbientNamespace), in creation order. */
  public get ambientNamespaces(): readonly AmbientNamespaceMember[] {
    return this.ambientNamespaceList;
  }

  /** Per-client rate limits, in creation order. */
  public get rateLimits(): readonly RateLimitMember[] {
    return this.rateLimitList;
  }

  /** A number that changes whenever a member is added or a member's model changes. */
  public get version(): number {
    return this.changes;
  }

  public addGateway(gateway: ISourceIpTarget): void {
    this.add(gateway, this.gatewayList);
  }

  public addWorkload(workload: WorkloadMember): void {
    this.add(workload, this.workloadList);
  }

  public addXffFilter(filter: XffFilterMember): void {
    this.add(filter, this.filterList);
  }

  public addProxyProtocolBackend(backend: ProxyProtocolBackendMember): void {
    this.add(backend, this.backendList);
  }

  public addProxyProtocolFilter(filter: ProxyProtocolFilterMember): void {
    this.add(filter, this.proxyProtocolFilterList);
  }

  public addPolicy(policy: PolicyMember): void {
    this.add(policy, this.policyList);
  }

  public addWaypoint(waypoint: WaypointMember): void {
    this.add(waypoint, this.waypointList);
  }

  public addAmbientNamespace(namespace: AmbientNamespaceMember): void {
    this.add(namespace, this.ambientNamespaceList);
  }

  public addRateLimit(rateLimit: RateLimitMember): void {
    this.add(rateLimit, this.rateLimitList);
  }

  /** Records that a member's model changed (a gateway got a server): cached values are recomputed. */
  public changed(): void {
    this.changes++;
  }

  /** True for a construct of this library that registered itself (its subtree holds only what it rendered). */
  public isMember(construct: IConstruct): boolean {
    return this.members.has(construct);
  }

  /** A value computed from the topology, cached until it changes (one `Derived` constant per kind of value). */
  public derive<V>(key: Derived<V>, compute: () => V): V {
    return key._valueFor(this, this.changes, compute);
  }

  /**
   * A value of one member (a construct's model) computed from the topology, cached until it changes, or until `basis`
   * is another object (the target's model a policy's model is read from). A cached value is shared: read it, never
   * change it.
   */
  public deriveFor<V>(member: IConstruct, key: Derived<V>, compute: () => V, basis?: object): V {
    return key._valueFor(member, this.changes, compute, basis);
  }

  /** The value of `key` for the current state, if `derive` computed it; never computes. */
  public derived<V>(key: Derived<V>): V | undefined {
    return key._cachedFor(this, this.changes);
  }

  /**
   * Adds `validate` to the app's root once per `key`, for checks that look at the whole app. Its result is
   * cached like the checks of `addValidation`.
   */
  public addAppValidationOnce(key: string, validate: () => string[]): void {
    if (this.appValidations.has(key)) return;
    this.appValidations.add(key);
    this.root.node.addValidation({ validate: () => this.validateOnce(this.root, validate, key) });
  }

  /**
   * Adds a check of `construct` whose result is computed once per state of the topology: cdk8s 2.70 validates
   * the whole app again for every chart it synthesises, and the checks only change when the topology does.
   * Objects outside the library (a Namespace's Pod Security labels, a workload's labels) are read when the
   * topology last changed.
   *
   * The checks of the whole app run from one validation on the app's root, which cdk8s visits first; only a
   * construct that has errors gets a validation of its own, which reports them under its path. A validation on
   * every construct would cost a call per construct per chart synthesised, which for large apps is most of what
   * the checks cost.
   */
  public addValidation(construct: IConstruct, validate: () => string[]): void {
    this.addCheck({ construct, validate });
  }

  /** As `addValidation(member, () => member._topologyErrors())`, without a closure per construct. */
  public addChecks(member: CheckedMember): void {
    this.addCheck(member);
  }

  private addCheck(check: CheckRecord | CheckedMember): void {
    this.checks.push(check);
    // A check added after a synthesis (a route added to a gateway) must not be hidden by the cached results.
    this.changes++;
    if (this.checks.length > 1) return;
    this.root.node.addValidation({ validate: () => this.attachErrorReporters() });
  }

  /** Gives every construct with errors the validation that reports them (once); reports nothing itself. */
  private attachErrorReporters(): string[] {
    for (const construct of this.checkErrors().keys()) {
      if (this.reporting.has(construct)) continue;
      this.reporting.add(construct);
      construct.node.addValidation({ validate: () => this.checkErrors().get(construct) ?? [] });
    }
    return [];
  }

  /** The errors of every check added with `addValidation`, by construct, in the order the checks were added. */
  private checkErrors(): Map<IConstruct, string[]> {
    return this.derive(CHECK_ERRORS, () => {
      const errors = new Map<IConstruct, string[]>();
      for (const check of this.checks) {
        const construct = isCheckRecord(check) ? check.construct : check;
        const found = isCheckRecord(check) ? check.validate() : check._topologyErrors();
        if (found.length > 0) errors.set(construct, [...(errors.get(construct) ?? []), ...found]);
      }
      return errors;
    });
  }

  private validateOnce(construct: IConstruct, validate: () => string[], key: string): string[] {
    const cache = this.derive(VALIDATIONS, () => new Map<IConstruct, Map<string, string[]>>());
    return entryOf(entryOf(cache, construct, () => new Map<string, string[]>()), key, validate);
  }

  /**
   * The app's ApiObjects in construct order (pre-order), found once per state of the topology: the app-wide checks
   * and the trace read the objects outside the library (Services, workloads, Namespaces) from this one walk.
   */
  public apiObjects(): readonly ApiObject[] {
    return this.derive(API_OBJECTS, () => this.root.node.findAll().filter((c): c is ApiObject => ApiObject.isApiObject(c)));
  }

  /** The plain-data topology, as the constructs model it now. */
  public model(): TopologyModel {
    return this.derive(MODEL, () => ({
      gateways: this.gatewayList.flatMap(g => optional(g._gatewayModel())),
      workloads: this.workloadList.flatMap(w => optional(w._workloadModel())),
      policies: this.policyList.map(p => p._policyModel()),
      waypoints: this.waypointList.map(w => w._waypointModel()),
    }));
  }

  private add<T extends IConstruct>(member: T, list: T[]): void {
    list.push(member);
    this.members.add(member);
    this.changes++;
    // Any app that uses the library gets the one check that no two objects would replace each other when applied.
    this.addAppValidationOnce('duplicate-objects', () => duplicateObjectErrors(this.root, c => this.members.has(c), this.apiObjects()));
  }
}

function isCheckRecord(check: CheckRecord | CheckedMember): check is CheckRecord {
  return typeof (check as Partial<CheckedMember>)._topologyErrors !== 'function';
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}

const CHECK_ERRORS = new Derived<Map<IConstruct, string[]>>('check-errors');
const VALIDATIONS = new Derived<Map<IConstruct, Map<string, string[]>>>('validations');
const MODEL = new Derived<TopologyModel>('model');
const API_OBJECTS = new Derived<readonly ApiObject[]>('api-objects');
