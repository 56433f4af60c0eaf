import { finding } from '../../model/finding-text';
import { ClientIpField, PolicyAction, PolicyModel, PolicyTargetRef } from '../../model/model';
import { readCidr } from '../../net/cidr';
import { Finding, FindingSeverity } from '../explain-report';
import { gatewayTargetRefs } from '../gateway-api-reader';
import { shortValue } from '../read-values';
import { listOf, namespaceOf } from './objects';

/* AuthorizationPolicies into policy models, with the findings on their address fields. */

const CIDR_FIELDS: Array<{ key: string; field: ClientIpField; negated: boolean }> = [
  { key: 'ipBlocks', field: ClientIpField.IP_BLOCKS, negated: false },
  { key: 'notIpBlocks', field: ClientIpField.IP_BLOCKS, negated: true },
  { key: 'remoteIpBlocks', field: ClientIpField.REMOTE_IP_BLOCKS, negated: false },
  { key: 'notRemoteIpBlocks', field: ClientIpField.REMOTE_IP_BLOCKS, negated: true },
];

export function parsePolicy(o: any, findings: Finding[], attachesToWaypoint: (namespace: string, ref: PolicyTargetRef) => boolean): PolicyModel[] {
  const name = o.metadata?.name ?? 'unnamed';
  const namespace = namespaceOf(o);
  const where = `AuthorizationPolicy ${namespace}/${name}`;
  const action = o.spec?.action === 'DENY' ? PolicyAction.DENY : PolicyAction.ALLOW;
  if (o.spec?.action !== undefined && !['ALLOW', 'DENY'].includes(o.spec.action)) {
    findings.push(finding(FindingSeverity.INFO, where, `action ${shortValue(o.spec.action)} is not evaluated by explain`, 'none needed'));
    return [];
  }
  const targetRefs = targetRefsOf(o);
  const waypointRefs = targetRefs.filter(r => attachesToWaypoint(namespace, r));
  const gatewayRefs = gatewayTargetRefs(o).filter(g => !waypointRefs.some(r => r.kind === g.ref.kind && r.name === g.ref.name));
  const refCount = listOf(o.spec?.targetRefs).length + (o.spec?.targetRef ? 1 : 0);
  if (refCount > waypointRefs.length + gatewayRefs.length) {
    findings.push(finding(FindingSeverity.WARNING, where, 'targetRefs is ignored by sidecars and classic gateways (it only attaches to Gateway API gateways and waypoints)',
      'use spec.selector.matchLabels for sidecars and classic gateways'));
  }
  // A policy attached to Gateway API gateways reaches their pods (one model per Gateway); one attached to waypoints
  // reaches no pods by labels, nor does any other targetRefs policy (kept in the model, enforced nowhere explain traces).
  const attachments: Array<{ selector: { [key: string]: string }; targetRefs?: PolicyTargetRef[] }> = [
    ...gatewayRefs.map(g => ({ selector: g.selector, targetRefs: [g.ref] })),
    ...(waypointRefs.length > 0 ? [{ selector: {}, targetRefs: waypointRefs }] : []),
  ];
  if (refCount === 0) attachments.push({ selector: o.spec?.selector?.matchLabels ?? {} });
  else if (attachments.length === 0 && targetRefs.length > 0) attachments.push({ selector: {}, targetRefs });
  const out: PolicyModel[] = [];
  headerConditionFindings(o, where, findings);
  for (const rule of listOf(o.spec?.rules)) {
    const operations = listOf(rule?.to).map((t: any) => t?.operation ?? {});
    const ports = operations.flatMap((op: any) => listOf(op.ports)).map(Number).filter((p: number) => Number.isInteger(p));
    const http = operations.some((op: any) => listOf(op.paths).length + listOf(op.methods).length > 0);
    for (const from of listOf(rule?.from)) {
      for (const f of CIDR_FIELDS) {
        const raw: string[] | undefined = from?.source?.[f.key];
        if (!Array.isArray(raw)) continue;
        out.push(...attachments.map(a => ({
          name,
          namespace,
          selector: a.selector,
          ...(a.targetRefs ? { targetRefs: a.targetRefs } : {}),
          action,
          field: f.field,
          negated: f.negated,
          cidrs: raw.flatMap(c => policyCidr(c, `${where} ${f.key}`, findings)),
          ...(ports.length > 0 ? { ports } : {}),
          ...(http ? { matchesHttpAttributes: true } : {}),
        })));
      }
    }
  }
  return out;
}

/** `spec.targetRefs` (and the older singular `targetRef`), entries without a kind and name left out. */
function targetRefsOf(o: any): PolicyTargetRef[] {
  const refs = [...listOf(o.spec?.targetRefs), ...(o.spec?.targetRef ? [o.spec.targetRef] : [])];
  return refs.flatMap((r: any) => typeof r?.kind === 'string' && typeof r?.name === 'string'
    ? [{ group: typeof r.group === 'string' ? r.group : '', kind: r.kind, name: r.name }] : []);
}

/** Headers that carry client addresses but are matched as exact strings by `request.headers[...]` conditions. */
const ADDRESS_HEADERS = ['x-forwarded-for', 'x-envoy-external-address', 'x-real-ip', 'cf-connecting-ip', 'true-client-ip', 'x-azure-clientip'];

/**
 * `when: request.headers[x-forwarded-for]` compares the whole header as a string (prefix/suffix/`*` at most):
 * a CIDR never matches, a list header matches only when it is exactly that string, and the client writes it
 * (istio/istio#54861).
 */
function headerConditionFindings(o: any, where: string, findings: Finding[]): void {
  const keys = new Set<string>();
  for (const rule of listOf(o.spec?.rules)) {
    for (const condition of listOf(rule?.when)) {
      const match = typeof condition?.key === 'string' ? /^request\.headers\[(.+)\]$/.exec(condition.key.trim()) : null;
      if (match && ADDRESS_HEADERS.includes(match[1].trim().toLowerCase())) keys.add(match[1].trim().toLowerCase());
    }
  }
  for (const header of keys) {
    findings.push(finding(FindingSeverity.WARNING, where,
      `compares client addresses through the header condition request.headers[${header}]: header conditions match exact strings (or a prefix/suffix), not CIDRs, so "10.0.0.0/8" never matches an address, an X-Forwarded-For list matches only as the whole string, and the client can write the header (istio/istio#54861)`,
      'match addresses with source.remoteIpBlocks (the client Envoy resolved) or source.ipBlocks (the peer), on the proxy whose topology makes that field the client'));
  }
}

/** istiod accepts host bits (Go netip.ParsePrefix) and masks them; so does explain, with a warning. */
export function policyCidr(text: string, where: string, findings: Finding[]): string[] {
  const read = readCidr(text, where);
  if (read.cidr === undefined) {
    findings.push(finding(FindingSeverity.ERROR, where, read.error ?? `"${text}" is not an address or CIDR`, 'istiod rejects the policy; fix the CIDR'));
    return [];
  }
  if (read.hostBitsSet) {
    findings.push(finding(FindingSeverity.WARNING, where, `"${text}" has host bits set; istiod treats it as ${read.cidr.text}`, `write "${read.cidr.text}"`));
  }
  return [read.cidr.text];
}
