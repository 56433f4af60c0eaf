import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { CLIENT_ACCESS_LOG_FIELDS, CLIENT_HEADER_LOG_FIELD, ENVOY_TEXT_LOG_PROVIDER, requestHeaderOperator } from '../envoy/client-fields';
import { DEFAULT_ROOT_NAMESPACE } from '../envoy/names';
import { TELEMETRY } from '../ingress/l1';
import { checkClientAddressHeaderName } from '../model/client-address-header';
import { ISourceIpTarget, ProxyRole } from '../model/model';
import { LibraryManifest } from '../util/library-manifest';
import { checkDnsLabel, checkTargetSelector, withConstructPath } from '../util/validate';

/*
 * Access logs that show the client at every hop: Telemetry API objects (`telemetry.istio.io/v1`, served by every
 * supported release, 1.24 to 1.32: checked against their CRD bundles) that turn on access logging for the library's
 * gateways and workloads, with a provider whose format carries the client fields. They change what the proxies log,
 * never which address they resolve or forward.
 */

/** Which proxies log. */
export enum AccessLogScope {
  /** The pods of the given targets only (one Telemetry per target, with its selector): the default. */
  TARGETS = 'targets',
  /** Every proxy in one namespace (a Telemetry without selector): only when asked for. */
  NAMESPACE = 'namespace',
  /** Every proxy in the mesh (a Telemetry without selector in the root namespace): only when asked for. */
  MESH = 'mesh',
}

/** The provider name of the JSON access-log format documented in docs/access-logs.md. */
const CLIENT_ADDRESS_LOG_PROVIDER = 'client-address-json';

/** Properties of `ClientAddressAccessLog`. */
export interface ClientAddressAccessLogProps {
  /**
   * The gateways and sidecar workloads whose proxies log (with AccessLogScope.TARGETS). Ambient workloads are refused:
   * ztunnel has no HTTP access log; log at their waypoint.
   * @default - none (required with AccessLogScope.TARGETS)
   */
  readonly targets?: ISourceIpTarget[];
  /** Which proxies log. Wider than the targets only when asked for. @default AccessLogScope.TARGETS */
  readonly scope?: AccessLogScope;
  /** The namespace for AccessLogScope.NAMESPACE. @default - required with AccessLogScope.NAMESPACE */
  readonly namespace?: string;
  /** The mesh root namespace for AccessLogScope.MESH (`meshConfig.rootNamespace`). @default "istio-system" */
  readonly rootNamespace?: string;
  /**
   * The `meshConfig.extensionProviders` entry the proxies log with. The default is the JSON provider of
   * `ClientAddressAccessLog.meshConfigProvider()`, which the installation must define; "envoy" is Istio's built-in
   * text provider (the default format already carries %DOWNSTREAM_REMOTE_ADDRESS% and X-Forwarded-For).
   * @default "client-address-json"
   */
  readonly provider?: string;
}

/** Options of `ClientAddressAccessLog.meshConfigProvider()`. */
export interface AccessLogProviderOptions {
  /** The provider's name. @default "client-address-json" */
  readonly name?: string;
  /** A client-address header to log (`clientAddressHeader()`), as field `client_address_header`. @default - none */
  readonly clientAddressHeader?: string;
  /** Where Envoy writes the log. @default "/dev/stdout" (what `kubectl logs` shows) */
  readonly path?: string;
}

/**
 * Turns on access logging, with the client fields, for the library's gateways and workloads: one Telemetry per
 * target, selecting exactly the target's pods, or one for a namespace or the mesh when asked for. `verify` reads the
 * lines (Istio's default text format, or the JSON format of `meshConfigProvider()`) as observations.
 */
export class ClientAddressAccessLog extends Construct {
  /**
   * The `meshConfig.extensionProviders` entry of the JSON format: `envoyFileAccessLog` with `logFormat.labels` holding
   * the downstream (resolved) and direct addresses, X-Forwarded-For, X-Envoy-External-Address, the upstream host and,
   * when given, the client-address header. Put it in the installation's meshConfig.
   */
  public static meshConfigProvider(options: AccessLogProviderOptions = {}): { [key: string]: any } {
    const header = options.clientAddressHeader === undefined ? undefined
      : checkClientAddressHeaderName('meshConfigProvider clientAddressHeader', options.clientAddressHeader);
    return {
      name: options.name ?? CLIENT_ADDRESS_LOG_PROVIDER,
      envoyFileAccessLog: {
        path: options.path ?? '/dev/stdout',
        logFormat: {
          labels: Object.assign({}, CLIENT_ACCESS_LOG_FIELDS, header ? { [CLIENT_HEADER_LOG_FIELD]: requestHeaderOperator(header) } : {}),
        },
      },
    };
  }

  /** The Telemetry objects, one per target (or one for the namespace or mesh). */
  public readonly telemetries: ApiObject[] = [];
  /** The provider the proxies log with. */
  public readonly provider: string;

  /**
   * @param scope where the Telemetry objects live
   * @param id construct id
   * @param props targets, scope and provider
   */
  public constructor(scope: Construct, id: string, props: ClientAddressAccessLogProps = {}) {
    super(scope, id);
    try {
      this.provider = props.provider ?? CLIENT_ADDRESS_LOG_PROVIDER;
      if (typeof this.provider !== 'string' || this.provider.trim() === '') {
        throw new Error(`provider ${JSON.stringify(props.provider)} is not allowed: give the name of a meshConfig extensionProviders entry, such as "${CLIENT_ADDRESS_LOG_PROVIDER}" or "${ENVOY_TEXT_LOG_PROVIDER}"`);
      }
      const accessLogging = [{ providers: [{ name: this.provider }] }];
      const accessLogScope = props.scope ?? AccessLogScope.TARGETS;
      if (!Object.values(AccessLogScope).includes(accessLogScope)) {
        throw new Error(`scope ${JSON.stringify(props.scope)} is not allowed: use AccessLogScope.TARGETS, NAMESPACE or MESH`);
      }
      if (accessLogScope !== AccessLogScope.TARGETS) {
        if ((props.targets ?? []).length > 0) {
          throw new Error(`targets is not allowed with scope ${accessLogScope}: a Telemetry for the whole ${accessLogScope} already covers them; remove targets, or use AccessLogScope.TARGETS`);
        }
        const namespace = accessLogScope === AccessLogScope.MESH ? checkDnsLabel('rootNamespace', props.rootNamespace ?? DEFAULT_ROOT_NAMESPACE)
          : checkDnsLabel('namespace', props.namespace as string);
        this.telemetries.push(LibraryManifest.render(this, 'Resource', TELEMETRY.Telemetry, { metadata: { namespace }, spec: { accessLogging } }));
        return;
      }
      const targets = props.targets ?? [];
      if (targets.length === 0) {
        throw new Error('targets is empty: give the gateways and workloads whose proxies should log, or ask for scope AccessLogScope.NAMESPACE or AccessLogScope.MESH');
      }
      const seen = new Set<ISourceIpTarget>();
      for (const target of targets) {
        if (seen.has(target)) continue;
        seen.add(target);
        const spec = { accessLogging, ...targetSpec(target) };
        // The id is the target's path, so that ids do not depend on the order of targets.
        this.telemetries.push(LibraryManifest.render(this, target.node.path.replace(/\//g, '-'), TELEMETRY.Telemetry, { metadata: { namespace: target.targetNamespace }, spec }));
      }
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }
}

/** What selects a target's proxy: a waypoint by `targetRefs`, a gateway or sidecar by its pods' labels (never empty). */
function targetSpec(target: ISourceIpTarget): { [key: string]: unknown } {
  if (target.targetRole === ProxyRole.AMBIENT) {
    throw new Error(`targets "${target.node.path}" is an ambient workload, which is not allowed: ztunnel has no HTTP access log; give its waypoint as a target, or log with ztunnel's own logs`);
  }
  if (target.targetRole === ProxyRole.WAYPOINT && (target.policyTargetRefs ?? []).length > 0) {
    return { targetRefs: target.policyTargetRefs!.map(r => ({ group: r.group, kind: r.kind, name: r.name })) };
  }
  const selector = checkTargetSelector('targets', target.node.path, target.targetSelector, target.targetNamespace, 'a Telemetry');
  return { selector: { matchLabels: { ...selector } } };
}
