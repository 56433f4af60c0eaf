import type * as IpAddr from 'ipaddr.js';

let loaded: typeof IpAddr | undefined;

/**
 * ipaddr.js, loaded on first use: `require('cdk8s-istio-source-ip')` does not load it (start-up, issue 29). The IPv4
 * fast path of `parseCidr`, `addressInCidr` and `isIpAddress` (cidr.ts) does without it; other checks load it at
 * synthesis.
 */
export function ipaddr(): typeof IpAddr {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return loaded ??= require('ipaddr.js');
}
