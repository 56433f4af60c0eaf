import type * as GatewayApi from '../../imports/gateway.networking.k8s.io';
import type * as Networking from '../../imports/networking.istio.io';
import type * as Security from '../../imports/security.istio.io';
import type * as Telemetry from '../../imports/telemetry.istio.io';
import { L1Class, L1Kind } from '../util/library-manifest';

/*
 * The kinds the library renders, as the generated L1 classes of imports/ type them, without loading those modules at
 * run time. The modules are large (networking.istio.io alone took about a fifth of the package's `require` time, and
 * as much again at the first synthesis once it was loaded lazily), and the library needs of a class only its group,
 * version and kind: its props type is compile-time only (`import type`), and enum values are written as the strings
 * they stand for (`ApiShaped`). test/model/l1-kinds.test.ts checks every entry against its L1 class's GVK.
 */

function kindOf<C extends L1Class<any>>(apiVersion: string, kind: string): L1Kind<C> {
  return { GVK: { apiVersion, kind }, _l1Kind: true };
}

/** `networking.istio.io`, by the name of the L1 class. */
export const NETWORKING = {
  Gateway: kindOf<typeof Networking.Gateway>('networking.istio.io/v1', 'Gateway'),
  VirtualService: kindOf<typeof Networking.VirtualService>('networking.istio.io/v1', 'VirtualService'),
  DestinationRule: kindOf<typeof Networking.DestinationRule>('networking.istio.io/v1', 'DestinationRule'),
  EnvoyFilter: kindOf<typeof Networking.EnvoyFilter>('networking.istio.io/v1alpha3', 'EnvoyFilter'),
};

/** `security.istio.io`, by the name of the L1 class. */
export const SECURITY = {
  AuthorizationPolicy: kindOf<typeof Security.AuthorizationPolicy>('security.istio.io/v1', 'AuthorizationPolicy'),
  AuthorizationPolicyV1Beta1: kindOf<typeof Security.AuthorizationPolicyV1Beta1>('security.istio.io/v1beta1', 'AuthorizationPolicy'),
};

/** `gateway.networking.k8s.io` (Gateway API), by the name of the L1 class. */
export const GATEWAY_API = {
  Gateway: kindOf<typeof GatewayApi.Gateway>('gateway.networking.k8s.io/v1', 'Gateway'),
  HttpRoute: kindOf<typeof GatewayApi.HttpRoute>('gateway.networking.k8s.io/v1', 'HTTPRoute'),
  ReferenceGrantV1Beta1: kindOf<typeof GatewayApi.ReferenceGrantV1Beta1>('gateway.networking.k8s.io/v1beta1', 'ReferenceGrant'),
  TcpRoute: kindOf<typeof GatewayApi.TcpRoute>('gateway.networking.k8s.io/v1', 'TCPRoute'),
  TcpRouteV1Alpha2: kindOf<typeof GatewayApi.TcpRouteV1Alpha2>('gateway.networking.k8s.io/v1alpha2', 'TCPRoute'),
  TlsRoute: kindOf<typeof GatewayApi.TlsRoute>('gateway.networking.k8s.io/v1', 'TLSRoute'),
  TlsRouteV1Alpha2: kindOf<typeof GatewayApi.TlsRouteV1Alpha2>('gateway.networking.k8s.io/v1alpha2', 'TLSRoute'),
};

/** `telemetry.istio.io`, by the name of the L1 class. */
export const TELEMETRY = {
  Telemetry: kindOf<typeof Telemetry.Telemetry>('telemetry.istio.io/v1', 'Telemetry'),
};
