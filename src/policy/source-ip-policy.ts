import { createHash } from 'crypto';
import { ApiObject, Lazy, Names } from 'cdk8s';
import { Construct } from 'constructs';
import { SECURITY } from '../ingress/l1';
import { workloadsUsing } from '../model/ambient';
import { IstioVersion } from '../model/istio-version';
import {
  ClientIpField, ISourceIpTarget, PolicyAction, PolicyModel, PolicyTargetRef, ProxyRole, WaypointModel, WorkloadModel,
} from '../model/model';
import { Derived, Topology } from '../model/topology';
import { parseCidrs } from '../net/cidr';
import { recommendedFieldFor } from '../trace/field-choice';
import {
  checkAllowDenyConflicts, checkCidrList, checkPolicyAgainstTarget, Findings, gatewayPolicyPorts, PolicyOnTarget,
} from '../trace/policy-checks';
import { LibraryManifest } from '../util/library-manifest';
import { checkDnsLabel, checkPort, checkTargetSelector, emptySelectorProblem, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

/** What a source-IP rule matches besides the addresses; shared by `SourceIpPolicy` and the targets' `allowFrom`/`denyFrom`. */
export interface SourceIpRuleOptions {
  /**
   * The field the CIDRs are matched against. Forcing a field that cannot work on the target is an error at synth time.
   *
   * @default - chosen from the target's topology (see `SourceIpPolicy.recommendedField`)
   */
  readonly field?: ClientIpField;

  /**
   * Match every address except the CIDRs (`notIpBlocks` / `notRemoteIpBlocks`).
   *
   * @default false
   */
  readonly negate?: boolean;

  /**
   * Limit the rule to these ports of the enforcing proxy (`to.operation.ports`). On a gateway these are the
   * ports its Envoy listens on, on a sidecar the pod ports.
   *
   * @default - every port
   */
  readonly ports?: number[];

  /**
   * Limit the rule to these HTTP paths (`to.operation.paths`; exact, `prefix*` or `*suffix`). HTTP only.
   *
   * @default - every path
   */
  readonly paths?: string[];

  /**
   * Limit the rule to these HTTP methods (`to.operation.methods`), e.g. `GET`. HTTP only.
   *
   * @default - every method
   */
  readonly methods?: string[];

  /**
   * `metadata.name` of the AuthorizationPolicy (a DNS-1123 label).
   *
   * @default - generated from the construct path, stable across synths
   */
  readonly name?: string;
}

/** Properties of `SourceIpPolicy`. */
export interface SourceIpPolicyProps extends SourceIpRuleOptions {
  /** The gateway or meshed workload whose proxy enforces the policy; gives the namespace and selector. */
  readonly target: ISourceIpTarget;

  /**
   * Addresses or CIDR blocks (IPv4 or IPv6). Single addresses become /32 or /128, IPv4-mapped IPv6 becomes IPv4.
   * Host bits after the prefix are an error.
   */
  readonly cidrs: string[];

  /**
   * ALLOW (only these clients get through, once any ALLOW policy selects the proxy) or DENY.
   *
   * @default PolicyAction.ALLOW
   */
  readonly action?: PolicyAction;

  /**
   * Set to true, with an empty `cidrs` list and ALLOW, to emit an allow-nothing policy that denies every
   * request to the target. An empty ALLOW list is otherwise an error.
   *
   * @default false
   */
  readonly allowNothing?: boolean;

  /**
   * The Istio release the manifest is for.
   *
   * @default - IstioVersion.resolve(this): the context value, else IstioVersion.LATEST
   */
  readonly istioVersion?: IstioVersion;
}

const METHOD = /^[A-Z][A-Z0-9_-]*$/;

/**
 * An Istio AuthorizationPolicy that allows or denies requests by client IP on a gateway or a meshed
 * workload, matching on the field that the enforcing proxy can actually see:
 *
 * - a gateway that trusts X-Forwarded-For hops or accepts PROXY protocol: `remoteIpBlocks`;
 * - a gateway with `externalTrafficPolicy: Local` (or a source-preserving load balancer) and nothing in front
 *   that rewrites the source: `ipBlocks`;
 * - a sidecar: `ipBlocks`, or `remoteIpBlocks` when an XffSidecarFilter makes its resolved client meaningful;
 * - an ambient (ztunnel) workload: `ipBlocks`;
 * - a waypoint: `remoteIpBlocks` (the rightmost X-Forwarded-For entry: the client the ingress gateway appended), with
 *   `targetRefs` to the waypoint instead of a selector.
 *
 * The field is decided at synth time, after the whole app is built, and the policy is checked against the
 * target's topology and the other policies on the same target.
 */
export class SourceIpPolicy extends Construct {
  /**
   * An ALLOW policy on `target`, created as its child with an id made from what it matches (`AllowFrom` and a hash
   * of the CIDRs and options), so that adding or removing another call never renames it.
   *
   * @param target the gateway or workload to protect
   * @param cidrs the client addresses or blocks to allow
   */
  public static allowFrom(target: ISourceIpTarget, cidrs: string[], options: SourceIpRuleOptions = {}): SourceIpPolicy {
    return SourceIpPolicy.childOf(target, 'AllowFrom', cidrs, PolicyAction.ALLOW, options);
  }

  /**
   * A DENY policy on `target`, created as its child with an id made from what it matches (`DenyFrom` and a hash of
   * the CIDRs and options), so that adding or removing another call never renames it.
   *
   * @param target the gateway or workload to protect
   * @param cidrs the client addresses or blocks to deny
   */
  public static denyFrom(target: ISourceIpTarget, cidrs: string[], options: SourceIpRuleOptions = {}): SourceIpPolicy {
    return SourceIpPolicy.childOf(target, 'DenyFrom', cidrs, PolicyAction.DENY, options);
  }

  /** The field to use for a target, read from its current model; `ipBlocks` when it has none. */
  public static recommendedField(target: ISourceIpTarget): ClientIpField {
    return recommendedFieldFor(target.targetRole, target._gatewayModel(), target._workloadModel());
  }

  private static childOf(
    target: ISourceIpTarget, prefix: string, cidrs: string[], action: PolicyAction, options: SourceIpRuleOptions): SourceIpPolicy {
    const base = `${prefix}${contentKey(cidrs, options)}`;
    // The same rule twice: the copies are interchangeable, so numbering them keeps every name stable.
    let id = base;
    for (let n = 2; target.node.tryFindChild(id); n++) id = `${base}-${n}`;
    return new SourceIpPolicy(target as unknown as Construct, id, Object.assign({}, options, { target, cidrs, action }));
  }

  /** The AuthorizationPolicy. */
  public readonly apiObject: ApiObject;

  /** The target whose proxy enforces this policy. */
  public readonly target: ISourceIpTarget;

  /** ALLOW or DENY. */
  public readonly action: PolicyAction;

  /** The normalised CIDRs, in the order given, without duplicates. */
  public readonly cidrs: string[];

  /** True for `notIpBlocks` / `notRemoteIpBlocks`. */
  public readonly negated: boolean;

  /** `metadata.name`. */
  public readonly name: string;

  /** `metadata.namespace`: the target's namespace. */
  public readonly namespace: string;

  /** The Istio release the manifest is for. */
  public readonly istioVersion: IstioVersion;

  private readonly forcedField?: ClientIpField;
  private readonly ports: number[];
  private readonly paths: string[];
  private readonly methods: string[];
  private readonly ownWarnings: string[];
  /** True when ports, paths or methods limit the rule to some requests. */
  private readonly limited: boolean;

  constructor(scope: Construct, id: string, props: SourceIpPolicyProps) {
    super(scope, id);
    try {
      if (!props || !props.target) throw new Error('target is required: pass the gateway or workload whose proxy enforces the policy');
      this.target = props.target;
      this.istioVersion = IstioVersion.resolve(this, props.istioVersion);
      this.action = checkEnum('action', props.action ?? PolicyAction.ALLOW, Object.values(PolicyAction));
      this.forcedField = props.field === undefined ? undefined : checkEnum('field', props.field, Object.values(ClientIpField));
      this.negated = props.negate ?? false;
      this.ports = unique((props.ports ?? []).map((p, i) => checkPort(`ports[${i}]`, p)));
      this.paths = checkPaths(props.paths ?? []);
      this.methods = checkMethods(props.methods ?? []);
      this.name = props.name === undefined ? Names.toDnsLabel(this) : checkDnsLabel('name', props.name);
      this.namespace = props.target.targetNamespace;
      // Only targetRefs or the target's own pod labels pick the enforcing proxy: never an empty selector by accident.
      if (!targetRefsOf(props.target)) checkTargetSelector('target', () => props.target.node.path, props.target.targetSelector, this.namespace, () => this.policyKind());

      const parsed = parseCidrs(props.cidrs, 'cidrs');
      this.limited = this.ports.length + this.paths.length + this.methods.length > 0;
      checkEmptiness(this.action, parsed.length, this.negated, props.allowNothing ?? false, this.limited);
      const list = checkCidrList(parsed, this.action, this.negated);
      if (list.errors.length > 0) throw new Error(list.errors.join('\n'));
      this.ownWarnings = list.warnings.length > 0 ? list.warnings : NONE;
      this.cidrs = unique(parsed.map(c => c.text));

      const apiProps = {
        metadata: { name: this.name, namespace: this.namespace },
        spec: Lazy.any({ produce: () => this.renderSpec() }),
      };
      this.apiObject = this.istioVersion.securityApiVersion === 'security.istio.io/v1'
        ? LibraryManifest.render(this, 'Resource', SECURITY.AuthorizationPolicy, apiProps)
        : LibraryManifest.render(this, 'Resource', SECURITY.AuthorizationPolicyV1Beta1, apiProps);

      Topology.of(this).addPolicy(this);
      Topology.of(this).addChecks(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /**
   * The field the CIDRs are matched against: the forced `field`, else the one the target's topology calls
   * for. Read it after the app is complete; the synthesised manifest always uses the final answer.
   */
  public get field(): ClientIpField {
    return this.forcedField ?? SourceIpPolicy.recommendedField(this.target);
  }

  /**
   * The policy as the shared model, for checks and `explain`; kept while the topology and the target's model stay the
   * same (its field and selector come from them), so read it without changing it. @internal
   */
  public _policyModel(): PolicyModel {
    const targetModel = this.target._workloadModel() ?? this.target._gatewayModel();
    // A target without a model of its own (a waypoint) gives nothing to know a change by: built each time.
    if (targetModel === undefined) return this.buildModel();
    return Topology.of(this).deriveFor(this, POLICY_MODEL, () => this.buildModel(), targetModel);
  }

  private buildModel(): PolicyModel {
    const targetRefs = targetRefsOf(this.target);
    return {
      name: this.name,
      namespace: this.namespace,
      // A waypoint's policies reach no pods by labels; a Gateway API gateway's reach its pods (gateway-name label).
      selector: targetRefs && this.target.targetRole === ProxyRole.WAYPOINT ? {} : { ...this.target.targetSelector },
      ...(targetRefs ? { targetRefs } : {}),
      action: this.action,
      field: this.field,
      negated: this.negated,
      cidrs: [...this.cidrs],
      ...(this.cidrs.length > 0 && this.ports.length > 0 ? { ports: this.renderedPorts() } : {}),
      ...(this.cidrs.length > 0 && this.paths.length + this.methods.length > 0 ? { matchesHttpAttributes: true } : {}),
    };
  }

  /** Warnings about this policy given the current app (overlaps, a field that matches the hop in front, ...). */
  public warnings(): string[] {
    return this.findings().warnings;
  }

  /** @internal the checks the topology runs for this policy (see `Topology.addChecks`). */
  public _topologyErrors(): string[] {
    return this.validatePolicy();
  }

  private findings(): Findings {
    const self = this.onTarget();
    // Only a DENY can conflict, and only with policies on the same namespace and selector.
    const others = this.action === PolicyAction.DENY ? this.policiesOnSameTarget().filter(p => p !== this).map(p => p.onTarget()) : [];
    const topology = checkPolicyAgainstTarget({
      policy: self.policy,
      role: this.target.targetRole,
      gateway: this.target._gatewayModel(),
      workload: this.target._workloadModel(),
      ...this.waypointOfTarget(),
      ports: this.ports,
      matchesHttpAttributes: this.paths.length + this.methods.length > 0,
      fieldForced: this.forcedField !== undefined,
    });
    const conflicts = checkAllowDenyConflicts(self, others);
    return {
      errors: [...topology.errors, ...conflicts.errors],
      warnings: [...this.ownWarnings, ...topology.warnings, ...conflicts.warnings, ...this.dualStackWarnings()],
    };
  }

  /** For a waypoint target: its model and the app's workloads that use it. */
  private waypointOfTarget(): { waypoint?: WaypointModel; waypointUsers?: WorkloadModel[] } {
    if (this.target.targetRole !== ProxyRole.WAYPOINT) return {};
    const topology = Topology.of(this);
    // A waypoint, or one Service's traffic through it (its parent).
    const waypoint = topology.waypoints.find(w => w === (this.target as unknown) || w === this.target.node.scope)?._waypointModel();
    return waypoint ? { waypoint, waypointUsers: workloadsUsing(waypoint, topology.model().workloads) } : {};
  }

  /**
   * Istio generates a Gateway API gateway's Service with `ipFamilyPolicy: PreferDualStack`: on a dual-stack cluster
   * IPv6 clients reach it too, and an IPv4-only list says nothing about them.
   */
  private dualStackWarnings(): string[] {
    if (!this.target.policyTargetRefs || this.target.targetRole !== ProxyRole.GATEWAY || this.cidrs.length === 0) return [];
    if (this.cidrs.some(c => c.includes(':'))) return [];
    // Policies of one action on one target are OR-ed: another part of the same list (CidrListPolicy) that holds the
    // IPv6 ranges covers them.
    if (this.policiesOnSameTarget().some(p => p !== this && p.action === this.action && p.negated === this.negated && p.cidrs.some(c => c.includes(':')))) return [];
    const effect = (this.action === PolicyAction.ALLOW) !== this.negated
      ? 'every IPv6 client is denied' : 'IPv6 clients are not matched, so they get through';
    return [`${this.action} policy "${this.namespace}/${this.name}" lists IPv4 addresses only, but the Service Istio generates for Gateway API gateway "${this.target.targetNamespace}/${this.target.policyTargetRefs[0].name}" is PreferDualStack: on a dual-stack cluster ${effect}; `
      + 'add the IPv6 ranges of the same clients; on an IPv4-only cluster nothing changes'];
  }

  private policiesOnSameTarget(): SourceIpPolicy[] {
    const topology = Topology.of(this);
    const byTarget = topology.derive(POLICIES_BY_TARGET, () => {
      const map = new Map<string, SourceIpPolicy[]>();
      for (const p of topology.policies) {
        if (p instanceof SourceIpPolicy) map.set(targetKey(p), [...(map.get(targetKey(p)) ?? []), p]);
      }
      return map;
    });
    return byTarget.get(targetKey(this)) ?? [];
  }

  private onTarget(): PolicyOnTarget {
    const policy = this;
    return {
      policy: this._policyModel(),
      limited: this.limited,
      // Only messages about conflicts read it: the construct path is built when one does.
      get where() {
        return `${policy.action} policy "${policy.namespace}/${policy.name}" (${policy.node.path})`;
      },
    };
  }

  private validatePolicy(): string[] {
    // The target's labels may have changed since the constructor (a workload's pod template resolved later).
    const selectorError = this.emptySelectorError();
    if (selectorError) return [selectorError];
    const { errors, warnings } = this.findings();
    for (const w of warnings) {
      SourceIpWarnings.add(this, w);
    }
    return errors;
  }

  /** The refusal of an empty selector, when the target's selector is empty now. */
  private emptySelectorError(): string | undefined {
    if (targetRefsOf(this.target)) return undefined;
    // The path and the kind are only written into a message: built when there is one.
    return emptySelectorProblem('target', () => this.target.node.path, this.target.targetSelector, this.namespace, () => this.policyKind());
  }

  /** "an ALLOW AuthorizationPolicy" or "a DENY AuthorizationPolicy", for messages. */
  private policyKind(): string {
    return `${this.action === PolicyAction.ALLOW ? 'an' : 'a'} ${this.action} AuthorizationPolicy`;
  }

  /** On a gateway, Istio matches the port Envoy listens on in the pod: server ports are mapped to it. */
  private renderedPorts(): number[] {
    const gateway = this.target.targetRole === ProxyRole.GATEWAY ? this.target._gatewayModel() : undefined;
    return gateway ? gatewayPolicyPorts(gateway, this.ports).ports : this.ports;
  }

  private renderSpec(): any {
    const targetRefs = targetRefsOf(this.target);
    const spec: any = targetRefs
      ? { targetRefs, action: this.action }
      : { selector: { matchLabels: { ...this.target.targetSelector } }, action: this.action };
    if (this.cidrs.length === 0) return spec; // allow-nothing: an ALLOW without rules
    const rule: any = { from: [{ source: { [sourceKey(this.field, this.negated)]: [...this.cidrs] } }] };
    const operation: any = {};
    const ports = this.renderedPorts();
    if (ports.length > 0) operation.ports = ports.map(String);
    if (this.paths.length > 0) operation.paths = [...this.paths];
    if (this.methods.length > 0) operation.methods = [...this.methods];
    if (Object.keys(operation).length > 0) rule.to = [{ operation }];
    return Object.assign({}, spec, { rules: [rule] });
  }
}

/** A short stable hash of what a rule matches (its name when given, else its CIDRs and options). */
function contentKey(cidrs: string[], options: SourceIpRuleOptions): string {
  const content = options.name !== undefined ? { name: options.name } : {
    cidrs, field: options.field, negate: options.negate, ports: options.ports, paths: options.paths, methods: options.methods,
  };
  return createHash('sha256').update(JSON.stringify(content) ?? '').digest('hex').slice(0, 8);
}

function sourceKey(field: ClientIpField, negated: boolean): string {
  if (!negated) return field;
  return field === ClientIpField.IP_BLOCKS ? 'notIpBlocks' : 'notRemoteIpBlocks';
}

/**
 * The empty list every policy without ports, paths, methods or own warnings shares: one array per app, not four
 * per policy kept for the app's lifetime. Frozen, so that a change to it throws instead of reaching other policies.
 */
const NONE: never[] = Object.freeze([]) as unknown as never[];

function unique<T>(values: T[]): T[] {
  return values.length === 0 ? NONE : [...new Set(values)];
}

function checkEnum<T>(property: string, value: T, allowed: T[]): T {
  if (!allowed.includes(value)) {
    throw new Error(`${property} ${JSON.stringify(value)} is not allowed: use one of ${allowed.map(a => JSON.stringify(a)).join(', ')}`);
  }
  return value;
}

function checkEmptiness(action: PolicyAction, count: number, negated: boolean, allowNothing: boolean, limited: boolean): void {
  if (allowNothing) {
    if (count > 0 || action !== PolicyAction.ALLOW || negated || limited) {
      throw new Error(`allowNothing true is only allowed with action ALLOW, an empty cidrs list and no negate, ports, paths or methods: remove allowNothing, or remove the ${count > 0 ? `${count} cidrs` : 'other options'}`);
    }
    return;
  }
  if (count > 0) return;
  if (action === PolicyAction.ALLOW && !negated) {
    throw new Error('cidrs [] is not allowed for an ALLOW policy: it would deny every request to the target; give at least one address or CIDR, or set allowNothing true if denying everything is what you mean');
  }
  throw new Error(`cidrs [] is not allowed for ${negated ? 'a negated' : 'a DENY'} policy: it would match nothing (istiod also rejects an empty source); give at least one address or CIDR`);
}

function checkPaths(paths: string[]): string[] {
  paths.forEach((p, i) => {
    const inner = typeof p === 'string' ? p.slice(1, -1) : '';
    if (typeof p !== 'string' || p === '' || inner.includes('*') || !(p.startsWith('/') || p.startsWith('*'))) {
      throw new Error(`paths[${i}] ${JSON.stringify(p)} is not allowed: use an absolute path such as "/admin", a prefix such as "/api/*" or a suffix such as "*.png"`);
    }
  });
  return unique(paths);
}

function checkMethods(methods: string[]): string[] {
  methods.forEach((m, i) => {
    if (typeof m !== 'string' || !METHOD.test(m)) {
      throw new Error(`methods[${i}] ${JSON.stringify(m)} is not allowed: use an upper-case HTTP method such as "GET" or "POST"`);
    }
  });
  return unique(methods);
}

/** Policies with the same key select the same pods in the same namespace. */
function targetKey(policy: SourceIpPolicy): string {
  const selector = policy.target.targetSelector;
  const refs = (policy.target.policyTargetRefs ?? []).map(r => `${r.group}/${r.kind}/${r.name}`).sort().join(',');
  return `${policy.namespace}\u0000${Object.keys(selector).sort().map(k => `${k}=${selector[k]}`).join(',')}\u0000${refs}`;
}

/** The target's `targetRefs`, when it attaches policies that way. */
function targetRefsOf(target: ISourceIpTarget): PolicyTargetRef[] | undefined {
  const refs = target.policyTargetRefs;
  return refs && refs.length > 0 ? refs.map(r => ({ group: r.group, kind: r.kind, name: r.name })) : undefined;
}

/** The SourceIpPolicies of each target (namespace, selector and attachment). */
const POLICIES_BY_TARGET = new Derived<Map<string, SourceIpPolicy[]>>('policies-by-target');
const POLICY_MODEL = new Derived<PolicyModel>('policy-model');
