import { checkAllowDenyConflicts, checkPolicyAgainstTarget, Findings, PolicyOnTarget, sameTargetRefs } from './policy-checks';
import { waypointsOfPolicy, workloadsUsing } from '../model/ambient';
import { findingFromText } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { PolicyModel, ProxyRole, WorkloadModel } from '../model/model';
import { policyReaches, sameSelector, selectorMatches } from '../model/selectors';
import { TopologyModel } from '../model/topology';

/*
 * The checks of a whole topology as findings of one shape ({severity, where, message, fix}). The constructs run
 * the same pure functions on their own objects (SourceIpPolicy: errors fail synthesis, warnings become
 * SourceIpWarnings); `explain` runs this on the topology it parsed and prints every finding.
 */

/**
 * Every finding about the policies of `topology`; `rootNamespaces` reach every namespace. `workloadsOfService`
 * resolves a policy's `targetRefs` of kind Service (`namespace`, `name`) to the workloads behind it.
 */
export function checkTopology(topology: TopologyModel, rootNamespaces: string[],
  workloadsOfService: (namespace: string, name: string) => WorkloadModel[] = () => [],
  namespaceWaypoints: ReadonlyMap<string, string> = new Map()): Finding[] {
  const findings: Finding[] = [];
  const onTarget = (p: PolicyModel): PolicyOnTarget => ({
    policy: p,
    limited: (p.ports ?? []).length > 0 || p.matchesHttpAttributes === true,
    where: `${p.action} policy "${p.namespace}/${p.name}"`,
  });
  for (const policy of topology.policies) {
    const where = `AuthorizationPolicy ${policy.namespace}/${policy.name}`;
    const selects = (t: { namespace: string; selector: { [key: string]: string } }) =>
      policyReaches(policy.namespace, (policy.targetRefs ?? []).length > 0, t.namespace, rootNamespaces)
      && selectorMatches(policy.selector, t.selector);
    const gateways = topology.gateways.filter(selects);
    const workloads = topology.workloads.filter(selects);
    const base = { policy, ports: policy.ports ?? [], matchesHttpAttributes: policy.matchesHttpAttributes === true, fieldForced: true };
    if ((policy.targetRefs ?? []).length > 0) {
      // Attached with targetRefs: sidecars, classic gateways and ztunnel ignore it; the Gateway API gateways (whose
      // pods its selector names) and the waypoints it names enforce it.
      if (Object.keys(policy.selector).length > 0) {
        for (const gateway of gateways) add(findings, where, checkPolicyAgainstTarget(Object.assign({}, base, { role: ProxyRole.GATEWAY, gateway })));
      }
      const waypoints = waypointsOfPolicy(policy, topology.waypoints, name => workloadsOfService(policy.namespace, name),
        namespaceWaypoints.get(policy.namespace));
      for (const waypoint of waypoints) {
        const waypointUsers = workloadsUsing(waypoint, topology.workloads);
        add(findings, where, checkPolicyAgainstTarget(Object.assign({}, base, { role: ProxyRole.WAYPOINT, waypoint, waypointUsers })));
      }
      const others = topology.policies
        .filter(o => o !== policy && o.namespace === policy.namespace && sameTargetRefs(o.targetRefs, policy.targetRefs));
      add(findings, where, checkAllowDenyConflicts(onTarget(policy), others.map(onTarget)));
      continue;
    }
    for (const gateway of gateways) add(findings, where, checkPolicyAgainstTarget(Object.assign({}, base, { role: ProxyRole.GATEWAY, gateway })));
    for (const workload of workloads) add(findings, where, checkPolicyAgainstTarget(Object.assign({}, base, { role: workload.role, workload })));
    const others = topology.policies.filter(o => o !== policy && o.namespace === policy.namespace && sameSelector(o.selector, policy.selector)
      && (o.targetRefs ?? []).length === 0);
    add(findings, where, checkAllowDenyConflicts(onTarget(policy), others.map(onTarget)));
  }
  return dedupe(findings);
}

function add(findings: Finding[], where: string, result: Findings): void {
  findings.push(...result.errors.map(e => findingFromText(FindingSeverity.ERROR, where, e)));
  findings.push(...result.warnings.map(w => findingFromText(FindingSeverity.WARNING, where, w)));
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter(f => {
    const key = `${f.severity}|${f.where}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
