import { ApiObject, Lazy } from 'cdk8s';
import { Construct } from 'constructs';
import { NETWORKING } from './l1';
import type {
  EnvoyFilterSpecConfigPatches,
} from '../../imports/networking.istio.io';
import { PROXY_PROTOCOL_FILTER, PROXY_PROTOCOL_TYPE, SIDECAR_INBOUND_PORT } from '../envoy/names';
import { IstioVersion } from '../model/istio-version';
import { Topology } from '../model/topology';
import { joinTrace } from '../trace/topology-trace';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';
import { checkDnsLabel, checkDnsSubdomain, checkLabels, checkPort, withConstructPath } from '../util/validate';

/** Which proxy the PROXY protocol listener filter is added to. */
export enum ProxyProtocolFilterContext {
  /** Gateway listeners, one patch per listener (Service target) port. */
  GATEWAY = 'GATEWAY',
  /** A sidecar's inbound capture listener (`virtualInbound`, port 15006): every inbound port of the pod. */
  SIDECAR_INBOUND = 'SIDECAR_INBOUND',
}

/** Props of `ProxyProtocolListenerFilter`. */
export interface ProxyProtocolListenerFilterProps {
  /** Namespace of the selected workload (and of the EnvoyFilter). */
  readonly namespace: string;
  /** Pod labels of the workload that gets the filter. */
  readonly selector: { [key: string]: string };
  /**
   * Gateway context: the listener ports, that is the Service `targetPort`s (not the Service ports); more can be
   * added with `addPort()`. Must be empty for `SIDECAR_INBOUND`, which has one listener (15006) for every
   * inbound port.
   *
   * @default - none (at least one is needed at synthesis for GATEWAY)
   */
  readonly ports?: number[];
  /**
   * Where the filter goes.
   *
   * @default ProxyProtocolFilterContext.GATEWAY
   */
  readonly context?: ProxyProtocolFilterContext;
  /**
   * Accept connections without a PROXY header too (Envoy `allow_requests_without_proxy_protocol`). Such a
   * connection's client is its packet source, and anyone who can reach the port may send a forged header:
   * only for ports that trusted sources alone can reach.
   *
   * @default false
   */
  readonly allowRequestsWithoutProxyProtocol?: boolean;
  /**
   * Name of the EnvoyFilter.
   *
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * The Istio release the output is for.
   *
   * @default - `IstioVersion.resolve(this)`
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * An EnvoyFilter that inserts Envoy's `envoy.filters.listener.proxy_protocol` listener filter, with a proper
 * `typed_config`, first on the selected listeners.
 *
 * Never use it on a gateway that also has `gatewayTopology.proxyProtocol` (istio/istio#49836): the header would be
 * parsed twice. `ProxyProtocolGateway` chooses one or the other.
 */
export class ProxyProtocolListenerFilter extends Construct {
  /** The Istio release the output is for. */
  public readonly istioVersion: IstioVersion;
  /** Where the filter goes. */
  public readonly context: ProxyProtocolFilterContext;
  /** True when connections without a PROXY header are accepted too. */
  public readonly allowRequestsWithoutProxyProtocol: boolean;
  /** Namespace of the EnvoyFilter and the workload. */
  public readonly namespace: string;
  /** Pod labels of the workload. */
  public readonly selector: { [key: string]: string };
  /** The EnvoyFilter. */
  public readonly resource: ApiObject;

  /** True for the SIDECAR_INBOUND context: the selected sidecars strip PROXY on every inbound port. @internal */
  public get _stripsOnSidecarInbound(): boolean {
    return this.context === ProxyProtocolFilterContext.SIDECAR_INBOUND;
  }
  private readonly ports: number[];
  private readonly portSources: Array<() => number[]> = [];

  public constructor(scope: Construct, id: string, props: ProxyProtocolListenerFilterProps) {
    super(scope, id);
    try {
      this.istioVersion = IstioVersion.resolve(this, props.istioVersion);
      this.context = props.context ?? ProxyProtocolFilterContext.GATEWAY;
      this.allowRequestsWithoutProxyProtocol = props.allowRequestsWithoutProxyProtocol ?? false;
      this.namespace = checkDnsLabel('namespace', props.namespace);
      this.selector = checkLabels('selector', props.selector);
      if (props.name !== undefined) checkDnsSubdomain('name', props.name);
      this.ports = [];
      (props.ports ?? []).forEach((port, i) => this.addPort(port, `ports[${i}]`));
      this.resource = LibraryManifest.render(this, 'Resource', NETWORKING.EnvoyFilter, {
        metadata: Object.assign(props.name !== undefined ? { name: props.name } : {}, { namespace: this.namespace }),
        spec: {
          workloadSelector: { labels: { ...this.selector } },
          configPatches: Lazy.any({ produce: () => this.renderPatches() }),
        },
      });
      this.node.addValidation({ validate: () => this.validatePorts() });
      // It changes the proxies it selects: the model and the trace know it (a sidecar that strips PROXY).
      Topology.of(this).addProxyProtocolFilter(this);
      joinTrace(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /**
   * Adds a gateway listener port (a Service `targetPort`).
   *
   * @param port the listener port
   * @param property the name used for `port` in error messages
   */
  public addPort(port: number, property: string = 'port'): void {
    if (this.context === ProxyProtocolFilterContext.SIDECAR_INBOUND) {
      throw new Error(`ports [${port}] is not allowed with context SIDECAR_INBOUND: a sidecar has one inbound listener (${SIDECAR_INBOUND_PORT}) for every pod port, so the filter applies to all of them; remove ports`);
    }
    this.ports.push(checkPort(property, port));
  }

  /**
   * Adds ports computed when synthesising (a gateway's listener ports, which grow with every `addX()` server).
   *
   * @internal
   */
  public _addPortSource(source: () => number[]): void {
    if (this.context === ProxyProtocolFilterContext.SIDECAR_INBOUND) throw new Error('port sources are only for GATEWAY filters');
    this.portSources.push(source);
  }

  /** The listener ports the filter applies to (a copy; 15006 for SIDECAR_INBOUND). */
  public get listenerPorts(): number[] {
    if (this.context === ProxyProtocolFilterContext.SIDECAR_INBOUND) return [SIDECAR_INBOUND_PORT];
    return uniqueSorted([...this.ports, ...this.portSources.flatMap(source => source())]);
  }

  private validatePorts(): string[] {
    if (this.context !== ProxyProtocolFilterContext.GATEWAY) return [];
    return this.listenerPorts.length === 0
      ? ['ports is empty: a GATEWAY PROXY protocol filter needs the listener (Service targetPort) ports it applies to, for example ports: [8443] or addPort(8443)']
      : [];
  }

  private renderPatches(): ApiShaped<EnvoyFilterSpecConfigPatches>[] {
    return this.listenerPorts.map(port => ({
      applyTo: 'LISTENER_FILTER',
      match: {
        context: this.context === ProxyProtocolFilterContext.GATEWAY
          ? 'GATEWAY'
          : 'SIDECAR_INBOUND',
        listener: { portNumber: port },
      },
      patch: {
        // INSERT_FIRST, never INSERT_BEFORE tls_inspector: the PROXY header must be stripped before any filter reads
        // the first bytes (tls_inspector, http_inspector), and a relative insert silently does nothing on listeners
        // without tls_inspector (reference §9 pitfall 26). On the sidecar it must also run before original_dst:
        // Envoy's proxy_protocol filter replaces the local address with the header's destination, and original_dst
        // (SO_ORIGINAL_DST) has to win so that the right inbound filter chain (the pod port) is chosen.
        operation: 'INSERT_FIRST',
        value: proxyProtocolListenerFilterValue(this.allowRequestsWithoutProxyProtocol),
      },
    }));
  }
}

/** The listener filter with its typed_config; never the legacy name-only form (istio/istio#49836). */
function proxyProtocolListenerFilterValue(allowWithout: boolean): any {
  return {
    name: PROXY_PROTOCOL_FILTER,
    typed_config: {
      '@type': PROXY_PROTOCOL_TYPE,
      ...(allowWithout ? { allow_requests_without_proxy_protocol: true } : {}),
    },
  };
}

function uniqueSorted(ports: number[]): number[] {
  return [...new Set(ports)].sort((a, b) => a - b);
}
