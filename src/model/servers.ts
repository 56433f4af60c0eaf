import { ServerModel } from './model';
import { OPAQUE_PROTOCOLS, PASSTHROUGH_TLS_MODES, gatewayListenerPort } from '../envoy/names';

/*
 * Facts about gateway servers shared by the constructs, the checks and `explain` (internal).
 */

/** True when the server carries no HTTP (TCP, TLS, or TLS passthrough): no X-Forwarded-For exists there. */
export function isOpaqueServer(server: ServerModel): boolean {
  return OPAQUE_PROTOCOLS.includes(String(server.protocol).toUpperCase())
    || PASSTHROUGH_TLS_MODES.includes(String(server.tlsMode ?? '').toUpperCase());
}

/**
 * The port the gateway's Envoy listens on for a server: what AuthorizationPolicy `ports` and EnvoyFilter
 * `portNumber` match on a gateway. The model's `targetPort` when known, else the Service port.
 */
export function listenerPortOf(server: ServerModel): number {
  return server.targetPort ?? server.port;
}

/** The listener port this library's gateways use for a Service port (80 -> 8080, 443 -> 8443). */
export { gatewayListenerPort };
