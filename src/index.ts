export * from './model/health-check-fix';
export * from './model/istio-version';
// The per-object models are internal (the trace's plain data): only the enums props use and the target interface.
export {
  ClientIpField, ExternalTrafficPolicy, InterceptionMode, PolicyAction, ProxyProtocolMode, ProxyProtocolVersion, ProxyRole, SidecarXffMode,
  WaypointFor, XffFilterScope,
} from './model/model';
export type { ISourceIpTarget, PolicyTargetRef } from './model/model';
export * from './model/trust-chain';
export * from './net/cidr-list';
export * from './ingress';
export * from './mesh';
export * from './ambient';
export * from './policy';
export * from './explain';
export * from './plugin';
export * from './util/warnings';
export { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY } from './util/duplicate-objects';
