import type * as IpAddr from 'ipaddr.js';
import { ipaddr } from './ip-address';

/** A parsed, normalised CIDR block. */
export interface Cidr {
  /** Canonical text, e.g. "10.0.0.0/8", "2001:db8::/32"; a single address gets /32 or /128. */
  readonly text: string;
  /** Network address in canonical form. */
  readonly address: string;
  /** Prefix length. */
  readonly prefixLength: number;
  /** 4 or 6. */
  readonly family: number;
}

const FOUR_PART_DECIMAL = /^(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})\.(0|[1-9]\d{0,2})$/;

/**
 * The value of a four-part decimal IPv4 address without leading zeros (the canonical form, which ipaddr.js prints), or
 * undefined for anything else. A fast path only: whatever it does not read goes through ipaddr.js as before.
 */
function ipv4Value(text: string): number | undefined {
  // A trace reads the same few addresses (its documentation addresses, each policy's blocks) thousands of times.
  const known = IPV4_VALUES.get(text);
  if (known !== undefined || IPV4_VALUES.has(text)) return known;
  const value = readIpv4Value(text);
  if (IPV4_VALUES.size >= IPV4_VALUES_MAX) IPV4_VALUES.clear();
  IPV4_VALUES.set(text, value);
  return value;
}

/** Values `ipv4Value` read, by text; cleared when full, so that reading many distinct addresses stays bounded. */
const IPV4_VALUES = new Map<string, number | undefined>();
const IPV4_VALUES_MAX = 4096;

function readIpv4Value(text: string): number | undefined {
  const m = FOUR_PART_DECIMAL.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(m[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

/** `value` with the bits after `prefix` cleared (IPv4). */
function ipv4Network(value: number, prefix: number): number {
  const size = 2 ** (32 - prefix);
  return value - (value % size);
}

function ipv4Text(value: number): string {
  return `${Math.floor(value / 16777216)}.${Math.floor(value / 65536) % 256}.${Math.floor(value / 256) % 256}.${value % 256}`;
}

function fail(property: string, entry: string, why: string, fix: string): never {
  throw new Error(`${property}: "${entry}" ${why}; ${fix}`);
}

function parseAddress(property: string, entry: string, text: string): IpAddr.IPv4 | IpAddr.IPv6 {
  if (text.includes('%')) fail(property, entry, 'has an IPv6 zone, which Istio rejects in CIDRs', `remove "${text.slice(text.indexOf('%'))}"`);
  if (ipaddr().IPv4.isValidFourPartDecimal(text)) return ipaddr().IPv4.parse(text);
  if (ipaddr().IPv6.isValid(text)) {
    const v6 = ipaddr().IPv6.parse(text);
    return v6;
  }
  if (ipaddr().IPv4.isValid(text)) {
    fail(property, entry, 'is not a four-part decimal IPv4 address (leading zeros, octal or short forms are rejected by Istio)', 'write it as four decimal numbers, e.g. "10.0.0.1"');
  }
  return fail(property, entry, 'is not an IPv4 or IPv6 address or CIDR', 'use forms such as "203.0.113.7", "203.0.113.0/24" or "2001:db8::/32"');
}

/**
 * Parses one address or CIDR the way istiod accepts it, then normalises it. IPv4-mapped IPv6
 * ("::ffff:10.0.0.1") becomes IPv4. Host bits set after the prefix are an error with a suggestion.
 *
 * @param property the property name used in error messages
 */
export function parseCidr(entry: string, property = 'cidr'): Cidr {
  const read = readPrefix(entry, property);
  if (read.hostBitsSet) {
    fail(property, entry, 'has host bits set after the prefix', `did you mean "${read.cidr.text}"? (or "${read.address}/${read.cidr.family === 4 ? 32 : 128}" for the single address)`);
  }
  return read.cidr;
}

/**
 * Reads one address or CIDR as istiod does for a policy (Go `netip.ParsePrefix`, then `Masked`): the block masked to
 * its prefix, with `hostBitsSet` true when the entry had host bits set after it; or, for anything else `parseCidr`
 * refuses, `error` (the text `parseCidr` would throw) and no block. Never throws. Not part of the jsii API (a function).
 *
 * @param property the property name used in the error text
 */
export function readCidr(entry: string, property = 'cidr'): { readonly cidr?: Cidr; readonly hostBitsSet: boolean; readonly error?: string } {
  try {
    const read = readPrefix(entry, property);
    return { cidr: read.cidr, hostBitsSet: read.hostBitsSet };
  } catch (e) {
    return { hostBitsSet: false, error: (e as Error).message };
  }
}

/** The masked block of an entry, whether host bits were set, and the address as written (normalised). Throws on anything else. */
function readPrefix(entry: string, property: string): { cidr: Cidr; hostBitsSet: boolean; address: string } {
  if (typeof entry !== 'string') fail(property, JSON.stringify(entry) ?? String(entry), 'is not a string', 'give an address such as "203.0.113.7" or a CIDR such as "203.0.113.0/24" in quotes');
  if (entry.trim() === '') fail(property, entry, 'is empty', 'give an address such as "203.0.113.7" or a CIDR such as "203.0.113.0/24"');
  const text = entry.trim();
  const slash = text.indexOf('/');
  const addrText = slash === -1 ? text : text.slice(0, slash);
  const prefixText = slash === -1 ? undefined : text.slice(slash + 1);
  const v4 = ipv4Value(addrText);
  if (v4 !== undefined && (prefixText === undefined || /^(0|[1-9]\d?)$/.test(prefixText)) && Number(prefixText ?? 32) <= 32) {
    const length = Number(prefixText ?? 32);
    const network = ipv4Text(ipv4Network(v4, length));
    return { cidr: { text: `${network}/${length}`, address: network, prefixLength: length, family: 4 }, hostBitsSet: network !== addrText, address: addrText };
  }
  let addr = parseAddress(property, entry, addrText);
  let max = addr.kind() === 'ipv4' ? 32 : 128;
  let prefix = max;
  if (prefixText !== undefined) {
    if (!/^(0|[1-9]\d{0,2})$/.test(prefixText) || Number(prefixText) > max) {
      fail(property, entry, `has an invalid prefix length "/${prefixText}"`, `use a whole number from 0 to ${max}`);
    }
    prefix = Number(prefixText);
  }
  if (addr.kind() === 'ipv6' && (addr as IpAddr.IPv6).isIPv4MappedAddress() && prefix >= 96) {
    addr = (addr as IpAddr.IPv6).toIPv4Address();
    prefix -= 96;
    max = 32;
  }
  const network = networkOf(addr, prefix);
  return {
    cidr: { text: `${network.toString()}/${prefix}`, address: network.toString(), prefixLength: prefix, family: max === 32 ? 4 : 6 },
    hostBitsSet: network.toString() !== addr.toString(),
    address: addr.toString(),
  };
}

function networkOf(addr: IpAddr.IPv4 | IpAddr.IPv6, prefix: number): IpAddr.IPv4 | IpAddr.IPv6 {
  const cidr = `${addr.toString()}/${prefix}`;
  return addr.kind() === 'ipv4' ? ipaddr().IPv4.networkAddressFromCIDR(cidr) : ipaddr().IPv6.networkAddressFromCIDR(cidr);
}

/** Parses a list, naming the list index of a bad entry. */
export function parseCidrs(entries: string[], property: string): Cidr[] {
  if (!Array.isArray(entries)) throw new Error(`${property}: expected a list of addresses or CIDRs, got ${JSON.stringify(entries)}`);
  return entries.map((e, i) => parseCidr(e, `${property}[${i}]`));
}

/** True when `outer` contains every address of `inner`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  if (outer.family !== inner.family || outer.prefixLength > inner.prefixLength) return false;
  const outerValue = outer.family === 4 ? ipv4Value(outer.address) : undefined;
  const innerValue = outer.family === 4 ? ipv4Value(inner.address) : undefined;
  if (outerValue !== undefined && innerValue !== undefined) {
    return ipv4Network(innerValue, outer.prefixLength) === ipv4Network(outerValue, outer.prefixLength);
  }
  return ipaddr().parse(inner.address).match(ipaddr().parse(outer.address), outer.prefixLength);
}

/** True when the two blocks share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** True when `address` (a single IP) falls inside `cidr`. */
export function addressInCidr(address: string, cidr: Cidr): boolean {
  const value = cidr.family === 4 ? ipv4Value(address) : undefined;
  const network = value !== undefined ? ipv4Value(cidr.address) : undefined;
  if (value !== undefined && network !== undefined) return ipv4Network(value, cidr.prefixLength) === ipv4Network(network, cidr.prefixLength);
  if (!ipaddr().isValid(address)) return false;
  let a = ipaddr().parse(address);
  if (a.kind() === 'ipv6' && (a as IpAddr.IPv6).isIPv4MappedAddress()) a = (a as IpAddr.IPv6).toIPv4Address();
  if ((a.kind() === 'ipv4' ? 4 : 6) !== cidr.family) return false;
  return a.match(ipaddr().parse(cidr.address), cidr.prefixLength);
}

/** True for a syntactically valid single IPv4 or IPv6 address. */
export function isIpAddress(text: string): boolean {
  return typeof text === 'string' && (ipv4Value(text) !== undefined || ipaddr().IPv4.isValidFourPartDecimal(text) || ipaddr().IPv6.isValid(text));
}
