import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { claimTraffic } from './backend-traffic';
import { NETWORKING } from './l1';
import { ProxyProtocolFilterContext, ProxyProtocolListenerFilter } from './proxy-protocol-listener-filter';
import type { DestinationRuleSpecTrafficPolicyProxyProtocolVersion } from '../../imports/networking.istio.io';
import { IstioVersion } from '../model/istio-version';
import {
  GatewayModel, ISourceIpTarget, InterceptionMode, ProxyProtocolVersion, ProxyRole, WorkloadModel,
} from '../model/model';
import { Topology } from '../model/topology';
import { workloadModelFor } from '../model/workload-model';
import { joinTrace } from '../trace/topology-trace';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';
import { checkDnsLabel, checkHostname, checkLabels, checkPort, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';

/** Props of `ProxyProtocolBackend`. */
export interface ProxyProtocolBackendProps {
  /**
   * The backend Service: its short name (expanded to `<host>.<namespace>.svc.cluster.local`) or its full host
   * name. Every mesh client of this host sends PROXY (a DestinationRule applies to the whole host).
   */
  readonly host: string;

  /**
   * The backend Service port the gateway routes to.
   */
  readonly port: number;

  /**
   * The pod port behind `port`, where the backend's sidecar strips the PROXY header.
   *
   * @default - the same as `port`
   */
  readonly targetPort?: number;

  /**
   * Namespace of the backend Service and pods.
   *
   * @default - the namespace of `workload`, else 'default'
   */
  readonly namespace?: string;

  /**
   * Pod labels of the backend workload, whose sidecar gets the inbound PROXY filter.
   *
   * @default - the selector of `workload` (one of the two is required)
   */
  readonly selector?: { [key: string]: string };

  /**
   * The backend workload as a construct of this library (for example a `TproxyWorkload`): its namespace,
   * selector and interception mode are taken from it and checked.
   *
   * @default - none: give `selector`
   */
  readonly workload?: ISourceIpTarget;

  /**
   * The PROXY protocol version the senders (the gateway and every other mesh client) write.
   *
   * @default ProxyProtocolVersion.V2
   */
  readonly version?: ProxyProtocolVersion;

  /**
   * Let the backend's sidecar accept connections without a PROXY header too. The inbound filter covers every
   * port of the backend pods (a sidecar has one inbound listener), so turn this on when the pods have other
   * ports whose callers do not send PROXY, or clients without a sidecar. A connection without the header is
   * attributed to its packet source.
   *
   * @default false
   */
  readonly allowRequestsWithoutProxyProtocol?: boolean;

  /**
   * The Istio release the output is for.
   *
   * @default - the `cdk8s-istio-source-ip:istioVersion` context, else IstioVersion.LATEST
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * Passes the client address on to a meshed TCP backend with PROXY protocol: a `DestinationRule` with
 * `trafficPolicy.proxyProtocol` makes the gateway (and every other mesh client of the host) send a PROXY
 * header, and a SIDECAR_INBOUND `LISTENER_FILTER` EnvoyFilter makes the backend's sidecar strip it, so the
 * sidecar (and `remoteIpBlocks` there) sees the original client.
 *
 * The DestinationRule is preferred over an EnvoyFilter `transport_socket` patch, which ignores
 * `transport_socket_matches` and so breaks auto-mTLS (reference §9 pitfall 29); istiod wraps every transport
 * socket of the cluster instead.
 */
export class ProxyProtocolBackend extends Construct implements ISourceIpTarget {
  /** The backend host, fully qualified. */
  public readonly host: string;
  /** The backend Service port. */
  public readonly port: number;
  /** The pod port behind it. */
  public readonly targetPort: number;
  /** The PROXY protocol version sent. */
  public readonly version: ProxyProtocolVersion;
  /** Namespace of the backend pods. */
  public readonly targetNamespace: string;
  /** Pod labels of the backend. */
  public readonly targetSelector: { [key: string]: string };
  /** Always `ProxyRole.SIDECAR`. */
  public readonly targetRole: ProxyRole = ProxyRole.SIDECAR;
  /** The Istio release the output is for. */
  public readonly istioVersion: IstioVersion;
  /** The DestinationRule that makes the callers send PROXY. */
  public readonly destinationRule: ApiObject;
  /** The EnvoyFilter that makes the backend's sidecar strip it. */
  public readonly inboundFilter: ProxyProtocolListenerFilter;
  private readonly interceptionMode: InterceptionMode;
  private readonly workload?: ISourceIpTarget;

  public constructor(scope: Construct, id: string, props: ProxyProtocolBackendProps) {
    super(scope, id);
    try {
      this.istioVersion = IstioVersion.resolve(this, props.istioVersion);
      const workload = checkWorkload(props.workload);
      this.targetNamespace = checkDnsLabel('namespace', props.namespace ?? workload?.targetNamespace ?? 'default');
      if (workload && props.namespace !== undefined && props.namespace !== workload.targetNamespace) {
        throw new Error(`namespace "${props.namespace}" contradicts workload namespace "${workload.targetNamespace}": remove namespace or give the workload's`);
      }
      if (!props.selector && !workload) {
        throw new Error('selector is missing: give the backend pod labels, such as { app: "tcp-echo" }, or a workload construct');
      }
      this.targetSelector = checkLabels('selector', props.selector ?? workload!.targetSelector);
      this.port = checkPort('port', props.port);
      this.targetPort = checkPort('targetPort', props.targetPort ?? props.port);
      this.host = qualifiedHost(props.host, this.targetNamespace);
      // Every mesh client sends a PROXY header to this host: its Service ports must carry TCP, not HTTP.
      claimTraffic(this, { host: this.host, protocol: 'tcp', by: `ProxyProtocolBackend "${this.host}"` });
      this.version = props.version ?? ProxyProtocolVersion.V2;
      if (!Object.values(ProxyProtocolVersion).includes(this.version)) {
        throw new Error(`version ${JSON.stringify(props.version)} is not allowed: use ProxyProtocolVersion.V1 or ProxyProtocolVersion.V2`);
      }
      this.workload = workload;
      this.interceptionMode = workload?._workloadModel()?.interceptionMode ?? InterceptionMode.REDIRECT;
      if (this.interceptionMode === InterceptionMode.NONE) {
        SourceIpWarnings.add(this, `workload interceptionMode NONE: no inbound listener strips the PROXY header, so the app itself must read PROXY ${this.version} on port ${this.targetPort}; remove the interception opt-out or make sure the app parses PROXY`);
      }

      const name = `${this.host.split('.')[0].toLowerCase()}-proxy-protocol`;
      this.destinationRule = LibraryManifest.render(this, 'Resource', NETWORKING.DestinationRule, {
        metadata: { name, namespace: this.targetNamespace },
        spec: {
          host: this.host,
          trafficPolicy: { proxyProtocol: { version: toL1Version(this.version) } },
        },
      });
      this.inboundFilter = new ProxyProtocolListenerFilter(this, 'InboundFilter', {
        name: `${name}-inbound`,
        namespace: this.targetNamespace,
        selector: this.targetSelector,
        context: ProxyProtocolFilterContext.SIDECAR_INBOUND,
        allowRequestsWithoutProxyProtocol: props.allowRequestsWithoutProxyProtocol ?? false,
        istioVersion: this.istioVersion,
      });
      Topology.of(this).addProxyProtocolBackend(this);
      joinTrace(this);
      if (props.allowRequestsWithoutProxyProtocol) {
        SourceIpWarnings.add(this, `allowRequestsWithoutProxyProtocol true: the sidecar of "${this.host}" also accepts connections without PROXY, and any caller that reaches it can send a forged PROXY header with any client address; `
          + 'restrict callers with an AuthorizationPolicy on the gateway\'s principal, or require PROXY');
      }
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** Not a gateway. @internal */
  public _gatewayModel(): GatewayModel | undefined {
    return undefined;
  }

  /**
   * The backend's pods as a meshed workload: the same model its workload construct gives (interception mode, the
   * XffSidecarFilter that reaches them), with PROXY protocol accepted on every inbound port.
   * @internal
   */
  public _workloadModel(): WorkloadModel | undefined {
    const fromWorkload = this.workload?._workloadModel();
    if (fromWorkload) return fromWorkload;
    return workloadModelFor(this, {
      name: this.host.split('.')[0],
      namespace: this.targetNamespace,
      selector: this.targetSelector,
      podLabels: this.targetSelector,
      interceptionMode: this.interceptionMode,
    });
  }
}

/** Ambient workloads have no inbound Envoy to strip PROXY, and gateways are not backends. */
function checkWorkload(workload: ISourceIpTarget | undefined): ISourceIpTarget | undefined {
  if (!workload) return undefined;
  if (workload.targetRole === ProxyRole.AMBIENT) {
    throw new Error(`workload ${workload.node.path} is an ambient workload: ztunnel has no listener filters, so the PROXY header would reach the app and break the stream; give the backend a sidecar, or drop ProxyProtocolBackend and let the gateway end PROXY`);
  }
  if (workload.targetRole === ProxyRole.GATEWAY) {
    throw new Error(`workload ${workload.node.path} is a gateway: ProxyProtocolBackend is for meshed backends behind a gateway; for a gateway that accepts PROXY use ProxyProtocolGateway`);
  }
  return workload;
}

function qualifiedHost(host: string, namespace: string): string {
  if (typeof host !== 'string' || host.includes('*')) {
    throw new Error(`host ${JSON.stringify(host)} is not allowed: give the backend Service name such as "tcp-echo" or its full host name, without wildcards`);
  }
  checkHostname('host', host);
  return host.includes('.') ? host : `${checkDnsLabel('host', host)}.${namespace}.svc.cluster.local`;
}

function toL1Version(version: ProxyProtocolVersion): ApiShaped<DestinationRuleSpecTrafficPolicyProxyProtocolVersion> {
  return version === ProxyProtocolVersion.V1
    ? 'V1'
    : 'V2';
}
