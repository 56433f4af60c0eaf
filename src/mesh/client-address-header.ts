import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import type { EnvoyFilterSpecConfigPatchesMatchContext } from '../../imports/networking.istio.io';
import { DOWNSTREAM_ADDRESS_WITHOUT_PORT, OVERWRITE_HEADER } from '../envoy/client-fields';
import { NETWORKING } from '../ingress/l1';
import { checkClientAddressHeaderName } from '../model/client-address-header';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';

/*
 * The client-address header: the hop that resolves the client writes it into one request header, overwriting any
 * incoming copy, so that the app reads one value (nginx's X-Real-IP). Gateways of GatewayFlavour.ISTIO write it with
 * the VirtualServices of their routes (`headers.request.set`); Gateway API gateways and sidecars with an EnvoyFilter.
 */

/** Options of `clientAddressHeader()`. */
export interface ClientAddressHeaderOptions {
  /**
   * The request header the client is written into: a lower-case RFC 7230 token that no proxy sets or reads itself
   * (not `host`, `x-forwarded-for`, `x-envoy-*`, hop-by-hop headers or pseudo-headers).
   *
   * @default "x-real-ip"
   */
  readonly name?: string;
}

/** Which object writes the client-address header. */
export enum ClientAddressHeaderWriter {
  /**
   * The VirtualServices of the gateway's HTTP routes (`http[].headers.request.set`): istiod turns them into the
   * route's `request_headers_to_add` with OVERWRITE_IF_EXISTS_OR_ADD, and Envoy expands the command operator there.
   */
  VIRTUAL_SERVICE = 'virtual-service',
  /** An EnvoyFilter that MERGEs `request_headers_to_add` into the proxy's route configuration. */
  ENVOY_FILTER = 'envoy-filter',
}

/** The default header name: nginx's `$remote_addr` header, which many apps read. */
const DEFAULT_CLIENT_ADDRESS_HEADER = 'x-real-ip';

/** @internal What a hop that writes the header needs to say. */
export interface ClientAddressHeaderTarget {
  /** The header name (checked). */
  readonly name: string;
  /** `GATEWAY` or `SIDECAR_INBOUND` for an EnvoyFilter; undefined when the VirtualServices write it. */
  readonly context?: ApiShaped<EnvoyFilterSpecConfigPatchesMatchContext>;
  readonly namespace: string;
  readonly selector: { [key: string]: string };
}

/**
 * The client-address header of one gateway or sidecar workload, as `clientAddressHeader()` returns it. It writes the
 * client the hop resolved (`%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%`) and overwrites any copy the caller sent. The
 * trace shows its value at every later hop and at the app, and warns where a caller can forge it.
 */
export class ClientAddressHeader extends Construct {
  /**
   * Checks the options of `clientAddressHeader()`; returns the header name. @internal
   */
  public static _checkName(options: ClientAddressHeaderOptions | undefined): string {
    return checkClientAddressHeaderName('clientAddressHeader name', options?.name ?? DEFAULT_CLIENT_ADDRESS_HEADER);
  }

  /**
   * The header `hop` already writes, when it is `name` (a second call returns it); undefined when it writes none.
   * Throws when it writes another: a hop writes one client-address header. @internal
   */
  public static _reuse(existing: ClientAddressHeader | undefined, name: string, hop: string): ClientAddressHeader | undefined {
    if (existing === undefined || existing.headerName === name) return existing;
    throw new Error(`clientAddressHeader name "${name}" is not allowed: ${hop} already writes the client into "${existing.headerName}"; a hop writes one client-address header, so use that name`);
  }

  /** @internal */
  public static _render(scope: Construct, target: ClientAddressHeaderTarget): ClientAddressHeader {
    return new ClientAddressHeader(scope, target);
  }

  /** The request header written (lower case). */
  public readonly headerName: string;
  /** Which object writes it. */
  public readonly writer: ClientAddressHeaderWriter;
  /**
   * The EnvoyFilter that writes the header.
   * @default - undefined with ClientAddressHeaderWriter.VIRTUAL_SERVICE: the gateway's VirtualServices write it
   */
  public readonly envoyFilter?: ApiObject;

  private constructor(scope: Construct, target: ClientAddressHeaderTarget) {
    super(scope, 'ClientAddressHeader');
    this.headerName = target.name;
    this.writer = target.context === undefined ? ClientAddressHeaderWriter.VIRTUAL_SERVICE : ClientAddressHeaderWriter.ENVOY_FILTER;
    if (target.context !== undefined) {
      // istiod applies ROUTE_CONFIGURATION MERGE patches to the gateway's RDS route configurations and to the sidecar's
      // inbound route configuration alike (pilot/pkg/networking/core/httproute.go, envoyfilter.ApplyRouteConfigurationPatches
      // with EnvoyFilter_GATEWAY and EnvoyFilter_SIDECAR_INBOUND). Route-configuration headers are applied after the
      // route's and virtual host's (most_specific_header_mutations_wins is false by default), so this value wins.
      this.envoyFilter = LibraryManifest.render(this, 'Resource', NETWORKING.EnvoyFilter, {
        metadata: { namespace: target.namespace },
        spec: {
          workloadSelector: { labels: { ...target.selector } },
          configPatches: [{
            applyTo: 'ROUTE_CONFIGURATION',
            match: { context: target.context },
            patch: {
              operation: 'MERGE',
              value: { request_headers_to_add: [clientAddressHeaderValue(target.name)] },
            },
          }],
        },
      });
    }
  }
}

/** The `HeaderValueOption` that writes the client into `name`, overwriting the incoming header. @internal */
export function clientAddressHeaderValue(name: string): { [key: string]: unknown } {
  return { header: { key: name, value: DOWNSTREAM_ADDRESS_WITHOUT_PORT }, append_action: OVERWRITE_HEADER };
}
