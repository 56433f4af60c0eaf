import { Finding, FindingSeverity } from './explain-report';
import { isIpAddress, parseCidr } from '../net/cidr';

/*
 * Typed readers for the values explain takes from manifests, checked the way the constructs check their props:
 * whole numbers in range, enum members, strings, lists and maps of the right shape. A bad value becomes an ERROR
 * finding on the object (naming the field, the value and what is allowed) and reads as absent, so that the rest
 * of the report goes on.
 */

/** Largest value of a protobuf uint32 (Envoy's and Istio's hop counts). */
export const UINT32_MAX = 4294967295;

/** Where a value is read: the object, for findings. */
export interface ReadContext {
  /** E.g. "EnvoyFilter apps/xff". */
  readonly where: string;
  readonly findings: Finding[];
}

/** A value for a message: JSON, cut short so that a huge value cannot make the report huge. */
export function shortValue(value: unknown): string {
  let text: string;
  try {
    text = value === undefined ? 'undefined' : JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  if (text.length <= 80) return text;
  // A long string keeps its quotes and is cut between words (the old cut left the closing quote off mid-word).
  if (typeof value === 'string') return JSON.stringify(`${cutAtWord(value, 70)}...`);
  return `${cutAtWord(text, 77)}...`;
}

/** `text` cut to at most `max` characters, at the last space or comma past the half when there is one. */
function cutAtWord(text: string, max: number): string {
  if (text.length <= max) return text;
  const head = text.slice(0, max);
  const at = Math.max(head.lastIndexOf(' '), head.lastIndexOf(','));
  return at > max / 2 ? head.slice(0, at).trimEnd() : head;
}

function bad(ctx: ReadContext, field: string, value: unknown, allowed: string, fix: string): undefined {
  ctx.findings.push({ severity: FindingSeverity.ERROR, where: ctx.where, message: `${field} ${shortValue(value)} is not allowed: ${allowed}; explain ignores it`, fix });
  return undefined;
}

/** A whole number from min to max; absent stays absent. */
export function readInteger(ctx: ReadContext, field: string, value: unknown, min: number, max: number, fix?: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
  return bad(ctx, field, value, `use a whole number from ${min} to ${max}`, fix ?? `set ${field} to a whole number from ${min} to ${max}`);
}

/** A port number. */
export function readPort(ctx: ReadContext, field: string, value: unknown): number | undefined {
  return readInteger(ctx, field, value, 1, 65535, `set ${field} to a port from 1 to 65535`);
}

/** A boolean; absent stays absent. */
export function readBoolean(ctx: ReadContext, field: string, value: unknown): boolean | undefined {
  if (value === undefined || value === null || typeof value === 'boolean') return value ?? undefined;
  return bad(ctx, field, value, 'use true or false (without quotes)', `write ${field}: true or ${field}: false`);
}

/** A string; absent stays absent. */
export function readString(ctx: ReadContext, field: string, value: unknown): string | undefined {
  if (value === undefined || value === null || typeof value === 'string') return value ?? undefined;
  return bad(ctx, field, value, 'use a string', `quote the value of ${field}`);
}

/** One of `allowed` (case-sensitive, as Istio reads it); absent stays absent. */
export function readEnum(ctx: ReadContext, field: string, value: unknown, allowed: readonly string[]): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && allowed.includes(value)) return value;
  return bad(ctx, field, value, `use one of ${allowed.join(', ')} (case-sensitive)`, `set ${field} to one of ${allowed.join(', ')}`);
}

/** Reports a value whose shape is wrong (a string where a map belongs, say); explain reads it as absent. */
export function wrongShape(ctx: ReadContext, field: string, value: unknown, expected: string): undefined {
  return bad(ctx, field, value, `use ${expected}`, `write ${field} as ${expected}`);
}

/** A list; absent reads as empty. */
export function readList(ctx: ReadContext, field: string, value: unknown): unknown[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  bad(ctx, field, value, 'use a list', `write ${field} as a YAML list (one "- " entry per item)`);
  return [];
}

/** A map of strings to strings (labels, selectors, annotations); absent reads as empty. */
export function readStringMap(ctx: ReadContext, field: string, value: unknown): { [key: string]: string } {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    bad(ctx, field, value, 'use a map of names to strings', `write ${field} as key: "value" pairs`);
    return {};
  }
  const out: { [key: string]: string } = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string') out[k] = v;
    else bad(ctx, `${field}.${k}`, v, 'use a string', `quote the value of ${field}.${k}`);
  }
  return out;
}

/** An Envoy CidrRange (`address_prefix` and `prefix_len`) as CIDR text, or undefined with a finding. */
export function readCidrRange(ctx: ReadContext, field: string, value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return bad(ctx, field, value, 'use a map with address_prefix and prefix_len', `write ${field} as { address_prefix: "10.0.0.0", prefix_len: 8 }`);
  }
  const range = value as { address_prefix?: unknown; addressPrefix?: unknown; prefix_len?: unknown; prefixLen?: unknown };
  const address = range.address_prefix ?? range.addressPrefix;
  if (typeof address !== 'string' || !isIpAddress(address)) {
    return bad(ctx, `${field}.address_prefix`, address, 'use an IPv4 or IPv6 address', `set ${field}.address_prefix to an address such as "10.0.0.0"`);
  }
  const v6 = address.includes(':');
  const length = readInteger(ctx, `${field}.prefix_len`, range.prefix_len ?? range.prefixLen, 0, v6 ? 128 : 32);
  if (length === undefined && (range.prefix_len ?? range.prefixLen) !== undefined) return undefined;
  const text = `${address}/${length ?? (v6 ? 128 : 32)}`;
  try {
    return parseCidr(text, field).text;
  } catch (e) {
    return bad(ctx, field, text, (e as Error).message, 'give the network address of the range');
  }
}
