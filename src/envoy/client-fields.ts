/*
 * The Envoy command operators and header options the library writes to carry the client address (the client-address
 * header and the access-log format), in one place. Envoy expands command operators in `request_headers_to_add`
 * values (router/header_parser.cc, "Custom request/response headers") and in access-log formats alike.
 */

/**
 * The downstream remote address without its port. After the HTTP connection manager has resolved the client
 * (X-Forwarded-For with use_remote_address and xff_num_trusted_hops, an original-IP-detection extension, or a PROXY
 * header), this is the client it trusts: conn_manager_impl.cc sets the stream's downstream remote address to
 * `mutate_result.final_remote_address`.
 */
export const DOWNSTREAM_ADDRESS_WITHOUT_PORT = '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%';

/** `HeaderValueOption.append_action` that replaces any incoming copy of the header (Envoy 1.23+). */
export const OVERWRITE_HEADER = 'OVERWRITE_IF_EXISTS_OR_ADD';

/** The fields of the JSON access-log format whose values carry the client at each hop, by key. */
export const CLIENT_ACCESS_LOG_FIELDS: { readonly [key: string]: string } = {
  start_time: '%START_TIME%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  response_code: '%RESPONSE_CODE%',
  downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
  downstream_direct_remote_address: '%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%',
  x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
  x_envoy_external_address: '%REQ(X-ENVOY-EXTERNAL-ADDRESS)%',
  upstream_host: '%UPSTREAM_HOST%',
  authority: '%REQ(:AUTHORITY)%',
};

/** The key of the JSON access-log field that carries the client-address header (`%REQ(<header>)%`). */
export const CLIENT_HEADER_LOG_FIELD = 'client_address_header';

/** The access-log format operator that logs request header `name`. */
export function requestHeaderOperator(name: string): string {
  return `%REQ(${name.toUpperCase()})%`;
}

/** Istio's built-in text access-log provider (meshConfig.accessLogFile on). */
export const ENVOY_TEXT_LOG_PROVIDER = 'envoy';
