import { ClientAddressResolver } from '../../src/explain/client-address-resolver';
import { ProxyProtocolVersion } from '../../src/model/model';
import { TrustChain, TrustHop } from '../../src/model/trust-chain';
import { addressInCidr, parseCidr } from '../../src/net/cidr';

/*
 * For every trust-chain preset, a client that forges X-Forwarded-For (any length, any content, including
 * addresses inside the trusted ranges) cannot make the gateway, or the sidecar configured from the chain,
 * resolve anything but the real client, or at worst (variable CDN paths at the gateway) a proxy's address.
 */

const CLIENT = '203.0.113.10';
const NODE = '10.0.0.4';
const GW_POD = '10.244.0.5';
const CLUSTER_CIDRS = ['10.0.0.0/16', '10.244.0.0/16'];

const PRESETS: { [name: string]: () => TrustChain } = {
  'direct': () => TrustChain.direct(),
  'l4 pass-through': () => TrustChain.of(TrustHop.l4PassThrough()),
  'l4 PROXY': () => TrustChain.of(TrustHop.l4ProxyProtocol({ proxyProtocolVersion: ProxyProtocolVersion.V2 })),
  'l7 LB': () => TrustChain.of(TrustHop.l7LoadBalancer()),
  'CDN -> l7 LB': () => TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer()),
  'CDN -> l4 pass-through': () => TrustChain.of(TrustHop.cdn(), TrustHop.l4PassThrough()),
  'CDN -> l4 PROXY': () => TrustChain.of(TrustHop.cdn(), TrustHop.l4ProxyProtocol()),
  'CDN -> l7 LB -> l4 pass-through': () => TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer(), TrustHop.l4PassThrough()),
  'variable CDN -> l7 LB': () => TrustChain.of(
    TrustHop.cdn({ variableHops: true, cidrs: ['198.51.100.0/25'] }),
    TrustHop.l7LoadBalancer({ cidrs: ['198.51.100.128/25'] })),
};

const FORGERIES = [
  [], ['192.0.2.66'], ['192.0.2.66', '192.0.2.67'], ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5'],
  ['198.51.100.7'], ['198.51.100.7', '198.51.100.200', '10.0.0.9'], ['not-an-ip', '192.0.2.66'], ['2001:db8::66'],
];

interface Arrival { peer: string; proxySource?: string; xff: string[]; proxyAddresses: string[] }

/** Sends a request with a forged XFF through the chain; a variable hop appends `extra` more entries from its range. */
function walk(chain: TrustChain, forged: string[], extra: number): Arrival {
  let peer = CLIENT;
  let proxySource: string | undefined;
  let xff = [...forged];
  const proxyAddresses: string[] = [];
  chain.hops.forEach((hop, i) => {
    const base = hop.cidrs.length > 0 ? hop.cidrs[0].split('/')[0].split('.').slice(0, 3).join('.') : '198.51.100';
    const own = (k: number) => `${base}.${hop.cidrs.length > 0 ? Number(hop.cidrs[0].split('/')[0].split('.')[3]) + 1 + k : 11 + i}`;
    if (hop.appendsXff) {
      const internal = hop.variableHops ? Array.from({ length: extra }, (_, k) => own(k + 10)) : [];
      xff = [...xff, peer, ...internal.slice(0, -1)];
      peer = internal.length > 0 ? internal[internal.length - 1] : own(0);
      proxyAddresses.push(peer, ...internal);
    } else if (hop.sendsProxyProtocol) {
      proxySource = peer;
      peer = own(0);
      proxyAddresses.push(peer);
    }
  });
  return { peer, proxySource, xff, proxyAddresses };
}

describe.each(Object.keys(PRESETS))('chain %s', (name) => {
  const chain = PRESETS[name]();
  const derived = chain.derive();

  test.each(FORGERIES.map(f => [f.join(',') || '(none)', f]))('forged XFF %s cannot choose the client', (_label, forged) => {
    for (let extra = 0; extra <= (derived.variableHops ? 3 : 0); extra++) {
      // GIVEN a request through the chain, arriving with the derived external traffic policy
      const arrival = walk(chain, forged as string[], extra);
      const l3peer = derived.externalTrafficPolicy === 'Cluster' ? NODE : arrival.peer;
      const downstream = derived.proxyProtocol ? arrival.proxySource! : l3peer;
      // WHEN the gateway resolves with the derived numTrustedProxies
      const gw = ClientAddressResolver.resolve({ useRemoteAddress: true, xffNumTrustedHops: derived.numTrustedProxies, downstreamAddress: downstream, xForwardedFor: arrival.xff.join(',') || undefined });
      // THEN it is the client, or (variable paths only) a proxy address, never a forged one
      if (derived.variableHops) {
        expect([CLIENT, ...arrival.proxyAddresses]).toContain(gw.trustedClientAddress);
      } else {
        expect(gw.trustedClientAddress).toBe(CLIENT);
      }
      expect(forged).not.toContain(gw.trustedClientAddress);

      // AND the sidecar configured from the chain resolves the client
      const sidecar = derived.variableHops
        ? { xffTrustedCidrs: [...derived.trustedCidrs, ...CLUSTER_CIDRS] }
        : { xffNumTrustedHops: derived.numTrustedProxies };
      const resolved = ClientAddressResolver.resolve({
        useRemoteAddress: false, ...sidecar, downstreamAddress: GW_POD, xForwardedFor: gw.forwardedFor,
      });
      expect(resolved.trustedClientAddress).toBe(CLIENT);
    }
  });
});

test('the forged ranges used above really overlap the trusted CIDRs (the test would catch a CIDR walk that trusts them)', () => {
  expect(addressInCidr('198.51.100.7', parseCidr('198.51.100.0/25'))).toBe(true);
});
