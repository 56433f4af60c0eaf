import { ADDRESSES } from './context';
import { HopTrace } from './trace-types';
import { finding } from '../model/finding-text';
import { Finding, FindingSeverity } from '../model/findings';
import { InterceptionMode, ProxyRole, WorkloadModel } from '../model/model';

/*
 * The client-address header (`clientAddressHeader()`) on a path: the hop that writes it sets it to the client it
 * resolved (Envoy's %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%) and overwrites any incoming copy; every later hop and
 * the app receive that value. Traced once honestly and once with a client (or an in-mesh caller) that forges
 * X-Forwarded-For and the header itself.
 */

/** The value a forging caller puts into every client-address header. */
export const FORGED_HEADER_VALUE = ADDRESSES.forged[3];

/** One hop that writes a header on a path. */
export interface HeaderWriter {
  readonly header: string;
  /** `gateway ns/name` or `workload ns/name`. */
  readonly where: string;
  /** What the writer resolved on the honest request. */
  readonly honest: string;
  /** What it resolved on the forged request. */
  readonly forged: string;
}

/** The header a workload's sidecar writes, when its sidecar handles the request (not ambient, not interceptionMode NONE). */
export function sidecarHeader(wl: WorkloadModel | undefined): string | undefined {
  if (!wl || wl.role !== ProxyRole.SIDECAR || wl.interceptionMode === InterceptionMode.NONE) return undefined;
  return wl.clientAddressHeader;
}

/** The headers the app receives after the writers in order, from a caller that sent `sent`. */
function headersAfter(writers: HeaderWriter[], sent: { [name: string]: string }, honest: boolean): { [name: string]: string } {
  const out = { ...sent };
  for (const w of writers) out[w.header] = honest ? w.honest : w.forged;
  return out;
}

/**
 * The hops of a north-south path with the headers each receives: `gatewayIndex` is the gateway's hop; the hops after
 * it receive what the gateway wrote, and the app (the last hop) what the sidecar wrote over it.
 */
export function withHeaderValues(hops: HopTrace[], gatewayIndex: number, writers: HeaderWriter[]): HopTrace[] {
  if (writers.length === 0) return hops;
  const afterGateway = headersAfter(writers.filter(w => w.where.startsWith('gateway ')), {}, true);
  const atApp = headersAfter(writers, {}, true);
  return hops.map((h, i) => {
    if (i === hops.length - 1) return Object.keys(atApp).length > 0 ? Object.assign({}, h, { clientAddressHeaders: atApp }) : h;
    return i > gatewayIndex && Object.keys(afterGateway).length > 0 ? Object.assign({}, h, { clientAddressHeaders: afterGateway }) : h;
  });
}

/**
 * What the writers of a north-south path mean: a writer that does not see the client writes something else (unless a
 * later writer overwrites the header), and a client that forges X-Forwarded-For and the header must not get its value
 * into the header the app reads.
 */
export function headerFindings(writers: HeaderWriter[], addresses: Map<string, string>, findings: Finding[]): void {
  writers.forEach((w, i) => {
    const overwritten = writers.slice(i + 1).some(later => later.header === w.header);
    if (!overwritten && w.honest !== ADDRESSES.client) {
      const what = addresses.get(w.honest) ?? (w.honest === ADDRESSES.gatewayPod ? 'the gateway pod' : 'not the client');
      const gateway = w.where.startsWith('gateway ');
      findings.push(finding(FindingSeverity.WARNING, w.where, `${w.header} carries ${w.honest} (${what}), not the client: the ${gateway ? 'gateway' : 'sidecar'} writes the client it resolves, and it does not resolve the client`,
        gateway
          ? 'make the gateway see the client (externalTrafficPolicy Local, PROXY protocol, numTrustedProxies for the hops in front), or write the header on the sidecar that resolves it (behind a CDN: XffTrust.clientHeader or trustedCidrs)'
          : 'resolve the client on the sidecar (XffSidecarFilter with the gateway\'s numTrustedProxies, trusted CIDRs or the CDN\'s header), or write the header at the gateway'));
    }
  });
  const forged = headersAfter(writers, Object.fromEntries(writers.map(w => [w.header, FORGED_HEADER_VALUE])), false);
  for (const [header, value] of Object.entries(forged)) {
    if (!ADDRESSES.forged.includes(value)) continue;
    const last = [...writers].reverse().find(w => w.header === header)!;
    findings.push(finding(FindingSeverity.ERROR, last.where, `spoofable: a client that sends X-Forwarded-For and ${header} gets ${value} into ${header}; the hop that writes it trusts X-Forwarded-For entries the client wrote`,
      'trust only the hops in front that append X-Forwarded-For (numTrustedProxies; on the sidecar, the gateway\'s numTrustedProxies)'));
  }
}

/**
 * What an in-mesh caller that calls the workload directly, not through the gateway, can put into the headers the app
 * reads: a header only a gateway writes reaches the app as the caller sent it, and one the sidecar writes carries what
 * the sidecar resolves for that caller (`forgedClient`, from the X-Forwarded-For the caller forged; the same rule as
 * remoteIpBlocks on the sidecar, `forgeable`).
 */
export function inMeshHeaderFindings(wl: WorkloadModel, gatewayHeaders: ReadonlyArray<{ readonly gateway: string; readonly header: string }>,
  forgeable: boolean, forgedClient: string, forgery: string, findings: Finding[], where: string): void {
  const own = sidecarHeader(wl);
  if (own !== undefined && forgeable) {
    findings.push(finding(FindingSeverity.WARNING, where, `forgeable from inside the mesh: the sidecar writes ${own} from the client it resolves, but a pod that calls the workload directly chooses that client by sending ${forgery} (got ${forgedClient})`,
      `trust ${own} in the app only for requests through the gateway (admit only the gateway to the workload), or resolve the client on the sidecar from hops it can check`));
  }
  for (const header of [...new Set(gatewayHeaders.filter(g => g.header !== own).map(g => g.header))]) {
    const gateways = [...new Set(gatewayHeaders.filter(g => g.header === header).map(g => g.gateway))];
    findings.push(finding(FindingSeverity.WARNING, where, `forgeable from inside the mesh: ${gateways.join(', ')} write${gateways.length > 1 ? '' : 's'} ${header}, but a pod that calls the workload directly, not through the gateway, sends its own ${header} (got ${FORGED_HEADER_VALUE}), and nothing overwrites it`,
      `admit only the gateway to the workload (an AuthorizationPolicy on the gateway's principal), or have the workload's sidecar write ${header} too (clientAddressHeader on the workload)`));
  }
}

/** The headers the app receives on the east-west path: what the sidecar writes, from the caller `client`. */
export function eastWestHeaders(wl: WorkloadModel, client: string): { [name: string]: string } | undefined {
  const own = sidecarHeader(wl);
  return own === undefined ? undefined : { [own]: client };
}
