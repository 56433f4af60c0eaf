import * as fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';

/*
 * CIDR lists as users write them: IPv6 prefixes as well as IPv4, blocks side by side (10.0.0.0/25 + 10.0.0.128/25),
 * blocks inside other blocks (a /24 and a /26 in it), and the host-bits mistakes the library must refuse (naming
 * the property and the block it meant).
 */

/** The network of `address`/`prefix` (host bits cleared), as text with the prefix. */
function network(address: string, prefix: number): string {
  const parsed = ipaddr.parse(address);
  const net = parsed.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(`${address}/${prefix}`) : ipaddr.IPv6.networkAddressFromCIDR(`${address}/${prefix}`);
  return `${net.toString()}/${prefix}`;
}

/** The address `offset` blocks of size 2^(bits - prefix) after the network of `cidr` (wrapping within the family). */
function shifted(cidr: string, prefix: number, offset: bigint): string {
  const [address] = cidr.split('/');
  const parsed = ipaddr.parse(address);
  const bits = parsed.kind() === 'ipv4' ? 32 : 128;
  const value = parsed.toByteArray().reduce((v, b) => v * 256n + BigInt(b), 0n);
  const next = (value + offset * 2n ** BigInt(bits - prefix)) % 2n ** BigInt(bits);
  const bytes: number[] = [];
  for (let i = bits / 8 - 1; i >= 0; i--) bytes.push(Number((next / 256n ** BigInt(i)) % 256n));
  return `${ipaddr.fromByteArray(bytes).toString()}/${prefix}`;
}

/** A prefix length users write: mostly the usual ones, sometimes any. */
const v4Prefix = fc.oneof(
  { arbitrary: fc.constantFrom(8, 16, 20, 24, 25, 26, 28, 32), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 32 }), weight: 1 },
);
const v6Prefix = fc.oneof(
  { arbitrary: fc.constantFrom(32, 48, 56, 64, 96, 112, 128), weight: 3 },
  { arbitrary: fc.integer({ min: 1, max: 128 }), weight: 1 },
);

/** IPv4 addresses from the ranges allow-lists name (documentation, private, public), never loopback. */
const v4Address = fc.oneof(
  fc.tuple(fc.constantFrom('203.0.113', '198.51.100', '192.0.2', '10.0', '172.16', '100.64'), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }))
    .map(([p, a, b]) => (p.split('.').length === 3 ? `${p}.${a}` : `${p}.${a}.${b}`)),
  fc.ipV4().filter(a => !a.startsWith('127.')),
);
/** IPv6 addresses: documentation and ULA prefixes, sometimes any (never loopback or IPv4-mapped). */
const v6Address = fc.oneof(
  fc.tuple(fc.constantFrom('2001:db8', 'fd00', 'fd12:3456', '2a00:1450'), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffff }))
    .map(([p, a, b]) => `${p}:${a.toString(16)}::${b.toString(16)}`),
  fc.ipV6().filter(a => !ipaddr.parse(a).range().startsWith('ipv4Mapped') && ipaddr.parse(a).range() !== 'loopback'),
);

/** An IPv4 block with the host bits cleared. */
export const ipv4Block = fc.tuple(v4Address, v4Prefix).map(([a, p]) => network(a, p));
/** An IPv6 block with the host bits cleared. */
export const ipv6Block = fc.tuple(v6Address, v6Prefix).map(([a, p]) => network(a, p));

/** Two blocks side by side: the halves of one block (10.0.0.0/25 + 10.0.0.128/25), or neighbours of one size. */
export const adjacentBlocks: fc.Arbitrary<string[]> = fc.oneof(ipv4Block, ipv6Block)
  .filter(c => !c.endsWith('/0') && !c.endsWith('/32') && !c.endsWith('/128'))
  .chain(c => {
    const prefix = Number(c.split('/')[1]);
    return fc.boolean().map(halves => (halves ? [network(c.split('/')[0], prefix + 1), shifted(network(c.split('/')[0], prefix + 1), prefix + 1, 1n)]
      : [c, shifted(c, prefix, 1n)]));
  });

/** A block and a narrower block inside it (a /24 and a /26), in either order. */
export const nestedBlocks: fc.Arbitrary<string[]> = fc.oneof(ipv4Block, ipv6Block)
  .filter(c => !c.endsWith('/32') && !c.endsWith('/128'))
  .chain(c => {
    const prefix = Number(c.split('/')[1]);
    const max = c.includes(':') ? 128 : 32;
    return fc.tuple(fc.integer({ min: prefix + 1, max }), fc.nat(), fc.boolean()).map(([inner, k, outerFirst]) => {
      const offset = BigInt(k) % 2n ** BigInt(Math.min(inner - prefix, 30));
      const narrow = shifted(network(c.split('/')[0], inner), inner, offset);
      return outerFirst ? [c, narrow] : [narrow, c];
    });
  });

/** A valid CIDR list: single blocks of both families, and sometimes blocks side by side or nested. */
export const cidrListWithShapes: fc.Arbitrary<string[]> = fc.oneof(
  { arbitrary: fc.array(fc.oneof(ipv4Block, ipv6Block), { minLength: 1, maxLength: 3 }), weight: 3 },
  { arbitrary: adjacentBlocks, weight: 1 },
  { arbitrary: nestedBlocks, weight: 1 },
  { arbitrary: fc.tuple(adjacentBlocks, ipv6Block).map(([a, b]) => [...a, b]), weight: 1 },
);

/** A block with a host bit set after the prefix (10.0.0.1/24, 2001:db8::1/64): refused, naming the block meant. */
export const hostBitsCidr: fc.Arbitrary<string> = fc.oneof(ipv4Block, ipv6Block)
  .filter(c => !c.endsWith('/32') && !c.endsWith('/128'))
  .chain(c => {
    const [address, p] = c.split('/');
    const prefix = Number(p);
    const bits = address.includes(':') ? 128 : 32;
    return fc.integer({ min: prefix, max: bits - 1 }).map(bit => {
      const bytes = ipaddr.parse(address).toByteArray();
      const byte = Math.floor(bit / 8);
      const mask = 2 ** (7 - (bit % 8));
      // Set the bit (it is clear: the block's host bits are).
      bytes[byte] += mask;
      return `${ipaddr.fromByteArray(bytes).toString()}/${prefix}`;
    });
  });
