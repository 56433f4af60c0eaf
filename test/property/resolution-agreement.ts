import { TraceModel } from '../../src/model/trace-model';
import { ADDRESSES, TraceContext } from '../../src/trace/context';
import { GatewayResolution, resolveAtGateway, throughGateway } from '../../src/trace/gateway-hop';
import { SelectorIndex } from '../../src/trace/selector-index';
import { resolveAtWorkload, throughWorkload, WorkloadResolution } from '../../src/trace/workload-hop';

/*
 * The trace reads the forged and bypassing requests through `resolveAtGateway` and `resolveAtWorkload`, which skip
 * the hops that nobody shows. They must decide exactly what `throughGateway` and `throughWorkload` decide for the same
 * request: checked on every model of the round trip (every accepted case of the property suite and the example app).
 */

/** Counts of what was compared, for the suite's summary. */
export const resolutionCounter = { gateway: 0, workload: 0 };

const GATEWAY_FIELDS: ReadonlyArray<keyof GatewayResolution> = [
  'clientAddress', 'downstreamAddress', 'internal', 'forwardedFor', 'externalAddress', 'fellBack', 'headers',
];
const WORKLOAD_FIELDS: ReadonlyArray<keyof WorkloadResolution> = ['clientAddress', 'viaProxyProtocol', 'rejected', 'forwardedFor', 'appPeer'];

function pick<T>(value: T, fields: ReadonlyArray<keyof T>): string {
  return JSON.stringify(fields.map(f => [f, value[f]]));
}

/** Throws on the first request for which the resolution alone and the traced hop decide differently. */
export function assertResolutionsAgree(model: TraceModel): void {
  for (const internal of [true, false]) {
    const ctx: TraceContext = {
      policies: [],
      policyIndex: new SelectorIndex(),
      rootNamespaces: model.rootNamespaces,
      privateAddressesAreInternal: internal,
      proxyProtocolTo: new Map(),
      waypointPolicies: new Map(),
      rateLimits: [],
    };
    for (const gw of model.gateways) {
      for (const protocol of ['HTTP', 'TCP']) {
        for (const xff of [[], ADDRESSES.forged]) {
          const alone = pick(resolveAtGateway(gw, protocol, ctx, xff), GATEWAY_FIELDS);
          const traced = pick(throughGateway(gw, protocol, ctx, xff), GATEWAY_FIELDS);
          resolutionCounter.gateway++;
          if (alone !== traced) throw new Error(`gateway ${gw.model.namespace}/${gw.model.name} ${protocol} xff ${xff.join(',')}: resolved ${alone}, traced ${traced}`);
        }
      }
    }
    if (!internal) continue;
    for (const wl of model.workloads) {
      const header = wl.clientHeaderName;
      for (const peer of [ADDRESSES.gatewayPod, ADDRESSES.meshClientPod]) {
        for (const protocol of ['HTTP', 'TCP']) {
          for (const xff of [undefined, ADDRESSES.client, ADDRESSES.forged.join(',')]) {
            for (const headers of [undefined, ...(header ? [{ [header]: ADDRESSES.forged[3] }] : [])]) {
              for (const proxySource of [undefined, ADDRESSES.client]) {
                const alone = pick(resolveAtWorkload(wl, peer, xff, protocol, headers, proxySource), WORKLOAD_FIELDS);
                const traced = pick(throughWorkload(wl, peer, xff, undefined, ctx, protocol, headers, proxySource), WORKLOAD_FIELDS);
                resolutionCounter.workload++;
                if (alone !== traced) throw new Error(`workload ${wl.namespace}/${wl.name} from ${peer} ${protocol} xff ${xff}: resolved ${alone}, traced ${traced}`);
              }
            }
          }
        }
      }
    }
  }
}
