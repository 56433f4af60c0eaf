import { ApiObject, Duration } from 'cdk8s';
import { Construct } from 'constructs';
import { RateLimitPerClientProps } from './rate-limit-props';
import type { EnvoyFilterSpecConfigPatches, EnvoyFilterSpecConfigPatchesMatchContext } from '../../imports/networking.istio.io';
import {
  ENVOY_DEFAULT_MAX_DYNAMIC_DESCRIPTORS, HCM_FILTER, LOCAL_RATE_LIMIT_FILTER, LOCAL_RATE_LIMIT_MIN_FILL_MILLIS, LOCAL_RATE_LIMIT_TYPE,
  REMOTE_ADDRESS_DESCRIPTOR_KEY, ROUTER_FILTER,
} from '../envoy/names';
import { NETWORKING } from '../ingress/l1';
import { IstioVersion } from '../model/istio-version';
import { ProxyRole } from '../model/model';
import { RateLimitModel } from '../model/rate-limit';
import { Topology } from '../model/topology';
import { joinTrace } from '../trace/topology-trace';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';
import { checkDnsSubdomain, checkInteger, checkTargetSelector, formatValue, withConstructPath } from '../util/validate';

/*
 * A per-client rate limit: Envoy's local rate limit on one proxy, keyed on the client address that proxy resolved.
 * The gateways and sidecar workloads offer it as `rateLimitPerClient()`; the trace decides whether the key at that
 * hop is the client (src/trace/rate-limit-hop.ts). Waypoints do not: istiod applies no EnvoyFilter patch in the
 * WAYPOINT context (pilot/pkg/networking/core/listener.go patches a waypoint's listeners as SIDECAR_INBOUND, and
 * envoyfilter/listener_patch.go `patchContextMatch` matches only that context or ANY; istio/istio master of
 * 2026-08-27), and a waypoint's route configuration for a Service with a VirtualService gets no route patches
 * (listener_waypoint.go `buildWaypointInboundHTTPRouteConfig`), so a waypoint limit would silently do nothing.
 */

/** The largest value of Envoy's uint32 token-bucket fields. */
const UINT32_MAX = 4_294_967_295;

/** What a proxy construct tells the rate limit about itself. @internal */
export interface RateLimitTarget {
  /** The proxy: GATEWAY or SIDECAR. */
  readonly proxy: ProxyRole;
  readonly namespace: string;
  /** Pod labels of the target (never empty). */
  readonly selector: { [key: string]: string };
  /** The target's name, for the default EnvoyFilter name. */
  readonly name: string;
  /** The Istio release the output is for. */
  readonly istioVersion: IstioVersion;
}

/** The default of `maxClients`. */
const DEFAULT_MAX_CLIENTS = 10_000;

/** The child id of the rate limit under its target: one per target. */
const ID = 'RateLimitPerClient';

/**
 * Adds the per-client rate limit of `target` (a construct of the library) as a child with a fixed id, so that its path
 * does not depend on call order; a second call on the same target is refused. Returns the EnvoyFilter.
 * @internal
 */
export function addRateLimitPerClient(scope: Construct, target: RateLimitTarget, props: RateLimitPerClientProps): ApiObject {
  if (scope.node.tryFindChild(ID) !== undefined) {
    throw withConstructPath(new Error(`rateLimitPerClient() is already called on "${scope.node.path}": a proxy gets one per-client limit; change the props of the first call instead of adding a second`), scope.node.path);
  }
  return new PerClientRateLimit(scope, ID, target, props).envoyFilter;
}

/** The EnvoyFilter of one per-client rate limit, registered in the topology. @internal */
class PerClientRateLimit extends Construct {
  public readonly envoyFilter: ApiObject;
  private readonly model: RateLimitModel;

  public constructor(scope: Construct, id: string, target: RateLimitTarget, props: RateLimitPerClientProps) {
    super(scope, id);
    try {
      const version = target.istioVersion;
      if (!version.supportsPerClientRateLimit) {
        throw new Error(`rateLimitPerClient() is not supported with istioVersion ${version.label}: Envoy keeps a token bucket per client address only from Envoy 1.34 (Istio 1.26); use istioVersion 1.26 or newer, or limit every client together with a plain local rate limit`);
      }
      const selector = checkTargetSelector('target', scope.node.path, target.selector, target.namespace, 'an EnvoyFilter');
      const { requests, fillIntervalMillis, burst, maxClients } = checkProps(props);
      const name = checkDnsSubdomain('name', props.name ?? `${target.name}-rate-limit-per-client`);
      this.model = {
        name,
        namespace: target.namespace,
        proxy: target.proxy,
        selector: { ...selector },
        requests,
        fillIntervalMillis,
        burst,
        maxClients,
      };
      this.envoyFilter = LibraryManifest.render(this, 'Resource', NETWORKING.EnvoyFilter, {
        metadata: { name, namespace: target.namespace },
        spec: { workloadSelector: { labels: { ...selector } }, configPatches: renderRateLimitPatches(this.model) },
      });
      Topology.of(this).addRateLimit(this);
      joinTrace(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** The rate limit as the trace reads it. @internal */
  public _rateLimitModel(): RateLimitModel {
    return this.model;
  }
}

/** The props, checked against what Envoy's token bucket accepts (envoy.type.v3.TokenBucket, local_rate_limit.proto). */
function checkProps(props: RateLimitPerClientProps): { requests: number; fillIntervalMillis: number; burst: number; maxClients: number } {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw new Error('rateLimitPerClient() needs props: give requests and per, for example { requests: 10, per: Duration.seconds(1) }');
  }
  const requests = checkInteger('requests', props.requests, 1, UINT32_MAX, 'it is how many requests each client may send per `per`');
  if (!(props.per instanceof Duration)) {
    throw new Error(`per ${formatValue(props.per)} is not allowed: give a cdk8s Duration of at least ${LOCAL_RATE_LIMIT_MIN_FILL_MILLIS}ms, for example Duration.seconds(1)`);
  }
  const fillIntervalMillis = props.per.toMilliseconds({ integral: false });
  if (!Number.isInteger(fillIntervalMillis) || fillIntervalMillis < LOCAL_RATE_LIMIT_MIN_FILL_MILLIS) {
    throw new Error(`per ${props.per.toHumanString()} is not allowed: Envoy's local rate limit refills at most every ${LOCAL_RATE_LIMIT_MIN_FILL_MILLIS}ms and counts whole milliseconds; use a whole number of milliseconds from ${LOCAL_RATE_LIMIT_MIN_FILL_MILLIS}, for example Duration.seconds(1)`);
  }
  const burst = checkInteger('burst', props.burst ?? requests, requests, UINT32_MAX, `a bucket smaller than requests (${requests}) would lower the rate to burst per \`per\`; leave burst out to use requests`);
  const maxClients = checkInteger('maxClients', props.maxClients ?? DEFAULT_MAX_CLIENTS, 1, UINT32_MAX,
    `it is how many client buckets each proxy keeps (Envoy's default is ${ENVOY_DEFAULT_MAX_DYNAMIC_DESCRIPTORS})`);
  return { requests, fillIntervalMillis, burst, maxClients };
}

/** The proto3 JSON of a Duration in whole milliseconds: "1s", "0.05s". */
function envoyDuration(millis: number): string {
  return `${millis / 1000}s`;
}

/** The EnvoyFilter context of each proxy a rate limit can patch. */
const CONTEXTS: { readonly [role: string]: ApiShaped<EnvoyFilterSpecConfigPatchesMatchContext> } = {
  [ProxyRole.GATEWAY]: 'GATEWAY',
  [ProxyRole.SIDECAR]: 'SIDECAR_INBOUND',
};

/**
 * The two patches: the local rate-limit HTTP filter before the router of every HTTP connection manager of the proxy,
 * with one descriptor whose `remote_address` entry has no value (a wildcard: Envoy gives each value its own bucket,
 * envoyproxy/envoy source/extensions/filters/common/local_ratelimit/dynamic_descriptor.cc), and on every virtual host
 * the `remote_address` action that produces that descriptor. The filter's own bucket is consumed only by requests no
 * descriptor matches (`always_consume_default_token_bucket: false`: a request without an IP address).
 */
function renderRateLimitPatches(m: RateLimitModel): ApiShaped<EnvoyFilterSpecConfigPatches>[] {
  const context = CONTEXTS[m.proxy];
  const bucket = { max_tokens: m.burst, tokens_per_fill: m.requests, fill_interval: envoyDuration(m.fillIntervalMillis) };
  const always = { default_value: { numerator: 100, denominator: 'HUNDRED' } };
  return [{
    applyTo: 'HTTP_FILTER',
    match: { context, listener: { filterChain: { filter: { name: HCM_FILTER, subFilter: { name: ROUTER_FILTER } } } } },
    patch: {
      operation: 'INSERT_BEFORE',
      value: {
        name: LOCAL_RATE_LIMIT_FILTER,
        typed_config: {
          '@type': LOCAL_RATE_LIMIT_TYPE,
          'stat_prefix': 'rate_limit_per_client',
          'token_bucket': bucket,
          'filter_enabled': always,
          'filter_enforced': always,
          'always_consume_default_token_bucket': false,
          'vh_rate_limits': 'INCLUDE',
          'descriptors': [{ entries: [{ key: REMOTE_ADDRESS_DESCRIPTOR_KEY }], token_bucket: bucket }],
          'max_dynamic_descriptors': m.maxClients,
        },
      },
    },
  }, {
    applyTo: 'VIRTUAL_HOST',
    match: { context },
    patch: {
      operation: 'MERGE',
      value: { rate_limits: [{ actions: [{ remote_address: {} }] }] },
    },
  }];
}
