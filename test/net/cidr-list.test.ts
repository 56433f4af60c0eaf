import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as fc from 'fast-check';
import { anyBlock, edgeAddresses, probe } from './cidr-arbitraries';
import { CidrList } from '../../src';
import { addressInCidr, parseCidr } from '../../src/net/cidr';

describe('CidrList', () => {
  test('aggregates adjacent and nested blocks, removes duplicates and sorts IPv4 before IPv6', () => {
    // GIVEN adjacent /25s, a nested /26, a duplicate, a single address and IPv6 blocks in no order
    const input = ['2001:db8:0:1::/64', '198.51.100.128/25', '198.51.100.0/25', '198.51.100.64/26', '198.51.100.0/25',
      '203.0.113.7', '2001:db8::/64', '::ffff:192.0.2.1'];
    // WHEN
    const list = CidrList.fromCidrs(input, { name: 'partners' });
    // THEN
    expect(list.cidrs).toEqual(['192.0.2.1/32', '198.51.100.0/24', '203.0.113.7/32', '2001:db8::/63']);
    expect(list.inputCount).toBe(8);
    expect(list.uniqueCount).toBe(7);
    expect(list.count).toBe(4);
    expect(list.describe()).toBe('partners: 8 entries, 7 distinct, 4 blocks after aggregation');
  });

  test('covers a range that is not one block with the fewest aligned blocks', () => {
    // GIVEN 10.0.0.1 .. 10.0.0.6 as single addresses
    const list = CidrList.fromCidrs(['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5', '10.0.0.6']);
    // THEN
    expect(list.cidrs).toEqual(['10.0.0.1/32', '10.0.0.2/31', '10.0.0.4/31', '10.0.0.6/32']);
  });

  test('reads text with comments, blank lines, CRLF and several entries per line', () => {
    // GIVEN
    const text = '# Example CDN egress ranges\r\n\r\n192.0.2.0/25   # edge A\r\n192.0.2.128/25, 2001:db8:100::/48\n  \n';
    // WHEN
    const list = CidrList.fromText(text, { name: 'edge' });
    // THEN
    expect(list.cidrs).toEqual(['192.0.2.0/24', '2001:db8:100::/48']);
    expect(list.inputCount).toBe(3);
  });

  test('reads a file at synth time', () => {
    // GIVEN
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cidr-list-')), 'ranges.txt');
    fs.writeFileSync(file, '203.0.113.0/25\n203.0.113.128/25\n');
    // WHEN
    const list = CidrList.fromFile(file);
    // THEN
    expect(list.cidrs).toEqual(['203.0.113.0/24']);
    expect(list.name).toBe(file);
  });

  test('contains() answers for single addresses of both families', () => {
    const list = CidrList.fromCidrs(['198.51.100.0/24', '2001:db8::/32']);
    expect(list.contains('198.51.100.200')).toBe(true);
    expect(list.contains('198.51.101.1')).toBe(false);
    expect(list.contains('2001:db8:ffff::1')).toBe(true);
    expect(list.contains('2001:db9::1')).toBe(false);
    expect(list.contains('::ffff:198.51.100.1')).toBe(true);
    expect(list.contains('not-an-ip')).toBe(false);
  });

  test('fails on a bad line naming the list and the line', () => {
    expect(() => CidrList.fromText('10.0.0.0/8\n\n10.0.0.1/24\n', { name: 'geo.txt' }))
      .toThrow('geo.txt line 3: "10.0.0.1/24" has host bits set after the prefix; did you mean "10.0.0.0/24"?');
    expect(() => CidrList.fromText('300.1.1.1\n', { name: 'geo.txt' })).toThrow(/geo.txt line 1/);
  });

  test('fails on a missing file with the path and how to fix it', () => {
    expect(() => CidrList.fromFile('/nonexistent/ranges.txt')).toThrow('fromFile path "/nonexistent/ranges.txt" cannot be read (ENOENT)');
  });

  test('fails on an entry that is not a string, naming its index', () => {
    expect(() => CidrList.fromCidrs(['10.0.0.0/8', 7 as unknown as string])).toThrow(/cidrs\[1\]/);
  });

  test('the result does not depend on the input order', () => {
    const input = ['10.0.0.0/9', '10.128.0.0/9', '2001:db8::1', '192.0.2.0/24', '10.1.0.0/16'];
    expect(CidrList.fromCidrs([...input].reverse()).cidrs).toEqual(CidrList.fromCidrs(input).cidrs);
    expect(CidrList.fromCidrs(input).cidrs).toEqual(['10.0.0.0/8', '192.0.2.0/24', '2001:db8::1/128']);
  });
});

describe('CidrList properties', () => {
  test('the aggregated blocks cover exactly the addresses of the input list', () => {
    fc.assert(fc.property(fc.array(anyBlock, { maxLength: 40 }), fc.array(probe, { minLength: 20, maxLength: 60 }), (blocks, probes) => {
      const list = CidrList.fromCidrs(blocks);
      const input = blocks.map(b => parseCidr(b));
      const output = list.cidrs.map(c => parseCidr(c));
      // Probe the block edges too: the first and last address of every input block and the addresses around them.
      const edges = input.flatMap(c => edgeAddresses(c.text));
      for (const address of [...probes, ...edges]) {
        const inInput = input.some(c => addressInCidr(address, c));
        expect({ address, covered: output.some(c => addressInCidr(address, c)) }).toEqual({ address, covered: inInput });
        expect(list.contains(address)).toBe(inInput);
      }
      // Aggregated: no two output blocks overlap or could merge into one.
      expect(CidrList.fromCidrs(list.cidrs).cidrs).toEqual(list.cidrs);
    }), { numRuns: 120 });
  });
});
