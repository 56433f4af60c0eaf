/*
 * The client-address header (`clientAddressHeader()`): which names a hop may write the client into. The hop that
 * resolved the client writes it from Envoy's downstream remote address and overwrites any incoming copy, so the app
 * can read one value it can trust (on paths through that hop).
 */

/** RFC 7230 `token` (section 3.2.6): the characters a header field name may have. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9a-zA-Z]+$/;

/**
 * Names the library refuses: hop-by-hop headers (RFC 7230 section 6.1), the ones Envoy and Istio set or read for the
 * client address and routing themselves, and framing headers. Writing any of them would change what a later hop
 * resolves, routes on or forwards.
 */
const RESERVED = new Set([
  'host', 'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
  'content-length', 'proxy-authenticate', 'proxy-authorization',
  'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-client-cert', 'forwarded',
  'x-request-id', 'authorization', 'cookie',
]);

/** True for names Envoy owns: `x-envoy-*` headers are set, stripped or trusted by Envoy itself. */
function envoyOwned(name: string): boolean {
  return name.startsWith('x-envoy-');
}

/** Checks the header name of `clientAddressHeader()`; returns it. Throws naming the property, the value and the fix. */
export function checkClientAddressHeaderName(property: string, name: string): string {
  if (typeof name !== 'string' || name === '') {
    throw new Error(`${property} ${JSON.stringify(name)} is not allowed: give a header name such as "x-real-ip"`);
  }
  if (name.startsWith(':')) {
    throw new Error(`${property} "${name}" is not allowed: pseudo-headers (":authority", ":path", ...) are not request headers the app reads; use a header name such as "x-real-ip"`);
  }
  if (!TOKEN.test(name)) {
    throw new Error(`${property} "${name}" is not a valid header name: use an RFC 7230 token (letters, digits and !#$%&'*+-.^_\`|~, no blanks or separators), such as "x-real-ip"`);
  }
  if (name !== name.toLowerCase()) {
    throw new Error(`${property} "${name}" is not allowed: write header names in lower case ("${name.toLowerCase()}"); HTTP/2 requires it and Envoy lower-cases them anyway`);
  }
  if (envoyOwned(name) || RESERVED.has(name)) {
    throw new Error(`${property} "${name}" is not allowed: ${envoyOwned(name) ? 'x-envoy-* headers are set and trusted by Envoy itself' : 'it is a hop-by-hop, routing or client-address header that proxies set or read themselves'}; use a header of your own, such as "x-real-ip" or "x-client-ip"`);
  }
  return name;
}
