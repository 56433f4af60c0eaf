import * as fc from 'fast-check';
import { cidrList, dnsLabel, mix, optional } from './arbitraries';
import { HopKind, HopOptions, ProxyProtocolVersion, TrustChain, TrustHop } from '../../src';

/** A trust chain as data, built inside the case so that its errors are checked too. */
export interface ChainSpec {
  readonly hops: Array<{ readonly kind: HopKind; readonly options: HopOptions }>;
}

const FACTORIES: { [kind: string]: (o: HopOptions) => TrustHop } = {
  [HopKind.CDN]: o => TrustHop.cdn(o),
  [HopKind.L7_LOAD_BALANCER]: o => TrustHop.l7LoadBalancer(o),
  [HopKind.L4_PASSTHROUGH]: o => TrustHop.l4PassThrough(o),
  [HopKind.L4_PROXY_PROTOCOL]: o => TrustHop.l4ProxyProtocol(o),
};

export const hopOptions: fc.Arbitrary<HopOptions> = fc.record({
  name: optional(mix(dnsLabel, fc.constantFrom('', ' ', 'ünï', 'x'.repeat(300)))),
  cidrs: optional(cidrList),
  variableHops: optional(fc.boolean()),
  proxyProtocolVersion: optional(mix(fc.constantFrom(ProxyProtocolVersion.V1, ProxyProtocolVersion.V2), fc.constantFrom<any>('V3', ''))),
}, { requiredKeys: [] });

/** Mostly short, plausible chains; hop options are sometimes hostile. */
export const chainSpec: fc.Arbitrary<ChainSpec> = fc.array(
  fc.record({
    kind: fc.constantFrom(...Object.values(HopKind)),
    options: fc.oneof({ arbitrary: fc.constant({}), weight: 3 }, { arbitrary: hopOptions, weight: 1 }),
  }),
  { maxLength: 4 },
).map(hops => ({ hops }));

export function buildChain(spec: ChainSpec): TrustChain {
  return TrustChain.of(...spec.hops.map(h => FACTORIES[h.kind](h.options)));
}
