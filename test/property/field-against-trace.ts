import { IConstruct } from 'constructs';
import {
  ClientIpField, FindingSeverity, SourceIpPolicy,
} from '../../src';
import { PolicyModel } from '../../src/model/model';
import { Topology } from '../../src/model/topology';
import { TraceResult } from '../../src/trace/app-trace';
import { topologyTraces } from '../../src/trace/topology-trace';
import { HopTrace, PathTrace } from '../../src/trace/trace-types';
import { clusterKeyOf } from '../../src/util/duplicate-objects';

/*
 * Each policy's field against the trace. A SourceIpPolicy left to choose its field (ipBlocks or remoteIpBlocks) by
 * the target's topology must choose the one that sees the client: at every hop of every traced path where the
 * policy applies, if the other field's address there is the path's client (203.0.113.10 through the gateway, the
 * caller pod east-west), the chosen field's address is too. One exception, by design: a sidecar's remote.ip without
 * an XffSidecarFilter is the rightmost X-Forwarded-For entry, which any in-mesh caller writes (istio/istio#30166),
 * so ipBlocks (the direct peer) is chosen there even when that entry happens to be the client. And a remoteIpBlocks
 * choice on a sidecar that misses the client the gateway resolved must be reported by the trace: a warning naming
 * the policy, or an ERROR on the path.
 *
 * What it does not judge: whether a field is forgeable by in-mesh callers (a sidecar's remote.ip always is, with or
 * without trusted hops). The trace reports that as a warning, which the round trip compares on both sides.
 *
 * The addresses are the trace's own (`PolicyMatch.address` for the chosen field; the hop's socket peer or resolved
 * client for the other), so a wrong choice fails here whatever rule made it (see field-against-trace.test.ts).
 */

/** Counts for the suite's summary. */
export const fieldCheckCounter = { policies: 0, hops: 0, sawClient: 0 };

const REMOTE_FIELDS = new Set(['remoteIpBlocks', 'notRemoteIpBlocks']);

/** The address a field matches at `hop`: the socket peer for ipBlocks, the resolved client for remoteIpBlocks. */
function addressFor(remote: boolean, hop: HopTrace): string | undefined {
  return remote ? hop.clientAddress ?? hop.socketPeer : hop.socketPeer;
}

function rightmostXff(hop: HopTrace): string | undefined {
  const entries = (hop.xForwardedFor ?? '').split(',').map(e => e.trim()).filter(e => e !== '');
  return entries[entries.length - 1];
}

/**
 * Throws when a policy in `policies` (keyed `namespace/name`) chose a field that misses the client where the other
 * field sees it, in `result` (one cluster's trace).
 */
export function assertFieldsAgainstTrace(result: TraceResult, policies: ReadonlyArray<PolicyModel>): void {
  const byKey = new Map(policies.map(p => [`${p.namespace}/${p.name}`, p]));
  const seen = new Set<string>();
  for (const path of result.paths) {
    path.hops.forEach(hop => {
      for (const match of hop.policies) {
        const policy = byKey.get(match.policy);
        if (!policy) continue;
        seen.add(match.policy);
        fieldCheckCounter.hops++;
        checkHop(path, hop, policy, match.field, match.address);
      }
    });
  }
  fieldCheckCounter.policies += seen.size;
}

function checkHop(path: PathTrace, hop: HopTrace, policy: PolicyModel, field: string, address: string): void {
  const where = `policy ${policy.namespace}/${policy.name} (${field}) at hop "${hop.hop}" of "${path.title}" (${path.protocol})`;
  const remote = REMOTE_FIELDS.has(field);
  // The trace matched the field the policy has, against the address that field reads at this hop.
  if (remote !== (policy.field === ClientIpField.REMOTE_IP_BLOCKS)) throw new Error(`${where}: the trace matched ${field}, the policy has ${policy.field}`);
  if (address !== addressFor(remote, hop)) throw new Error(`${where}: matched ${address}, but the hop reads ${addressFor(remote, hop)} for that field`);
  const client = path.clientAddress;
  const other = addressFor(!remote, hop);
  if (address === client) {
    fieldCheckCounter.sawClient++;
    return;
  }
  if (other === client) {
    // A sidecar's default remote.ip is the rightmost X-Forwarded-For entry, which the caller writes: ipBlocks by design.
    const callerWritten = !remote && hop.hop.startsWith('sidecar ') && rightmostXff(hop) === other;
    if (!callerWritten) {
      throw new Error(`${where}: the chosen field matches ${address}, but the other field matches the client ${client} there`);
    }
  }
  // remoteIpBlocks chosen on a sidecar behind a gateway that resolved the client: the trace must say it misses it.
  if (remote && hop.hop.startsWith('sidecar ') && path.direction === 'north-south' && path.protocol === 'HTTP') {
    const gatewayResolved = path.hops.some(h => h.hop.startsWith('gateway ') && h.clientAddress === client);
    // A warning naming the policy, or an ERROR on the path (the constructs refuse such output: it never synthesises).
    const reported = path.findings.some(f => f.severity === FindingSeverity.ERROR
      || (f.severity === FindingSeverity.WARNING && f.message.includes(`${policy.namespace}/${policy.name}`)));
    if (gatewayResolved && !reported) {
      throw new Error(`${where}: the gateway resolved the client ${client}, the policy's field matches ${address} on the sidecar, and the trace reports nothing about it`);
    }
  }
}

/**
 * Checks every SourceIpPolicy under `scope` whose field is the one its target's topology calls for (left to
 * choose, or forced to that same field) against the trace of its cluster.
 */
export function assertPolicyFields(scope: IConstruct): void {
  const topology = Topology.of(scope);
  const chosen = topology.policies
    .filter((p): p is SourceIpPolicy => p instanceof SourceIpPolicy && p.node.scopes.includes(scope))
    .filter(p => p.field === SourceIpPolicy.recommendedField(p.target));
  for (const cluster of topologyTraces(topology)) {
    const mine = chosen.filter(p => clusterKeyOf(p) === cluster.key).map(p => p._policyModel());
    if (mine.length > 0) assertFieldsAgainstTrace(cluster.result, mine);
  }
}
