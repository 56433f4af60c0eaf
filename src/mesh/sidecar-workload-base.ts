import { ApiObject } from 'cdk8s';
import { Construct } from 'constructs';
import { ClientAddressHeader, ClientAddressHeaderOptions } from './client-address-header';
import { IstioVersion } from '../model/istio-version';
import { GatewayModel, InterceptionMode, ISourceIpTarget, ProxyRole, WorkloadModel } from '../model/model';
import { Topology } from '../model/topology';
import { workloadModelFor } from '../model/workload-model';
import { addRateLimitPerClient } from '../policy/rate-limit-per-client';
import { RateLimitPerClientProps } from '../policy/rate-limit-props';
import { SourceIpPolicy, SourceIpRuleOptions } from '../policy/source-ip-policy';

/**
 * @internal What every meshed (sidecar) workload target shares: policies on its sidecar and a workload model that includes
 * the `XffSidecarFilter` reaching its pods. `TproxyWorkload` and `MeshWorkload` extend it.
 */
export abstract class SidecarWorkloadBase extends Construct implements ISourceIpTarget {
  /** Always `ProxyRole.SIDECAR`. */
  public readonly targetRole: ProxyRole = ProxyRole.SIDECAR;
  /** Namespace of the pods. */
  public abstract readonly targetNamespace: string;
  /** Labels that select the pods. */
  public abstract readonly targetSelector: { [key: string]: string };
  /** The interception mode of the pods. */
  public abstract readonly interceptionMode: InterceptionMode;
  private cachedModel?: CachedModel;
  private clientHeader?: ClientAddressHeader;

  /** Allows only clients from `cidrs` to this workload (an ALLOW AuthorizationPolicy on its sidecar). */
  public allowFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.allowFrom(this, cidrs, options);
  }

  /** Denies clients from `cidrs` at this workload (a DENY AuthorizationPolicy on its sidecar). */
  public denyFrom(cidrs: string[], options?: SourceIpRuleOptions): SourceIpPolicy {
    return SourceIpPolicy.denyFrom(this, cidrs, options);
  }

  /**
   * Limits each client to `props.requests` per `props.per` at this workload's sidecar, per pod: an EnvoyFilter
   * (returned) with Envoy's local rate limit keyed on the client address the sidecar resolves (`remote_address`). For
   * requests through an ingress gateway that is the client only when the sidecar resolves it from the gateway's
   * X-Forwarded-For (the trace warns otherwise); put the limit on the gateway where it can be. One per workload.
   * Istio 1.26 or newer.
   */
  public rateLimitPerClient(props: RateLimitPerClientProps): ApiObject {
    if (this.interceptionMode === InterceptionMode.NONE) {
      throw new Error(`rateLimitPerClient() on "${this.node.path}" is not allowed: interceptionMode NONE sends inbound traffic past the sidecar, so the limit would never apply; use REDIRECT or TPROXY, or put the limit on the gateway`);
    }
    return addRateLimitPerClient(this, {
      proxy: ProxyRole.SIDECAR,
      namespace: this.targetNamespace,
      selector: this.targetSelector,
      name: this.workloadName(),
      istioVersion: this._istioRelease(),
    }, props);
  }

  /** The Istio release this workload's output is for. @internal */
  public _istioRelease(): IstioVersion {
    return IstioVersion.resolve(this);
  }

  /**
   * Writes the client the sidecar resolved into request header `name` (default `x-real-ip`), overwriting any copy the
   * caller sent: an EnvoyFilter on the pods' inbound route configuration. Useful where the sidecar is the hop that
   * resolves the client (an XffSidecarFilter behind a CDN); the trace warns when it does not. Returns it; a second
   * call with the same name returns the same header.
   */
  public clientAddressHeader(options: ClientAddressHeaderOptions = {}): ClientAddressHeader {
    const name = ClientAddressHeader._checkName(options);
    const existing = ClientAddressHeader._reuse(this.clientHeader, name, `workload "${this.workloadName()}"`);
    if (existing) return existing;
    if (this.interceptionMode === InterceptionMode.NONE) {
      throw new Error(`clientAddressHeader is not allowed on workload "${this.workloadName()}": with interceptionMode NONE inbound traffic bypasses the sidecar, so nothing writes the header; write it at the gateway instead`);
    }
    this.clientHeader = ClientAddressHeader._render(this, {
      name,
      context: 'SIDECAR_INBOUND',
      namespace: this.targetNamespace,
      selector: this.targetSelector,
    });
    Topology.of(this).changed();
    return this.clientHeader;
  }

  /** Workloads are not gateways. @internal */
  public _gatewayModel(): GatewayModel | undefined {
    return undefined;
  }

  /** The workload model, with the XFF settings of the XffSidecarFilter that reaches these pods (read now). @internal */
  public _workloadModel(): WorkloadModel | undefined {
    // Policies ask for the model many times per synthesis; it only changes with the labels or the app's filters.
    const version = Topology.of(this).version;
    const labelSource = this._fixedLabelSource();
    let cached = this.cachedModel;
    // Labels read once and kept (a plain ApiObject's template): the same source means the same labels.
    if (cached && labelSource !== undefined && cached.labelSource === labelSource && cached.version === version) return cached.model;
    const podLabels = this.workloadPodLabels();
    const selector = this.targetSelector;
    // Labels read live are compared key by key (as their JSON would be), without building a key string per call.
    // The model's selector is a copy of the selector it was built from.
    if (!cached || cached.version !== version || !sameLabels(cached.podLabels, podLabels) || !sameLabels(cached.model.selector, selector)) {
      const model = workloadModelFor(this, {
        name: this.workloadName(),
        namespace: this.targetNamespace,
        selector,
        podLabels,
        interceptionMode: this.interceptionMode,
      });
      const withHeader = this.clientHeader ? Object.assign({}, model, { clientAddressHeader: this.clientHeader.headerName }) : model;
      cached = { version, podLabels, labelSource, model: withHeader };
      this.cachedModel = cached;
    }
    return cached.model;
  }

  /** Name of the workload, for messages and `explain`. */
  protected abstract workloadName(): string;

  /** Labels of the pods (a superset of the selector). */
  protected abstract workloadPodLabels(): { [key: string]: string };

  /**
   * An object that stands for the selector and pod labels when they were read once and never change, so that the
   * model's cache needs no comparison; undefined when they are read live (a cdk8s-plus workload's labels), the default.
   * @internal
   */
  protected _fixedLabelSource(): object | undefined {
    return undefined;
  }
}

/** A workload's model and what it was computed from. */
interface CachedModel {
  readonly version: number;
  readonly podLabels: { [key: string]: string };
  /** `_fixedLabelSource()` when the model was built. */
  readonly labelSource?: object;
  readonly model: WorkloadModel;
}

/** True when both label maps have the same keys in the same order with identical values (so the same JSON). */
function sameLabels(a: { [key: string]: string }, b: { [key: string]: string }): boolean {
  const keys = Object.keys(a);
  const otherKeys = Object.keys(b);
  if (keys.length !== otherKeys.length) return false;
  return keys.every((key, i) => key === otherKeys[i] && a[key] === b[key]);
}

/** `sidecar.istio.io/interceptionMode` accepts exactly these values, case-sensitive. */
export function checkInterceptionMode(mode: InterceptionMode): InterceptionMode {
  if (!Object.values(InterceptionMode).includes(mode)) {
    throw new Error(`interceptionMode ${JSON.stringify(mode)} is not allowed: use InterceptionMode.REDIRECT, TPROXY or NONE (the injector accepts exactly "REDIRECT", "TPROXY" or "NONE", case-sensitive)`);
  }
  return mode;
}
