import { statusPortFindings } from './status-port';
import { checkTopology } from './topology-checks';
import { tracePaths } from './trace';
import { PathTrace } from './trace-types';
import { Finding } from '../model/findings';
import { checkGatewayPorts, checkLoadBalancerAnnotations } from '../model/gateway-checks';
import { IstioVersion } from '../model/istio-version';
import { TraceModel } from '../model/trace-model';
import { checkXffFilterOverlaps } from '../model/xff-filter-checks';

/*
 * The one trace: the only place that computes, from the one model, which address each hop sees, what each policy
 * matches and what is wrong. The constructs report its findings about their own objects (ERROR as a validation
 * error, WARNING as a SourceIpWarnings entry), `explain` prints all of them, and the conformance stage and `verify`
 * read their expectations from it.
 */

/** Every path of a model and every finding about it. */
export interface TraceResult {
  /** The traced paths (each with the findings about that path). */
  readonly paths: PathTrace[];
  /** Findings of the walk that belong to no one path (what a waypoint's policies match, sampled workloads). */
  readonly findings: Finding[];
  /**
   * Findings of the checks the trace runs on the whole model (policies against their targets, filters, gateway ports,
   * load-balancer annotations, health checks): the constructs those checks are about report them themselves.
   */
  readonly checks: Finding[];
}

/** What a trace computes besides the walk. */
export interface TraceOptions {
  /**
   * Run the shared checks on the model too (policies, filters, gateway ports, load-balancer annotations, health
   * checks). The constructs report those through the constructs each check is about, so their trace skips them.
   * @default true
   */
  readonly checks?: boolean;
  /**
   * Draw every hop of every path. The constructs read only the findings: their trace leaves out the hops of the
   * east-west paths (each workload's own), which no finding reads, and keeps every finding (the round trip compares
   * both ways on every model).
   * @default true
   */
  readonly hops?: boolean;
}

/** Traces `model` with the Envoy defaults of `istioVersion` (else the model's own release, else the newest). */
export function trace(model: TraceModel, istioVersion?: IstioVersion, options: TraceOptions = {}): TraceResult {
  const version = istioVersion ?? model.istioVersion ?? IstioVersion.LATEST;
  const traced = tracePaths(model, version, options.hops !== false);
  if (options.checks === false) return { paths: traced.paths, findings: traced.findings, checks: [] };
  const topology = {
    gateways: model.gateways.map(g => g.model), workloads: model.workloads, policies: model.policies, waypoints: model.waypoints,
  };
  return {
    paths: traced.paths,
    findings: traced.findings,
    checks: [
      ...checkTopology(topology, model.rootNamespaces, model.workloadsOfService, model.namespaceWaypoints),
      ...checkXffFilterOverlaps(model.xffFilters),
      ...model.gateways.flatMap(g => checkGatewayPorts(g.model, g.loadBalancerSendsProxyProtocolOnEveryPort)),
      ...model.gateways.flatMap(g => checkLoadBalancerAnnotations(g.model, g.serviceAnnotations)),
      ...statusPortFindings(model.gateways, version),
    ],
  };
}

/**
 * Every finding of a trace that `keep` keeps, path findings first, each once (the same fact found on several paths is
 * one finding).
 */
export function allTraceFindings(result: TraceResult, keep: (f: Finding) => boolean = () => true): Finding[] {
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const f of [...result.paths.flatMap(p => p.findings), ...result.findings, ...result.checks]) {
    if (!keep(f)) continue;
    const key = `${f.severity}\u0000${f.where}\u0000${f.message}\u0000${f.fix}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(f);
  }
  return out;
}
