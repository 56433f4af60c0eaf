import { ExternalTrafficPolicy, ProxyProtocolVersion } from '../model/model';
import { TrustChain } from '../model/trust-chain';

/** The explicit gateway props a trust chain can contradict. */
export interface ChainCheckedProps {
  readonly trustChain?: TrustChain;
  readonly numTrustedProxies?: number;
  readonly externalTrafficPolicy?: ExternalTrafficPolicy;
  readonly proxyProtocolVersion?: ProxyProtocolVersion;
}

/** What the chain sets when the props leave it open. */
export interface ChainDefaults {
  readonly numTrustedProxies?: number;
  readonly externalTrafficPolicy?: ExternalTrafficPolicy;
  readonly proxyProtocolVersion?: ProxyProtocolVersion;
}

/**
 * Settings a gateway's trust chain implies. `expectProxyProtocol` says whether the gateway kind accepts PROXY,
 * so that a chain of the wrong kind is refused; explicit props that disagree with the chain are errors naming both.
 */
export function defaultsFromTrustChain(props: ChainCheckedProps, expectProxyProtocol: boolean): ChainDefaults {
  const chain = props.trustChain;
  if (!chain) return {};
  const derived = chain.derive();
  if (derived.proxyProtocol && !expectProxyProtocol) {
    throw new Error(`trustChain ${chain.describe()} sends PROXY protocol to the gateway, which PreservedIngressGateway does not accept: use ProxyProtocolGateway for this chain`);
  }
  if (!derived.proxyProtocol && expectProxyProtocol) {
    throw new Error(`trustChain ${chain.describe()} has no PROXY protocol hop, so no PROXY header reaches the gateway: add TrustHop.l4ProxyProtocol() to the chain, or use PreservedIngressGateway`);
  }
  contradiction('numTrustedProxies', props.numTrustedProxies, derived.numTrustedProxies, chain,
    `which has ${derived.numTrustedProxies} X-Forwarded-For appending hop(s)`);
  contradiction('externalTrafficPolicy', props.externalTrafficPolicy, derived.externalTrafficPolicy, chain,
    `which needs ${derived.externalTrafficPolicy}`);
  if (derived.proxyProtocolVersion !== undefined) {
    contradiction('proxyProtocolVersion', props.proxyProtocolVersion, derived.proxyProtocolVersion, chain,
      `whose PROXY hop sends ${derived.proxyProtocolVersion}`);
  }
  return {
    numTrustedProxies: derived.numTrustedProxies,
    externalTrafficPolicy: derived.externalTrafficPolicy,
    proxyProtocolVersion: derived.proxyProtocolVersion,
  };
}

function contradiction(property: string, explicit: unknown, derived: unknown, chain: TrustChain, why: string): void {
  if (explicit !== undefined && explicit !== derived) {
    throw new Error(`${property} ${explicit} contradicts trustChain ${chain.describe()}, ${why}: remove ${property} or fix the chain`);
  }
}
