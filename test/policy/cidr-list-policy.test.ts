import { Chart, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { FakeGateway, FakeWorkload } from './fake-targets';
import { syntheticList } from '../../bench/cidr-list';
import { CidrList, CidrListPolicy, ExternalTrafficPolicy, PolicyAction } from '../../src';
import { addressInCidr, parseCidr } from '../../src/net/cidr';
import { manifestsOfKind, synthAndValidate } from '../harness';
import { anyBlock, edgeAddresses, probe } from '../net/cidr-arbitraries';

function blocksOf(policy: any): string[] {
  return policy.spec.rules.flatMap((r: any) => r.from.flatMap((f: any) => Object.values(f.source).flat())) as string[];
}

describe('CidrListPolicy', () => {
  test('splits an ALLOW list over several policies of at most maxCidrsPerPolicy blocks', () => {
    // GIVEN 25 disjoint /32s behind a gateway that sees the packet source
    const chart = Testing.chart();
    const gateway = new FakeGateway(chart, 'Gateway', { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL });
    const list = CidrList.fromCidrs(Array.from({ length: 25 }, (_, i) => `198.51.100.${i * 2}`), { name: 'partners' });
    // WHEN
    const policy = new CidrListPolicy(chart, 'Partners', { target: gateway, list, maxCidrsPerPolicy: 10, name: 'partners' });
    // THEN
    const manifests = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(manifests.map(m => m.metadata.name)).toEqual(['partners-1', 'partners-2', 'partners-3']);
    expect(manifests.map(m => blocksOf(m).length)).toEqual([10, 10, 5]);
    expect(manifests.flatMap(blocksOf)).toEqual(list.cidrs);
    expect(manifests.every(m => m.spec.action === 'ALLOW' && 'ipBlocks' in m.spec.rules[0].from[0].source)).toBe(true);
    expect(policy.policies).toHaveLength(3);
    expect(manifests).toMatchSnapshot();
  });

  test('splits a DENY list into DENY parts on the field the target calls for', () => {
    // GIVEN a gateway that resolves the client from one trusted hop
    const chart = Testing.chart();
    const gateway = new FakeGateway(chart, 'Gateway', { numTrustedProxies: 1 });
    const list = CidrList.fromCidrs(['192.0.2.0/25', '192.0.2.128/25', '2001:db8::/48', '203.0.113.9']);
    // WHEN
    new CidrListPolicy(chart, 'Blocked', { target: gateway, list, action: PolicyAction.DENY, maxCidrsPerPolicy: 2 });
    // THEN
    const manifests = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(manifests).toHaveLength(2);
    expect(manifests.map(m => m.spec.action)).toEqual(['DENY', 'DENY']);
    expect(manifests.map(m => m.spec.rules[0].from[0].source)).toEqual([
      { remoteIpBlocks: ['192.0.2.0/24', '203.0.113.9/32'] },
      { remoteIpBlocks: ['2001:db8::/48'] },
    ]);
  });

  test('keeps a negated list in one policy', () => {
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'Workload');
    new CidrListPolicy(chart, 'OnlyMesh', { target: workload, list: CidrList.fromCidrs(['10.0.0.0/8', '2001:db8::/32']), action: PolicyAction.DENY, negate: true });
    const manifests = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(manifests).toHaveLength(1);
    expect(manifests[0].spec.rules[0].from[0].source).toEqual({ notIpBlocks: ['10.0.0.0/8', '2001:db8::/32'] });
  });

  test('fails to split a negated list', () => {
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'Workload');
    const list = CidrList.fromCidrs(['10.0.0.0/8', '192.0.2.0/24', '2001:db8::/32'], { name: 'mesh' });
    expect(() => new CidrListPolicy(chart, 'P', { target: workload, list, negate: true, action: PolicyAction.DENY, maxCidrsPerPolicy: 2 }))
      .toThrow('list mesh has 3 blocks with negate true, more than maxCidrsPerPolicy 2: a negated list cannot be split');
  });

  test('fails on maxCidrsPerPolicy out of range and on a name too long for the part suffix', () => {
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'Workload');
    const list = CidrList.fromCidrs(['10.0.0.0/8']);
    expect(() => new CidrListPolicy(chart, 'A', { target: workload, list, maxCidrsPerPolicy: 0 })).toThrow(/maxCidrsPerPolicy/);
    expect(() => new CidrListPolicy(chart, 'B', { target: workload, list, maxCidrsPerPolicy: 10001 })).toThrow(/maxCidrsPerPolicy/);
    expect(() => new CidrListPolicy(chart, 'C', { target: workload, list, name: 'x'.repeat(60) })).toThrow(/at most 59 are allowed/);
  });

  test('fails when list is not a CidrList', () => {
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'Workload');
    expect(() => new CidrListPolicy(chart, 'A', { target: workload, list: ['10.0.0.0/8'] as unknown as CidrList }))
      .toThrow(/is not a CidrList: build it with CidrList.fromFile/);
  });
});

describe('CidrListPolicy properties', () => {
  test('the synthesised policies match exactly the addresses of the input list', () => {
    const lists = fc.array(anyBlock, { minLength: 1, maxLength: 30 });
    fc.assert(fc.property(lists, fc.integer({ min: 1, max: 8 }), fc.array(probe, { minLength: 10, maxLength: 40 }),
      (blocks, max, probes) => {
        // GIVEN a list and a small per-policy limit, so most lists are split
        const chart = new Chart(Testing.app(), 'p');
        const gateway = new FakeGateway(chart, 'Gateway');
        new CidrListPolicy(chart, 'List', { target: gateway, list: CidrList.fromCidrs(blocks), action: PolicyAction.DENY, maxCidrsPerPolicy: max });
        // WHEN
        const manifests = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
        // THEN a request is denied by some part exactly when its address is in the input list
        const emitted = manifests.flatMap(blocksOf).map(c => parseCidr(c));
        const input = blocks.map(b => parseCidr(b));
        expect(manifests.every(m => blocksOf(m).length <= max)).toBe(true);
        for (const address of [...probes, ...input.flatMap(c => edgeAddresses(c.text))]) {
          const expected = input.some(c => addressInCidr(address, c));
          expect({ address, matched: emitted.some(c => addressInCidr(address, c)) }).toEqual({ address, matched: expected });
        }
      }), { numRuns: 40 });
  });
});

describe('a 10,000-entry list (the benchmark list, bench/cidr-list.ts)', () => {
  test('synthesises deterministically and every emitted policy validates', () => {
    // GIVEN the benchmark's mixed IPv4/IPv6 list with overlaps and duplicates
    const text = syntheticList(10000);
    const build = () => {
      const chart = Testing.chart();
      const gateway = new FakeGateway(chart, 'Gateway');
      const policy = new CidrListPolicy(chart, 'Blocked', { target: gateway, list: CidrList.fromText(text, { name: 'bench' }), action: PolicyAction.DENY, name: 'blocked' });
      return { policy, manifests: manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy') };
    };
    // WHEN
    const first = build();
    const second = build();
    // THEN
    expect(first.policy.list.inputCount).toBe(10000);
    expect(first.policy.list.count).toBeLessThan(first.policy.list.uniqueCount);
    expect(first.manifests.every(m => blocksOf(m).length <= 1000)).toBe(true);
    expect(first.manifests.flatMap(blocksOf)).toEqual(first.policy.list.cidrs);
    expect(JSON.stringify(second.manifests)).toBe(JSON.stringify(first.manifests));
  });
});
