import { clientAddressHeaderOf } from './client-headers';
import { listOf, namespaceOf } from './objects';
import { CUSTOM_HEADER_DETECTION, DEFAULT_ROOT_NAMESPACE, HCM_FILTER, LEGACY_PROXY_PROTOCOL_FILTER, PROXY_PROTOCOL_FILTER, XFF_DETECTION } from '../../envoy/names';
import { REJECT_STATUSES } from '../../envoy/original-ip-detection';
import { ONLY_THROUGH_CDN_ANNOTATION } from '../../model/annotations';
import { finding } from '../../model/finding-text';
import { SidecarXffMode } from '../../model/model';
import { XffFilterModel, XffFilterSettingsModel } from '../../model/xff-filter-checks';
import { Finding, FindingSeverity } from '../explain-report';
import { ReadContext, UINT32_MAX, readBoolean, readCidrRange, readEnum, readInteger, readList, readPort, readString, wrongShape } from '../read-values';
import { objectWhere } from '../skipped';

/* EnvoyFilters, read once each: the connection-manager and PROXY listener patches that change the client address. */

const CONTEXTS = ['ANY', 'SIDECAR_INBOUND', 'SIDECAR_OUTBOUND', 'GATEWAY', 'WAYPOINT'];

/** One configPatch of an EnvoyFilter, as far as the client address goes, every value checked. */
interface ReadPatch {
  readonly context?: string;
  readonly port?: number;
  /** An HTTP connection manager MERGE. */
  readonly hcm?: ReadHcm;
  /** A PROXY protocol listener filter. */
  readonly proxyProtocol?: { readonly optional: boolean };
  /** A route-configuration MERGE that writes the client into this header (lower case), overwriting it. */
  readonly clientHeader?: string;
}

export interface ReadHcm {
  readonly port?: number;
  readonly hops?: number;
  readonly useRemoteAddress?: boolean;
  /** How many original_ip_detection_extensions the patch sets (of any kind). */
  readonly extensions: number;
  readonly xff: Array<{ readonly hops?: number; readonly cidrs: string[] }>;
  /** The custom-header extensions: the header the client is read from, and the status when it is missing. */
  readonly customHeaders: Array<{ readonly headerName: string; readonly rejectStatus?: number }>;
}

export interface ReadEnvoyFilter {
  readonly patches: ReadPatch[];
  /** The library's annotation: the gateway is reachable only through the CDN whose header the filter reads. */
  readonly onlyReachableThroughCdn: boolean;
}

/** Reads an EnvoyFilter once (not once per pod it applies to), so that each bad value is one finding. */
export function readEnvoyFilter(f: any, findings: Finding[]): ReadEnvoyFilter {
  const ctx: ReadContext = { where: objectWhere(f), findings };
  const raw = listOf(f.spec?.configPatches);
  const patches = raw.flatMap((c: any, i: number) => {
    const field = `spec.configPatches[${i}]`;
    if (c === null || typeof c !== 'object' || Array.isArray(c)) {
      wrongShape(ctx, field, c, 'a map with applyTo, match and patch');
      return [];
    }
    const context = readEnum(ctx, `${field}.match.context`, c.match?.context, CONTEXTS);
    if (context === undefined && c.match?.context !== undefined && c.match?.context !== null) return [];
    const port = readPort(ctx, `${field}.match.listener.portNumber`, c.match?.listener?.portNumber);
    const clientHeader = clientAddressHeaderOf(c);
    const patch: ReadPatch = {
      context, port, hcm: readHcm(c, field, ctx, port), proxyProtocol: readProxyProtocol(c, field, ctx), ...(clientHeader ? { clientHeader } : {}),
    };
    return [patch];
  });
  if (raw.length > 0 && raw.every((c: any) => c?.match?.context === undefined)) {
    findings.push(finding(FindingSeverity.WARNING, ctx.where, 'no configPatch sets match.context, so every patch applies in every context (ANY): gateways, sidecar inbound and sidecar outbound',
      'set match.context to GATEWAY or SIDECAR_INBOUND on each patch'));
  }
  return { patches, onlyReachableThroughCdn: f.metadata?.annotations?.[ONLY_THROUGH_CDN_ANNOTATION] === 'true' };
}

function readHcm(c: any, field: string, ctx: ReadContext, port: number | undefined): ReadHcm | undefined {
  if (c.applyTo !== 'NETWORK_FILTER' || c.patch?.operation !== 'MERGE' || (c.match?.listener?.filterChain?.filter?.name ?? HCM_FILTER) !== HCM_FILTER) return undefined;
  const typed = c.patch?.value?.typed_config ?? c.patch?.value?.typedConfig ?? {};
  if (typeof typed !== 'object' || Array.isArray(typed)) {
    wrongShape(ctx, `${field}.patch.value.typed_config`, typed, 'a map');
    return undefined;
  }
  const tc = `${field}.patch.value.typed_config`;
  const extensions = readList(ctx, `${tc}.original_ip_detection_extensions`, typed.original_ip_detection_extensions);
  const xff = extensions.flatMap((e: any, j: number) => {
    if (e?.name !== XFF_DETECTION) return [];
    const config = e.typed_config ?? {};
    const ef = `${tc}.original_ip_detection_extensions[${j}].typed_config`;
    const cidrs = readList(ctx, `${ef}.xff_trusted_cidrs.cidrs`, config.xff_trusted_cidrs?.cidrs)
      .flatMap((r: unknown, k: number) => readCidrRange(ctx, `${ef}.xff_trusted_cidrs.cidrs[${k}]`, r) ?? []);
    return [{ hops: readInteger(ctx, `${ef}.xff_num_trusted_hops`, config.xff_num_trusted_hops, 0, UINT32_MAX), cidrs }];
  });
  const customHeaders = extensions.flatMap((e: any, j: number) => {
    if (e?.name !== CUSTOM_HEADER_DETECTION) return [];
    const config = e.typed_config ?? {};
    const headerName = readString(ctx, `${tc}.original_ip_detection_extensions[${j}].typed_config.header_name`, config.header_name);
    return headerName === undefined ? [] : [{ headerName, ...optionalRejectStatus(rejectStatusOf(config.reject_with_status)) }];
  });
  return {
    port,
    hops: readInteger(ctx, `${tc}.xff_num_trusted_hops`, typed.xff_num_trusted_hops, 0, UINT32_MAX),
    useRemoteAddress: readBoolean(ctx, `${tc}.use_remote_address`, typed.use_remote_address),
    extensions: extensions.length,
    xff,
    customHeaders,
  };
}

/** `reject_with_status.code` by name or number; an unknown code is what Envoy turns into 403. */
function rejectStatusOf(status: any): number | undefined {
  if (status === undefined || status === null) return undefined;
  const code = status.code;
  if (typeof code === 'number') return code >= 400 && code <= 511 ? code : 403;
  const byName = Object.entries(REJECT_STATUSES).find(([, name]) => name === code);
  return byName ? Number(byName[0]) : 403;
}

function optionalRejectStatus(rejectStatus: number | undefined): { rejectStatus?: number } {
  return rejectStatus === undefined ? {} : { rejectStatus };
}

function readProxyProtocol(c: any, field: string, ctx: ReadContext): { readonly optional: boolean } | undefined {
  const names = [PROXY_PROTOCOL_FILTER, LEGACY_PROXY_PROTOCOL_FILTER];
  if (c.applyTo === 'LISTENER_FILTER' && names.includes(c.patch?.value?.name)) {
    const optional = readBoolean(ctx, `${field}.patch.value.typed_config.allow_requests_without_proxy_protocol`, c.patch.value.typed_config?.allow_requests_without_proxy_protocol);
    return { optional: optional === true };
  }
  if (c.applyTo === 'LISTENER' && listOf(c.patch?.value?.listener_filters).some((l: any) => names.includes(l?.name))) return { optional: false };
  return undefined;
}

/** The client-address headers these patches write (`clientAddressHeader()`), in order. */
export function clientHeaderPatches(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): string[] {
  return patchesOf(filters, contexts).flatMap(c => c.clientHeader ?? []);
}

function patchesOf(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): ReadPatch[] {
  return filters.flatMap(f => f.patches).filter(c => contexts.includes(c.context));
}

export function hcmPatches(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): ReadHcm[] {
  return patchesOf(filters, contexts).flatMap(c => c.hcm ?? []);
}

export interface ListenerPp { readonly port?: number; readonly optional: boolean }

export function proxyProtocolListenerPatches(filters: ReadEnvoyFilter[], contexts: Array<string | undefined>): ListenerPp[] {
  return patchesOf(filters, contexts).flatMap(c => (c.proxyProtocol ? [{ port: c.port, optional: c.proxyProtocol.optional }] : []));
}

/** The patches of an EnvoyFilter that set the client address on sidecars, as the shared overlap check sees them. */
export function xffFilterModelsOf(f: any, read: ReadEnvoyFilter, rootNamespaces: string[]): XffFilterModel[] {
  const namespace = namespaceOf(f);
  const selector = f.spec?.workloadSelector?.labels;
  const labels = selector !== null && typeof selector === 'object' && !Array.isArray(selector) ? selector : {};
  return hcmPatches([read], ['SIDECAR_INBOUND', 'ANY', undefined]).flatMap(hcm => {
    const settings = xffSettingsOf(hcm);
    if (settings === undefined) return [];
    return [{
      name: String(f.metadata?.name ?? 'unnamed'),
      namespace,
      rootNamespace: rootNamespaces.includes(namespace) ? namespace : DEFAULT_ROOT_NAMESPACE,
      selector: { ...labels },
      ...(hcm.port !== undefined ? { portNumber: hcm.port } : {}),
      settings,
    }];
  });
}

/** What connection manager patches make of a sidecar's client address: the mode that applies and its settings. */
export interface XffPrecedence {
  /** The mode; DEFAULT when the patches set nothing that changes the client address. */
  readonly mode: SidecarXffMode;
  /** Every xff_trusted_cidrs entry of the patches, in order. */
  readonly cidrs: string[];
  /** The last positive xff_num_trusted_hops (the connection manager's first, then the XFF extensions'). */
  readonly hops?: number;
  /** The last custom-header extension. */
  readonly header?: { readonly headerName: string; readonly rejectStatus?: number };
}

/**
 * Which XFF mode applies when these patches reach one sidecar, the one precedence explain uses (the per-patch
 * overlap check and the workload model alike): a custom header, then trusted CIDRs, then use_remote_address, then
 * trusted hops.
 */
export function xffPrecedence(patches: readonly ReadHcm[]): XffPrecedence {
  const xff = patches.flatMap(v => v.xff);
  const cidrs = xff.flatMap(x => x.cidrs);
  const hops = [...patches.map(v => v.hops), ...xff.map(x => x.hops)].filter((n): n is number => n !== undefined && n > 0);
  const headers = patches.flatMap(v => v.customHeaders);
  const header = headers.length > 0 ? headers[headers.length - 1] : undefined;
  const mode = header !== undefined ? SidecarXffMode.CUSTOM_HEADER
    : cidrs.length > 0 ? SidecarXffMode.TRUSTED_CIDRS
      : patches.some(v => v.useRemoteAddress === true) ? SidecarXffMode.USE_REMOTE_ADDRESS
        : hops.length > 0 ? SidecarXffMode.TRUSTED_HOPS : SidecarXffMode.DEFAULT;
  return { mode, cidrs, ...(hops.length > 0 ? { hops: hops[hops.length - 1] } : {}), ...(header !== undefined ? { header } : {}) };
}

/** What one connection manager patch sets, as the shared overlap check sees it; undefined when nothing. */
function xffSettingsOf(hcm: ReadHcm): XffFilterSettingsModel | undefined {
  const applied = xffPrecedence([hcm]);
  switch (applied.mode) {
    case SidecarXffMode.CUSTOM_HEADER: return { mode: applied.mode, cidrs: [] };
    case SidecarXffMode.TRUSTED_CIDRS: return { mode: applied.mode, cidrs: applied.cidrs };
    case SidecarXffMode.USE_REMOTE_ADDRESS: return { mode: applied.mode, cidrs: [] };
    case SidecarXffMode.TRUSTED_HOPS: return { mode: applied.mode, hops: applied.hops, cidrs: [] };
    default: return undefined;
  }
}
