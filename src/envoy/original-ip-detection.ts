import { CUSTOM_HEADER_DETECTION, CUSTOM_HEADER_DETECTION_TYPE } from './names';

/*
 * Envoy's original-IP-detection extensions (HttpConnectionManager `original_ip_detection_extensions`) as data.
 * Envoy refuses them next to `use_remote_address: true` or a non-zero `xff_num_trusted_hops` on the same connection
 * manager ("Original IP detection extensions and use_remote_address may not be mixed"); Istio gateways always have
 * `use_remote_address: true` and an EnvoyFilter MERGE cannot set it to false (istio/istio#18169), so these only
 * go to sidecar inbound listeners, where `use_remote_address` is false.
 */

/** Statuses the custom-header extension may answer with, by Envoy's `envoy.type.v3.StatusCode` name. */
export const REJECT_STATUSES: { readonly [code: number]: string } = { 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden' };

/** Headers Envoy itself writes or sanitises: reading the client from them would defeat the point. */
const RESERVED_HEADERS = ['x-forwarded-for', 'x-envoy-external-address', 'x-real-ip-envoy', 'forwarded', 'host'];
const TOKEN = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Checks a client-IP header name (an HTTP token, not X-Forwarded-For nor an `x-envoy-` header) and returns it in
 * lower case, as Envoy matches it.
 */
export function checkClientHeaderName(property: string, name: string): string {
  if (typeof name !== 'string' || !TOKEN.test(name) || name.length > 255) {
    throw new Error(`${property} ${JSON.stringify(name)} is not an HTTP header name: use the CDN's header, such as "CF-Connecting-IP", "True-Client-IP" or "X-Azure-ClientIP"`);
  }
  const lower = name.toLowerCase();
  if (RESERVED_HEADERS.includes(lower) || lower.startsWith('x-envoy-')) {
    throw new Error(`${property} "${name}" is not allowed: it is a header Envoy writes or forwards by its own rules, not one a CDN sets for the client; for X-Forwarded-For use trusted CIDRs (XffTrust.trustedCidrs) or a hop count, else give the CDN's own header such as "CF-Connecting-IP"`);
  }
  return lower;
}

/** Checks a reject status: 400, 401 or 403. */
export function checkRejectStatus(property: string, status: number): number {
  if (!Object.prototype.hasOwnProperty.call(REJECT_STATUSES, status)) {
    throw new Error(`${property} ${JSON.stringify(status)} is not allowed: use 403 (the default), 400 or 401`);
  }
  return status;
}

/**
 * The custom-header extension: the client is the address in `headerName`; `allow_extension_to_set_address_as_trusted`
 * lets Envoy use it for its internal/external decision; `reject_with_status` (fail closed) answers requests without
 * a valid address in the header. The extension appends nothing to X-Forwarded-For.
 */
export function customHeaderExtension(headerName: string, rejectStatus?: number): { [key: string]: unknown } {
  return {
    name: CUSTOM_HEADER_DETECTION,
    typed_config: {
      '@type': CUSTOM_HEADER_DETECTION_TYPE,
      'header_name': headerName,
      'allow_extension_to_set_address_as_trusted': true,
      ...(rejectStatus !== undefined ? { reject_with_status: { code: REJECT_STATUSES[rejectStatus] } } : {}),
    },
  };
}
