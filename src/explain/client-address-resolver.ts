import { MAX_HOPS, resolveClientAddress, trustedEntryPosition } from './xff-rule';
import { checkInteger } from '../util/validate';

/*
 * The public face of Envoy's rule for the "trusted client address" (headers.rst, x-forwarded-for), as a pure function.
 * Assumes Envoy >= 1.33 defaults (Istio >= 1.25): no address is internal unless internal_address_config
 * says so, so every request that reaches an Envoy with use_remote_address is external.
 */

/** What one Envoy HTTP connection manager knows when it resolves the client address. */
export interface ClientAddressInput {
  /** HCM `use_remote_address`: true on Istio gateways, false on sidecar inbound listeners. */
  readonly useRemoteAddress: boolean;
  /**
   * `xff_num_trusted_hops`, counted the HCM way (see `ClientAddressResolver.trustedEntryPosition`).
   * With `useRemoteAddress: false` this is also the xff extension's `xff_num_trusted_hops`, which counts the same way.
   * @default 0
   */
  readonly xffNumTrustedHops?: number;
  /**
   * `xff_trusted_cidrs` of the `envoy.http.original_ip_detection.xff` extension. Only with
   * `useRemoteAddress: false` and no `xffNumTrustedHops` (Envoy rejects both mixes).
   * @default - no trusted CIDRs (hop counting applies)
   */
  readonly xffTrustedCidrs?: string[];
  /**
   * Whether the proxy skips appending the downstream address to X-Forwarded-For. With `useRemoteAddress: true`
   * this is the HCM field (unset means false: append). With `useRemoteAddress: false` the HCM never appends and
   * only the xff extension can: its field unset means true (do not append).
   * @default - false with useRemoteAddress, true without
   */
  readonly skipXffAppend?: boolean;
  /**
   * `header_name` of the `envoy.http.original_ip_detection.custom_header` extension: the client is the address in
   * this request header. Only with `useRemoteAddress: false`, no `xffNumTrustedHops` and no `xffTrustedCidrs`.
   * @default - no custom-header extension
   */
  readonly clientHeaderName?: string;
  /**
   * The value of the `clientHeaderName` header on the request.
   * @default - the header is absent
   */
  readonly clientHeaderValue?: string;
  /**
   * `reject_with_status` of the custom-header extension: the status answered when the header is absent or not an
   * IP address (fail closed).
   * @default - no rejection: the socket peer becomes the client
   */
  readonly rejectStatus?: number;
  /** The socket peer of the connection to this proxy (after PROXY protocol, the address the header carried). */
  readonly downstreamAddress: string;
  /**
   * The X-Forwarded-For header value the request arrived with.
   * @default - no header
   */
  readonly xForwardedFor?: string;
}

/** What one Envoy decides about the client address. */
export interface ClientAddressResult {
  /** The trusted client address: Envoy's `remote_ip` (AuthorizationPolicy `remoteIpBlocks`, `remote.ip`). */
  readonly trustedClientAddress: string;
  /**
   * The `X-Envoy-External-Address` this proxy sets (only with `use_remote_address: true`; the xff extension path
   * does not set it, envoyproxy/envoy#38637).
   * @default - not set by this proxy
   */
  readonly externalAddress?: string;
  /**
   * The X-Forwarded-For value the proxy sends upstream.
   * @default - no header
   */
  readonly forwardedFor?: string;
  /**
   * The status the proxy answered instead of forwarding the request (custom-header extension, fail closed).
   * @default - not rejected
   */
  readonly rejectedWithStatus?: number;
}

/** Envoy's trusted-client-address rule. */
export class ClientAddressResolver {
  /** Resolves the trusted client address, the X-Envoy-External-Address and the X-Forwarded-For sent on. */
  public static resolve(input: ClientAddressInput): ClientAddressResult {
    const r = resolveClientAddress(input);
    return {
      trustedClientAddress: r.trustedClientAddress,
      externalAddress: r.externalAddress,
      forwardedFor: r.forwardedFor,
      ...(r.rejectedWithStatus !== undefined ? { rejectedWithStatus: r.rejectedWithStatus } : {}),
    };
  }

  /**
   * Which X-Forwarded-For entry, counted from the right starting at 1, holds the trusted client for
   * `xff_num_trusted_hops` N; 0 means the socket peer. The HCM with `use_remote_address: true` counts its own
   * peer as one of the N hops (the Nth entry); with `use_remote_address: false`, and in the xff extension
   * (which only works without use_remote_address), the (N+1)th entry (envoyproxy/envoy#34241).
   */
  public static trustedEntryPosition(useRemoteAddress: boolean, xffNumTrustedHops: number): number {
    return trustedEntryPosition(useRemoteAddress, xffNumTrustedHops);
  }

  /**
   * The xff extension's `xff_num_trusted_hops` that picks the same X-Forwarded-For entry as an HCM with
   * `use_remote_address: true` and `xff_num_trusted_hops` N, on the same header: N - 1 (envoyproxy/envoy#34241).
   * A sidecar behind a gateway sees one more entry (the gateway appends its peer), so it uses N itself.
   */
  public static extensionHopsForRemoteAddressHops(hcmNumTrustedHops: number): number {
    checkInteger('hcmNumTrustedHops', hcmNumTrustedHops, 1, MAX_HOPS, 'with 0 hops an HCM with use_remote_address trusts the socket peer, which the xff extension cannot express');
    return hcmNumTrustedHops - 1;
  }

  private constructor() {}
}

