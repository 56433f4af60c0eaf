import { checkAllowDenyConflicts, checkPolicyAgainstTarget, Findings, PolicyOnTarget } from './policy-checks';
import { findingFromText } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { PolicyModel, ProxyRole } from '../model/model';
import { namespaceReaches, sameSelector, selectorMatches } from '../model/selectors';
import { TopologyModel } from '../model/topology';

/*
 * The checks of a whole topology as findings of one shape ({severity, where, message, fix}). The constructs run
 * the same pure functions on their own objects (SourceIpPolicy: errors fail synthesis, warnings become
 * SourceIpWarnings); `explain` runs this on the topology it parsed and prints every finding.
 */

/** Every finding about the policies of `topology`; `rootNamespaces` reach every namespace. */
export function checkTopology(topology: TopologyModel, rootNamespaces: string[]): Finding[] {
  const findings: Finding[] = [];
  const onTarget = (p: PolicyModel): PolicyOnTarget => ({
    policy: p,
    limited: (p.ports ?? []).length > 0 || p.matchesHttpAttributes === true,
    where: `${p.action} policy "${p.namespace}/${p.name}"`,
  });
  for (const policy of topology.policies) {
    const where = `AuthorizationPolicy ${policy.namespace}/${policy.name}`;
    const selects = (t: { namespace: string; selector: { [key: string]: string } }) =>
      namespaceReaches(policy.namespace, t.namespace, rootNamespaces) && selectorMatches(policy.selector, t.selector);
    const gateways = topology.gateways.filter(selects);
    const workloads = topology.workloads.filter(selects);
    const base = { policy, ports: policy.ports ?? [], matchesHttpAttributes: policy.matchesHttpAttributes === true, fieldForced: true };
    for (const gateway of gateways) add(findings, where, checkPolicyAgainstTarget({ ...base, role: ProxyRole.GATEWAY, gateway }));
    for (const workload of workloads) add(findings, where, checkPolicyAgainstTarget({ ...base, role: workload.role, workload }));
    const others = topology.policies.filter(o => o !== policy && o.namespace === policy.namespace && sameSelector(o.selector, policy.selector));
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
