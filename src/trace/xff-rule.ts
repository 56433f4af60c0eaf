import type { ClientAddressInput, ClientAddressResult } from './client-address';
import { addressInCidr, Cidr, isIpAddress, parseCidrs } from '../net/cidr';
import { ipaddr } from '../net/ip-address';
import { checkInteger } from '../util/validate';

/*
 * Envoy's trusted-client-address rule (headers.rst, x-forwarded-for), with the reason for a fallback, for
 * explain. Envoy >= 1.33 (Istio >= 1.25) treats no address as internal unless internal_address_config says so;
 * Envoy 1.32 (Istio 1.24) treats RFC 1918, RFC 4193 and loopback addresses as internal by default.
 */

/** ipaddr.js ranges Envoy 1.32's default internal_address_config treats as internal. */
const ENVOY_1_32_INTERNAL_RANGES = ['private', 'uniqueLocal', 'loopback'];

/** True for an address Envoy 1.32 treats as internal without internal_address_config. */
export function isPrivateAddress(address: string): boolean {
  if (!isIpAddress(address)) return false;
  const parsed = ipaddr().process(address);
  return ENVOY_1_32_INTERNAL_RANGES.includes(parsed.range());
}

export const MAX_HOPS = 4294967295;

/** 1-based XFF position from the right of the trusted client; 0 is the socket peer (envoyproxy/envoy#34241). */
export function trustedEntryPosition(useRemoteAddress: boolean, xffNumTrustedHops: number): number {
  checkInteger('xffNumTrustedHops', xffNumTrustedHops, 0, MAX_HOPS);
  return useRemoteAddress ? xffNumTrustedHops : xffNumTrustedHops + 1;
}

/** Why the resolver chose the address it did, for `explain`. */
export interface DetailedClientAddressResult extends ClientAddressResult {
  /** True when the rule wanted an XFF entry but fell back to the socket peer. */
  readonly fellBack: boolean;
  /** Why it fell back, in words. */
  readonly fallbackReason?: string;
}

export function resolveClientAddress(input: ClientAddressInput): DetailedClientAddressResult {
  checkInput(input);
  const entries = splitXff(input.xForwardedFor);
  const cidrs = parseCidrs(input.xffTrustedCidrs ?? [], 'xffTrustedCidrs');
  if (input.clientHeaderName !== undefined) return fromClientHeader(input, entries);
  const detection = cidrs.length > 0
    ? fromTrustedCidrs(input.downstreamAddress, entries, cidrs)
    : fromHopCount(input.useRemoteAddress, input.xffNumTrustedHops ?? 0, entries);
  const trusted = detection.address ?? input.downstreamAddress;
  const append = input.useRemoteAddress ? input.skipXffAppend !== true : input.skipXffAppend === false;
  const forwarded = append ? [...entries, input.downstreamAddress] : entries;
  // Envoy marks a request internal only with use_remote_address, a single X-Forwarded-For address and an internal client.
  const internal = input.useRemoteAddress && input.privateAddressesAreInternal === true && forwarded.length <= 1 && isPrivateAddress(trusted);
  return {
    trustedClientAddress: trusted,
    externalAddress: input.useRemoteAddress && !internal ? trusted : undefined,
    ...(internal ? { internal: true } : {}),
    forwardedFor: forwarded.length > 0 ? forwarded.join(',') : undefined,
    fellBack: detection.fallbackReason !== undefined,
    fallbackReason: detection.fallbackReason,
  };
}

interface Detection {
  readonly address?: string;
  readonly fallbackReason?: string;
}

/**
 * The custom-header extension: the first value of the header, if it parses as an address, is the client; it
 * appends nothing to X-Forwarded-For and, without use_remote_address, no X-Envoy-External-Address is set. Otherwise
 * the request is rejected when reject_with_status is set, else the socket peer is the client.
 */
function fromClientHeader(input: ClientAddressInput, entries: string[]): DetailedClientAddressResult {
  const value = input.clientHeaderValue?.trim();
  const forwardedFor = entries.length > 0 ? entries.join(',') : undefined;
  if (value !== undefined && isIpAddress(value)) {
    return { trustedClientAddress: value, forwardedFor, fellBack: false };
  }
  const reason = value === undefined ? `no ${input.clientHeaderName} header` : `${input.clientHeaderName} "${value}" is not an IP address`;
  if (input.rejectStatus !== undefined) {
    return { trustedClientAddress: input.downstreamAddress, forwardedFor, fellBack: true, fallbackReason: `${reason}: rejected with ${input.rejectStatus}`, rejectedWithStatus: input.rejectStatus };
  }
  return { trustedClientAddress: input.downstreamAddress, forwardedFor, fellBack: true, fallbackReason: reason };
}

function checkInput(input: ClientAddressInput): void {
  if (!isIpAddress(input.downstreamAddress)) {
    throw new Error(`downstreamAddress ${JSON.stringify(input.downstreamAddress)} is not an IP address: give the socket peer such as "10.0.0.5" or "2001:db8::5"`);
  }
  if (input.xffNumTrustedHops !== undefined) checkInteger('xffNumTrustedHops', input.xffNumTrustedHops, 0, MAX_HOPS);
  const hasCidrs = (input.xffTrustedCidrs ?? []).length > 0;
  if (hasCidrs && input.useRemoteAddress) {
    throw new Error('xffTrustedCidrs is not allowed with useRemoteAddress true: Envoy rejects original_ip_detection_extensions with use_remote_address; set useRemoteAddress false (sidecar inbound) or use xffNumTrustedHops');
  }
  if (input.clientHeaderName !== undefined) {
    if (input.useRemoteAddress || hasCidrs || (input.xffNumTrustedHops ?? 0) > 0) {
      throw new Error(`clientHeaderName "${input.clientHeaderName}" is not allowed with ${input.useRemoteAddress ? 'useRemoteAddress true' : hasCidrs ? 'xffTrustedCidrs' : 'xffNumTrustedHops'}: Envoy rejects original_ip_detection_extensions with use_remote_address or xff_num_trusted_hops, and this model takes one extension; use the custom header alone with useRemoteAddress false`);
    }
    if (input.rejectStatus !== undefined) checkInteger('rejectStatus', input.rejectStatus, 400, 511);
  }
  if (hasCidrs && (input.xffNumTrustedHops ?? 0) > 0) {
    throw new Error(`xffNumTrustedHops ${input.xffNumTrustedHops} is not allowed with xffTrustedCidrs: the xff extension takes one or the other; remove xffNumTrustedHops`);
  }
}

/** Envoy drops empty entries and trims whitespace around each entry. */
function splitXff(header: string | undefined): string[] {
  if (header === undefined) return [];
  return header.split(',').map(e => e.trim()).filter(e => e !== '');
}

function fromHopCount(useRemoteAddress: boolean, hops: number, entries: string[]): Detection {
  const position = trustedEntryPosition(useRemoteAddress, hops);
  if (position === 0) return {};
  if (entries.length < position) {
    const reason = entries.length === 0 ? 'no X-Forwarded-For' : `X-Forwarded-For has ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}, fewer than the ${position} needed`;
    return { fallbackReason: reason };
  }
  const entry = entries[entries.length - position];
  if (!isIpAddress(entry)) return { fallbackReason: `X-Forwarded-For entry "${entry}" is not an IP address` };
  return { address: entry };
}

function fromTrustedCidrs(downstream: string, entries: string[], cidrs: Cidr[]): Detection {
  const trusted = (address: string) => cidrs.some(c => addressInCidr(address, c));
  if (!trusted(downstream)) return { fallbackReason: `the socket peer ${downstream} is not in xffTrustedCidrs` };
  if (entries.length === 0) return { fallbackReason: 'no X-Forwarded-For' };
  for (let i = entries.length - 1; i >= 0; i--) {
    if (!isIpAddress(entries[i])) return { fallbackReason: `X-Forwarded-For entry "${entries[i]}" is not an IP address` };
    if (!trusted(entries[i])) return { address: entries[i] };
  }
  return { address: entries[0] };
}
