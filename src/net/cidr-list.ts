import * as fs from 'fs';
import type * as IpAddr from 'ipaddr.js';
import { Cidr, parseCidr } from './cidr';
import { ipaddr } from './ip-address';

/*
 * Large address lists (CDN egress ranges, partner ranges, geo-blocking lists) read at synth time and reduced to
 * the fewest CIDR blocks that cover exactly the same addresses: the policies stay small and the output does not
 * depend on the order or the duplicates of the input.
 */

/** Options of a `CidrList`. */
export interface CidrListOptions {
  /**
   * A name for the list, used in messages and in `describe()`, e.g. "cloudflare-ipv4 (2026-11-01)".
   *
   * @default - the file path, or "cidrs"
   */
  readonly name?: string;
}

/** One block as a closed interval of addresses, for sorting and merging. */
interface Interval {
  readonly family: number;
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * A list of addresses and CIDR blocks, normalised (single addresses become /32 or /128, IPv4-mapped IPv6 becomes
 * IPv4), deduplicated and aggregated: adjacent and nested blocks are merged into the fewest blocks covering exactly
 * the same addresses. The result is sorted (IPv4 first, then IPv6, by address), so it does not depend on the input
 * order. Host bits set after the prefix are an error naming the line, as in every other CIDR of the library.
 */
export class CidrList {
  /**
   * A list from addresses or CIDR blocks.
   *
   * @param cidrs addresses or blocks, IPv4 or IPv6, in any order, duplicates and overlaps allowed
   */
  public static fromCidrs(cidrs: string[], options: CidrListOptions = {}): CidrList {
    const name = options.name ?? 'cidrs';
    if (!Array.isArray(cidrs)) throw new Error(`${name}: expected a list of addresses or CIDRs, got ${JSON.stringify(cidrs)}`);
    return new CidrList(name, cidrs.map((c, i) => parseCidr(c, `${name}[${i}]`)));
  }

  /**
   * A list from text: one address or block per line; `#` starts a comment (to the end of the line); blank lines
   * are skipped. Entries separated by commas or whitespace on one line are accepted too.
   *
   * @param text the list, e.g. the body of a provider's published ranges file
   */
  public static fromText(text: string, options: CidrListOptions = {}): CidrList {
    const name = options.name ?? 'cidrs';
    if (typeof text !== 'string') throw new Error(`${name}: expected the list as text, got ${JSON.stringify(text)}`);
    return new CidrList(name, entriesOfText(text, name));
  }

  /**
   * A list read from a file when the app is synthesised (the same format as `fromText`). Keep the file in the
   * repository with its source and date, so that a change of ranges is a reviewed commit.
   *
   * @param path path of the file, relative to the working directory of the synth
   */
  public static fromFile(path: string, options: CidrListOptions = {}): CidrList {
    const name = options.name ?? path;
    let text: string;
    try {
      text = fs.readFileSync(path, 'utf-8');
    } catch (e) {
      throw new Error(`fromFile path ${JSON.stringify(path)} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): give the path of a text file with one address or CIDR per line, relative to where the synth runs`);
    }
    return new CidrList(name, entriesOfText(text, name));
  }

  /** The list's name, used in messages. */
  public readonly name: string;
  /** The aggregated blocks: IPv4 first, then IPv6, each by address. */
  public readonly cidrs: string[];
  /** How many entries were read (before normalising and deduplicating). */
  public readonly inputCount: number;
  /** How many distinct blocks were read after normalising (duplicates removed, nothing merged yet). */
  public readonly uniqueCount: number;

  private readonly intervals: Interval[];

  private constructor(name: string, entries: Cidr[]) {
    this.name = name;
    this.inputCount = entries.length;
    this.uniqueCount = new Set(entries.map(e => e.text)).size;
    this.intervals = mergeIntervals(entries.map(toInterval));
    this.cidrs = this.intervals.flatMap(intervalToCidrs);
  }

  /** How many blocks the aggregated list has. */
  public get count(): number {
    return this.cidrs.length;
  }

  /** True when `address` (a single IPv4 or IPv6 address) is covered by the list. */
  public contains(address: string): boolean {
    if (!ipaddr().isValid(address)) return false;
    let parsed = ipaddr().parse(address);
    if (parsed.kind() === 'ipv6' && (parsed as IpAddr.IPv6).isIPv4MappedAddress()) parsed = (parsed as IpAddr.IPv6).toIPv4Address();
    const family = parsed.kind() === 'ipv4' ? 4 : 6;
    const value = bytesToBigInt(parsed.toByteArray());
    // Binary search: the merged intervals are sorted and disjoint.
    let lo = 0;
    let hi = this.intervals.length - 1;
    while (lo <= hi) {
      const mid = Math.floor((lo + hi) / 2);
      const iv = this.intervals[mid];
      if (iv.family < family || (iv.family === family && iv.end < value)) lo = mid + 1;
      else if (iv.family > family || iv.start > value) hi = mid - 1;
      else return true;
    }
    return false;
  }

  /** A one-line summary with the counts, e.g. "cloudflare: 22 entries, 22 distinct, 21 blocks after aggregation". */
  public describe(): string {
    return `${this.name}: ${this.inputCount} entries, ${this.uniqueCount} distinct, ${this.count} blocks after aggregation`;
  }
}

function entriesOfText(text: string, name: string): Cidr[] {
  const entries: Cidr[] = [];
  text.split(/\r?\n/).forEach((line, i) => {
    const content = line.replace(/#.*$/, '').trim();
    if (content === '') return;
    for (const token of content.split(/[\s,]+/).filter(t => t !== '')) entries.push(parseCidr(token, `${name} line ${i + 1}`));
  });
  return entries;
}

function bytesToBigInt(bytes: number[]): bigint {
  let value = 0n;
  for (const b of bytes) value = value * 256n + BigInt(b);
  return value;
}

function bigIntToAddress(value: bigint, family: number): string {
  const length = family === 4 ? 4 : 16;
  const bytes: number[] = new Array(length);
  let v = value;
  for (let i = length - 1; i >= 0; i--) {
    bytes[i] = Number(v % 256n);
    v /= 256n;
  }
  return ipaddr().fromByteArray(bytes).toString();
}

function toInterval(cidr: Cidr): Interval {
  const bits = BigInt(cidr.family === 4 ? 32 : 128);
  const start = bytesToBigInt(ipaddr().parse(cidr.address).toByteArray());
  const size = 2n ** (bits - BigInt(cidr.prefixLength));
  return { family: cidr.family, start, end: start + size - 1n };
}

/** Sorted by family then start; overlapping and adjacent intervals merged. */
function mergeIntervals(intervals: Interval[]): Interval[] {
  const sorted = [...intervals].sort((a, b) => a.family - b.family || (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: Interval[] = [];
  for (const iv of sorted) {
    const last = merged[merged.length - 1];
    if (last && last.family === iv.family && iv.start <= last.end + 1n) {
      if (iv.end > last.end) merged[merged.length - 1] = Object.assign({}, last, { end: iv.end });
    } else {
      merged.push(iv);
    }
  }
  return merged;
}

/** The fewest CIDR blocks covering exactly [start, end]: the largest aligned block at each step. */
function intervalToCidrs(iv: Interval): string[] {
  const bits = iv.family === 4 ? 32 : 128;
  const out: string[] = [];
  let start = iv.start;
  while (start <= iv.end) {
    let size = 0;
    // Grow while the block stays aligned at `start` and inside the interval.
    while (size < bits && start % 2n ** BigInt(size + 1) === 0n && start + 2n ** BigInt(size + 1) - 1n <= iv.end) size++;
    out.push(`${bigIntToAddress(start, iv.family)}/${bits - size}`);
    start += 2n ** BigInt(size);
  }
  return out;
}
