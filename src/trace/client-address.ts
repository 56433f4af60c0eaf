/*
 * The input and result of Envoy's trusted-client-address rule (plain data, shared by the resolver and the tracer).
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
  /**
   * Envoy 1.32's default (Istio 1.24): without `internal_address_config`, RFC 1918, RFC 4193 and loopback
   * addresses are internal, so a request from one (with a single X-Forwarded-For entry) gets `x-envoy-internal:
   * true` and no X-Envoy-External-Address. Envoy 1.33+ (Istio 1.25+) treats no address as internal by default.
   * @default false
   */
  readonly privateAddressesAreInternal?: boolean;
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
   * True when the proxy marks the request internal (`x-envoy-internal: true`), which it does only with
   * `use_remote_address: true`.
   * @default false
   */
  readonly internal?: boolean;
  /**
   * The status the proxy answered instead of forwarding the request (custom-header extension, fail closed).
   * @default - not rejected
   */
  readonly rejectedWithStatus?: number;
}
