import { ClientAddressInput, ClientAddressResult } from '../trace/client-address';
import { MAX_HOPS, resolveClientAddress, trustedEntryPosition } from '../trace/xff-rule';
import { checkInteger } from '../util/validate';

/*
 * The public face of Envoy's rule for the "trusted client address" (headers.rst, x-forwarded-for), as a pure function.
 * By default it assumes Envoy >= 1.33 (Istio >= 1.25): no address is internal unless internal_address_config
 * says so; `privateAddressesAreInternal` gives Envoy 1.32's default (Istio 1.24).
 */

/** Envoy's trusted-client-address rule. */
export class ClientAddressResolver {
  /** Resolves the trusted client address, the X-Envoy-External-Address and the X-Forwarded-For sent on. */
  public static resolve(input: ClientAddressInput): ClientAddressResult {
    const r = resolveClientAddress(input);
    return {
      trustedClientAddress: r.trustedClientAddress,
      externalAddress: r.externalAddress,
      forwardedFor: r.forwardedFor,
      internal: r.internal,
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

