import { ExternalTrafficPolicy, ProxyProtocolVersion } from '../../src/model/model';
import { HopKind, TrustChain, TrustHop } from '../../src/model/trust-chain';

describe('TrustHop', () => {
  test('factories set kind, default name and what the hop carries', () => {
    // GIVEN / WHEN
    const hops = [TrustHop.cdn(), TrustHop.l7LoadBalancer(), TrustHop.l4PassThrough(), TrustHop.l4ProxyProtocol()];
    // THEN
    expect(hops.map(h => [h.kind, h.name, h.appendsXff, h.sendsProxyProtocol])).toEqual([
      [HopKind.CDN, 'cdn', true, false],
      [HopKind.L7_LOAD_BALANCER, 'l7-load-balancer', true, false],
      [HopKind.L4_PASSTHROUGH, 'l4-passthrough', false, false],
      [HopKind.L4_PROXY_PROTOCOL, 'l4-proxy-protocol', false, true],
    ]);
  });

  test('normalises cidrs', () => {
    const hop = TrustHop.cdn({ name: 'edge', cidrs: ['198.51.100.7', '2001:db8::/32'] });
    expect(hop.cidrs).toEqual(['198.51.100.7/32', '2001:db8::/32']);
    expect(hop.name).toBe('edge');
  });

  test('fails on a bad cidr, naming the hop', () => {
    expect(() => TrustHop.cdn({ name: 'edge', cidrs: ['198.51.100.1/24'] })).toThrow(/edge\.cidrs\[0\]: "198.51.100.1\/24" has host bits set/);
  });

  test('fails with variableHops on an L4 hop', () => {
    expect(() => TrustHop.l4PassThrough({ variableHops: true, cidrs: ['198.51.100.0/24'] })).toThrow(/variableHops true is not allowed on a l4-passthrough hop/);
  });

  test('fails with variableHops and no cidrs', () => {
    expect(() => TrustHop.cdn({ variableHops: true })).toThrow(/cdn\.cidrs is empty but variableHops is true/);
  });

  test('fails with proxyProtocolVersion on a non-PROXY hop', () => {
    expect(() => TrustHop.l7LoadBalancer({ proxyProtocolVersion: ProxyProtocolVersion.V2 })).toThrow(/proxyProtocolVersion V2 is not allowed on a l7-load-balancer hop/);
  });

  test('fails with an empty name', () => {
    expect(() => TrustHop.cdn({ name: ' ' })).toThrow(/name " " is not allowed/);
  });
});

describe('TrustChain.derive', () => {
  test('direct: nothing trusted, Local', () => {
    expect(TrustChain.direct().derive()).toEqual({
      numTrustedProxies: 0,
      proxyProtocol: false,
      proxyProtocolVersion: undefined,
      externalTrafficPolicy: ExternalTrafficPolicy.LOCAL,
      trustedCidrs: [],
      variableHops: false,
    });
  });

  test('L4 pass-through: Local, no trusted proxies', () => {
    const d = TrustChain.of(TrustHop.l4PassThrough()).derive();
    expect(d.numTrustedProxies).toBe(0);
    expect(d.proxyProtocol).toBe(false);
    expect(d.externalTrafficPolicy).toBe(ExternalTrafficPolicy.LOCAL);
  });

  test('a PROXY hop counts 0 trusted proxies (istio/istio#31704) and needs PROXY at the gateway', () => {
    const d = TrustChain.of(TrustHop.l4ProxyProtocol({ proxyProtocolVersion: ProxyProtocolVersion.V2 })).derive();
    expect(d.numTrustedProxies).toBe(0);
    expect(d.proxyProtocol).toBe(true);
    expect(d.proxyProtocolVersion).toBe(ProxyProtocolVersion.V2);
    expect(d.externalTrafficPolicy).toBe(ExternalTrafficPolicy.CLUSTER);
  });

  test('CDN -> L7 LB -> L4 pass-through: two trusted proxies, Cluster is fine', () => {
    const d = TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer(), TrustHop.l4PassThrough()).derive();
    expect(d.numTrustedProxies).toBe(2);
    expect(d.proxyProtocol).toBe(false);
    expect(d.externalTrafficPolicy).toBe(ExternalTrafficPolicy.CLUSTER);
  });

  test('CDN -> L4 PROXY: one trusted proxy and PROXY', () => {
    const d = TrustChain.of(TrustHop.cdn(), TrustHop.l4ProxyProtocol()).derive();
    expect(d.numTrustedProxies).toBe(1);
    expect(d.proxyProtocol).toBe(true);
  });

  test('a PROXY header survives an L4 pass-through hop after it', () => {
    const d = TrustChain.of(TrustHop.l4ProxyProtocol(), TrustHop.l4PassThrough()).derive();
    expect(d.proxyProtocol).toBe(true);
  });

  test('variable hops: trusted CIDRs are the union, numTrustedProxies the lower bound', () => {
    const d = TrustChain.of(
      TrustHop.cdn({ variableHops: true, cidrs: ['198.51.100.0/25', '2001:db8:1::/48'] }),
      TrustHop.l7LoadBalancer({ cidrs: ['198.51.100.128/25', '198.51.100.0/25'] }),
    ).derive();
    expect(d.variableHops).toBe(true);
    expect(d.trustedCidrs).toEqual(['198.51.100.0/25', '2001:db8:1::/48', '198.51.100.128/25']);
    expect(d.numTrustedProxies).toBe(2);
  });

  test('without variable hops trustedCidrs stays empty even when hops have cidrs', () => {
    expect(TrustChain.of(TrustHop.cdn({ cidrs: ['198.51.100.0/24'] })).derive().trustedCidrs).toEqual([]);
  });

  test('hops are client side first and copied', () => {
    const hops = [TrustHop.cdn({ name: 'cloudfront' }), TrustHop.l4PassThrough({ name: 'nlb' })];
    const chain = TrustChain.of(...hops);
    hops.pop();
    expect(chain.hops.map(h => h.name)).toEqual(['cloudfront', 'nlb']);
    expect(chain.describe()).toBe('client -> cloudfront -> nlb -> gateway');
  });

  test('fails when an L7 hop follows a PROXY hop', () => {
    expect(() => TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'nlb' }), TrustHop.l7LoadBalancer({ name: 'alb' })))
      .toThrow(/hop "nlb" sends PROXY protocol but hop "alb" after it is an L7 proxy.*declare "nlb" as TrustHop.l4PassThrough\(\)/);
  });

  test('fails with two PROXY hops', () => {
    expect(() => TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'a' }), TrustHop.l4ProxyProtocol({ name: 'b' })))
      .toThrow(/hops "a" and "b" both send PROXY protocol/);
  });

  test('fails on something that is not a hop', () => {
    expect(() => TrustChain.of({ kind: 'cdn' } as any)).toThrow(/hops\[0\] .* is not a TrustHop/);
  });
});

describe('trust-chain annotation', () => {
  test('round-trips through toAnnotationValue / fromAnnotationValue', () => {
    const chain = TrustChain.of(TrustHop.cdn({ name: 'edge', cidrs: ['198.51.100.0/24'], variableHops: true }), TrustHop.l4ProxyProtocol({ name: 'nlb', proxyProtocolVersion: ProxyProtocolVersion.V2 }));
    const back = TrustChain.fromAnnotationValue(chain.toAnnotationValue());
    expect(back.derive()).toEqual(chain.derive());
    expect(back.describe()).toBe('client -> edge -> nlb -> gateway');
    expect(TrustChain.ANNOTATION).toBe('source-ip.cdk8s.io/trust-chain');
  });

  test.each([
    ['not json', /is not JSON/],
    ['{"kind":"cdn"}', /is not a list/],
    ['[{"kind":"satellite"}]', /hops\[0\]\.kind "satellite" is unknown: use one of cdn, l7-load-balancer, l4-passthrough, l4-proxy-protocol/],
    ['[{"kind":"l4-proxy-protocol","proxyProtocolVersion":"v2"}]', /hops\[0\]\.proxyProtocolVersion "v2" is not allowed: use V1 or V2/],
    ['[{"kind":"l4-proxy-protocol"},{"kind":"cdn"}]', /sends PROXY protocol but hop "cdn" after it is an L7 proxy/],
  ])('fails on %s', (text, message) => {
    expect(() => TrustChain.fromAnnotationValue(text)).toThrow(message);
  });
});
