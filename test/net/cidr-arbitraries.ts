import * as fc from 'fast-check';
import * as ipaddr from 'ipaddr.js';

/* Generators for CIDR list properties: clustered blocks so that overlaps and adjacency are common. */

/** Any block of either family (IPv4 blocks clustered so that overlaps and adjacency are common). */
export const anyBlock = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 16, max: 32 }))
    .map(([a, b, c, len]) => `10.${b}.${a}.${c}/${len}`),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 44, max: 128 }))
    .map(([a, b, len]) => `2001:db8:${a.toString(16)}::${b.toString(16)}/${len}`),
).map(text => {
  // Mask host bits so every generated entry is a valid block.
  const [addr, len] = text.split('/');
  const network = ipaddr.parse(addr).kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(text) : ipaddr.IPv6.networkAddressFromCIDR(text);
  return `${network.toString()}/${len}`;
});

/** Addresses near the generated blocks: inside, at the edges and just outside. */
export const probe = fc.oneof(
  fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 })).map(([b, a, c]) => `10.${b}.${a}.${c}`),
  fc.tuple(fc.integer({ min: 0, max: 15 }), fc.integer({ min: 0, max: 0xffff })).map(([a, b]) => `2001:db8:${a.toString(16)}::${b.toString(16)}`),
);

export function edgeAddresses(cidr: string): string[] {
  const [addr, lenText] = cidr.split('/');
  const bytes = ipaddr.parse(addr).toByteArray();
  const bits = bytes.length * 8;
  const start = bytes.reduce((v, b) => v * 256n + BigInt(b), 0n);
  const end = start + 2n ** BigInt(bits - Number(lenText)) - 1n;
  const max = 2n ** BigInt(bits) - 1n;
  return [start - 1n, start, end, end + 1n].filter(v => v >= 0n && v <= max).map(v => {
    const out: number[] = [];
    let x = v;
    for (let i = 0; i < bytes.length; i++) {
      out.unshift(Number(x % 256n));
      x /= 256n;
    }
    return ipaddr.fromByteArray(out).toString();
  });
}
