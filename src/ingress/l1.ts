/*
 * The generated L1 modules of imports/, loaded on first use. They are large (the networking.istio.io module alone
 * takes about a tenth of the package's start-up), and a construct needs one only when it renders: requiring the
 * package loads none of them (test/trace/lazy-start.test.ts). Files that render objects import their types with
 * `import type` and their classes and enums through these functions.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
import type * as GatewayApi from '../../imports/gateway.networking.k8s.io';
import type * as Networking from '../../imports/networking.istio.io';
import type * as Security from '../../imports/security.istio.io';

let gatewayApi: typeof GatewayApi | undefined;
let networking: typeof Networking | undefined;
let security: typeof Security | undefined;

/** `gateway.networking.k8s.io` (Gateway API). */
export function gatewayApiL1(): typeof GatewayApi {
  if (!gatewayApi) gatewayApi = require('../../imports/gateway.networking.k8s.io');
  return gatewayApi!;
}

/** `networking.istio.io` (Gateway, VirtualService, DestinationRule, EnvoyFilter). */
export function networkingL1(): typeof Networking {
  if (!networking) networking = require('../../imports/networking.istio.io');
  return networking!;
}

/** `security.istio.io` (AuthorizationPolicy). */
export function securityL1(): typeof Security {
  if (!security) security = require('../../imports/security.istio.io');
  return security!;
}
