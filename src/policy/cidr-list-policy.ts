import { Construct } from 'constructs';
import { SourceIpPolicy, SourceIpRuleOptions } from './source-ip-policy';
import { IstioVersion } from '../model/istio-version';
import { ISourceIpTarget, PolicyAction } from '../model/model';
import { CidrList } from '../net/cidr-list';
import { checkInteger } from '../util/validate';

/**
 * Blocks per AuthorizationPolicy by default. About 30 bytes of YAML per block, so 1,000 blocks keep one object
 * near 30 KiB: far below etcd's 1.5 MiB request limit, and small enough that istiod's push of one changed object
 * and `kubectl diff` stay readable.
 */
const DEFAULT_MAX_CIDRS_PER_POLICY = 1000;
/** The most a user may put in one object: about 300 KiB of YAML, a fifth of etcd's default request limit. */
const MAX_CIDRS_PER_POLICY = 10000;
/** Kubernetes names are DNS labels of at most 63 characters; room for a "-NNN" part suffix. */
const MAX_BASE_NAME = 59;

/** Properties of `CidrListPolicy`. */
export interface CidrListPolicyProps extends SourceIpRuleOptions {
  /** The gateway or meshed workload whose proxy enforces the policies. */
  readonly target: ISourceIpTarget;

  /** The addresses, aggregated (see `CidrList`). */
  readonly list: CidrList;

  /**
   * ALLOW (only these clients, once any ALLOW policy selects the proxy) or DENY.
   *
   * @default PolicyAction.ALLOW
   */
  readonly action?: PolicyAction;

  /**
   * The most CIDR blocks in one AuthorizationPolicy; longer lists are split over several policies. Splitting keeps
   * the meaning: several ALLOW policies on one proxy are OR-ed (a request matching any of them is allowed), and
   * several DENY policies too (a request matching any of them is denied), so each part carries a slice of the list.
   * A negated list (`negate: true`, "everyone outside the list") cannot be split - the parts would each match almost
   * everything - and must fit into one policy.
   *
   * @default 1000
   */
  readonly maxCidrsPerPolicy?: number;

  /**
   * The Istio release the manifests are for.
   *
   * @default - IstioVersion.resolve(this)
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * The AuthorizationPolicies for a large address list (`CidrList`): the aggregated blocks split over as many
 * `SourceIpPolicy` objects as `maxCidrsPerPolicy` requires, in list order, so the output is deterministic.
 * Each part is an ordinary `SourceIpPolicy` (same field choice and checks). Parts are named `<name>-<n>`, from 1.
 */
export class CidrListPolicy extends Construct {
  /** The policies, one per part of the list. */
  public readonly policies: SourceIpPolicy[];

  /** The list the policies were built from. */
  public readonly list: CidrList;

  constructor(scope: Construct, id: string, props: CidrListPolicyProps) {
    super(scope, id);
    if (!props || !props.target) throw new Error('target is required: pass the gateway or workload whose proxy enforces the policies');
    if (!(props.list instanceof CidrList)) {
      throw new Error(`list ${JSON.stringify(props.list)} is not a CidrList: build it with CidrList.fromFile(), CidrList.fromText() or CidrList.fromCidrs()`);
    }
    this.list = props.list;
    const max = checkInteger('maxCidrsPerPolicy', props.maxCidrsPerPolicy ?? DEFAULT_MAX_CIDRS_PER_POLICY, 1, MAX_CIDRS_PER_POLICY,
      'split long lists over several policies instead of making one object larger');
    const cidrs = this.list.cidrs;
    if (props.negate && cidrs.length > max) {
      throw new Error(`list ${this.list.name} has ${cidrs.length} blocks with negate true, more than maxCidrsPerPolicy ${max}: a negated list cannot be split (each part would match everything outside its own slice, which is nearly everything); `
        + 'raise maxCidrsPerPolicy (up to 10000), or turn it around: an ALLOW policy on the list instead of a DENY on everything outside it');
    }
    if (props.name !== undefined && props.name.length > MAX_BASE_NAME) {
      throw new Error(`name ${JSON.stringify(props.name)} is ${props.name.length} characters: at most ${MAX_BASE_NAME} are allowed, so that the part suffix "-<n>" keeps it a 63-character DNS label; shorten it`);
    }
    const parts = cidrs.length === 0 ? [[]] : chunksOf(cidrs, max);
    this.policies = parts.map((part, i) => new SourceIpPolicy(this, `Part${i + 1}`, Object.assign({}, props, {
      cidrs: part,
      name: props.name === undefined ? undefined : `${props.name}-${i + 1}`,
    })));
  }
}

function chunksOf<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
