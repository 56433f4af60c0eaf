import { ApiObject, ApiObjectMetadataDefinition, Chart, JsonPatch } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct, IConstruct } from 'constructs';
import { checkInterceptionMode, SidecarWorkloadBase } from './sidecar-workload-base';
import { INBOUND_PASSTHROUGH_IPV4, INTERCEPTION_MODE_ANNOTATION } from '../envoy/names';
import { ownServicePort } from '../ingress/backend-traffic';
import { AMBIENT_MODE, DATAPLANE_MODE_LABEL } from '../model/ambient';
import { IstioVersion } from '../model/istio-version';
import { InterceptionMode } from '../model/model';
import { formatLabels, selectorMatches } from '../model/selectors';
import { Derived, Topology } from '../model/topology';
import { ambientNamespacePaths, podSecurityLevels, rejectsTproxy } from '../model/workload-model';
import { joinTrace } from '../trace/topology-trace';
import { checkDnsLabel, checkInteger, checkLabels, checkPort, checkTargetSelector, emptySelectorProblem, withConstructPath } from '../util/validate';
import { SourceIpWarnings } from '../util/warnings';
import { plainPath, writtenLabels, writtenSpec } from '../util/written-spec';

/** The same key as a JSON pointer segment ('/' escaped as '~1', RFC 6901). */
const ANNOTATION_POINTER = INTERCEPTION_MODE_ANNOTATION.replace(/~/g, '~0').replace(/\//g, '~1');

/** Options of `WorkloadSource.newDeployment`. */
export interface NewDeploymentOptions {
  /** Container image, e.g. "docker.io/citizenstig/httpbin". */
  readonly image: string;
  /**
   * The container port the app listens on (the pod port sidecar filters and policies use).
   *
   * @default - no port is declared
   */
  readonly port?: number;
  /**
   * Pod labels, also the Deployment's selector.
   *
   * @default - { app: <name> }
   */
  readonly labels?: { [key: string]: string };
  /**
   * Name of the Deployment (and of its container and Service).
   *
   * @default - generated from the construct path
   */
  readonly name?: string;
  /**
   * Namespace of the Deployment.
   *
   * @default - the chart's namespace
   */
  readonly namespace?: string;
  /**
   * Number of replicas.
   *
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Also create a ClusterIP Service with this port in front of the pods (its target port is `port`).
   *
   * @default - no Service
   */
  readonly servicePort?: number;
}

/** Which pod template a `TproxyWorkload` annotates. Choose one with a static factory. */
export class WorkloadSource {
  /**
   * A workload of any cdk8s-plus version, or any construct with an ApiObject that has a pod template.
   *
   * A `Deployment`, `StatefulSet`, `DaemonSet` or `Job` of cdk8s-plus-27 to cdk8s-plus-33 gets the annotation on
   * its pod metadata. Any other construct whose default child is an ApiObject with `spec.template`, or such an
   * ApiObject itself (an L1 `KubeDeployment`, a plain `ApiObject`), gets it by a JSON patch, as with
   * `fromApiObject`. The parameter is a plain construct, not a class of one cdk8s-plus version, so that workloads
   * of every cdk8s-plus major version (each its own package) and of every jsii language fit.
   */
  public static fromWorkload(workload: IConstruct): WorkloadSource {
    return new WorkloadSource(workload, undefined, undefined);
  }

  /**
   * Any ApiObject with a pod template at `spec.template` (an L1 `KubeDeployment`, a plain `ApiObject`, an Argo
   * Rollout...). The annotation is added by a JSON patch.
   */
  public static fromApiObject(apiObject: ApiObject): WorkloadSource {
    return new WorkloadSource(undefined, apiObject, undefined);
  }

  /**
   * A new `kplus.Deployment` (child id `Resource`) running one container. Its container may run as root and write
   * to its filesystem, as the seeds' httpbin and echoserver images need; pass a hardened workload through
   * `fromWorkload` instead when you can.
   */
  public static newDeployment(options: NewDeploymentOptions): WorkloadSource {
    return new WorkloadSource(undefined, undefined, options);
  }

  private constructor(
    /** @internal */ public readonly _workload?: IConstruct,
    /** @internal */ public readonly _apiObject?: ApiObject,
    /** @internal */ public readonly _deployment?: NewDeploymentOptions) {
  }
}

/** Props of `TproxyWorkload`. */
export interface TproxyWorkloadProps {
  /** The pod template to annotate, or the Deployment to create. */
  readonly source: WorkloadSource;
  /**
   * The inbound interception mode written to `sidecar.istio.io/interceptionMode`.
   *
   * @default InterceptionMode.TPROXY
   */
  readonly interceptionMode?: InterceptionMode;
  /**
   * True when the cluster runs istio-cni, false when it uses istio-init. Only NONE cares: the CNI plugin rejects it.
   *
   * @default - unknown: NONE gets a warning
   */
  readonly istioCni?: boolean;
  /**
   * The Istio release the output is for.
   *
   * @default - `IstioVersion.resolve(this)`
   */
  readonly istioVersion?: IstioVersion;
}

/**
 * Sets the inbound interception mode of a meshed workload's sidecar, TPROXY by default, so the app's socket peer is
 * its real caller (the calling pod, or the gateway pod behind a gateway) instead of 127.0.0.6.
 *
 * It is a source-IP target: `allowFrom()`/`denyFrom()` put policies on its sidecar, and its workload model
 * includes the `XffSidecarFilter` that selects its pods.
 */
export class TproxyWorkload extends SidecarWorkloadBase {
  /** The pod annotation that sets the interception mode (`sidecar.istio.io/interceptionMode`). */
  public static readonly ANNOTATION = INTERCEPTION_MODE_ANNOTATION;

  /** The Istio release the output is for. */
  public readonly istioVersion: IstioVersion;
  /** The interception mode written to the pod template. */
  public readonly interceptionMode: InterceptionMode;
  /** The workload's API object (the Deployment, StatefulSet, ... that carries the pod template). */
  public readonly apiObject: ApiObject;
  private resolvedLabels?: ResolvedLabels;
  private readonly plusWorkload?: PlusWorkload;
  /**
   * The workload construct given to `fromWorkload` or created by `newDeployment` (a cdk8s-plus-27 Deployment).
   *
   * @default - undefined for `fromApiObject`
   */
  public readonly workload?: IConstruct;
  /** The Service created by `newDeployment({ servicePort })`. @default - none */
  public readonly service?: kplus.Service;

  public constructor(scope: Construct, id: string, props: TproxyWorkloadProps) {
    super(scope, id);
    try {
      if (!props || !(props.source instanceof WorkloadSource)) {
        throw new Error('source is required: choose WorkloadSource.fromWorkload(deployment), WorkloadSource.fromApiObject(apiObject) or WorkloadSource.newDeployment({ image })');
      }
      this.istioVersion = IstioVersion.resolve(this, props.istioVersion);
      this.interceptionMode = checkInterceptionMode(props.interceptionMode ?? InterceptionMode.TPROXY);
      const source = props.source;
      if (source._deployment) {
        const created = this.createDeployment(source._deployment);
        this.workload = created.deployment;
        this.service = created.service;
      } else {
        this.workload = source._workload;
      }
      this.apiObject = this.workload ? apiObjectOf(this.workload) : source._apiObject!;
      this.plusWorkload = this.workload ? plusWorkloadOf(this.workload) : undefined;
      if (this.plusWorkload) {
        this.plusWorkload.podMetadata.addAnnotation(INTERCEPTION_MODE_ANNOTATION, this.interceptionMode);
      } else {
        // One reading of the user's object serves the labels and the patch (the patch adds an annotation only).
        const read = readPodTemplate(this.apiObject);
        this.resolvedLabels = read.labels;
        patchPodTemplate(this.apiObject, read.template, this.interceptionMode);
      }
      // Policies and filters on this workload copy its selector: an empty one would reach the whole namespace.
      checkTargetSelector('source', `${this.apiObject.kind} ${this.apiObject.name}`, this.targetSelector, this.targetNamespace, 'a policy or filter on it');
      // A selector that does not pick the template's own pods: the API server rejects the workload, and a policy or
      // filter copying the selector would reach no pod of it.
      if (!this.plusWorkload && !selectorMatches(this.targetSelector, this.podLabels)) {
        throw new Error(`source ${this.apiObject.kind} ${this.apiObject.name}: spec.selector.matchLabels ${JSON.stringify(this.targetSelector)} does not select its pod template's labels ${JSON.stringify(this.podLabels)}, so the API server rejects it; `
          + 'add the selector\'s labels to spec.template.metadata.labels');
      }
      this.addWarnings(props.istioCni);
      Topology.of(this).addWorkload(this);
      joinTrace(this);
      // One walk of the tree for every TPROXY workload of the app, not one each.
      Topology.of(this).addAppValidationOnce('tproxy-pod-security', () => checkPodSecurity(this));
      Topology.of(this).addAppValidationOnce('tproxy-ambient', () => checkNotAmbient(this));
      Topology.of(this).addChecks(this);
    } catch (e) {
      throw withConstructPath(e, this.node.path);
    }
  }

  /** Namespace of the pods. */
  public get targetNamespace(): string {
    return this.apiObject.metadata.namespace ?? 'default';
  }

  /** Labels that select the pods: the workload's selector, else its pod labels. */
  public get targetSelector(): { [key: string]: string } {
    const matchLabels = this.plusWorkload ? this.plusWorkload.matchLabels : this.templateLabels().matchLabels;
    return { ...(matchLabels && Object.keys(matchLabels).length > 0 ? matchLabels : this.podLabels) };
  }

  /** The labels of the pod template, read now. */
  public get podLabels(): { [key: string]: string } {
    const labels = this.plusWorkload ? this.plusWorkload.podMetadata.toJson().labels : this.templateLabels().podLabels;
    return { ...(labels ?? {}) };
  }

  /** The Istio release of this workload's output (`istioVersion`). @internal */
  public _istioRelease(): IstioVersion {
    return this.istioVersion;
  }

  protected workloadName(): string {
    return this.apiObject.name;
  }

  protected workloadPodLabels(): { [key: string]: string } {
    return this.podLabels;
  }

  /** A plain ApiObject's labels are read once, in the constructor (`templateLabels()`); a cdk8s-plus workload's live. @internal */
  protected _fixedLabelSource(): object | undefined {
    return this.plusWorkload ? undefined : this.templateLabels();
  }

  /** @internal the checks the topology runs for this workload (see `Topology.addChecks`). */
  public _topologyErrors(): string[] {
    // A cdk8s-plus workload's selector is read live: it may have lost its labels since the constructor.
    const emptySelector = emptySelectorProblem('source', `${this.apiObject.kind} ${this.apiObject.name}`, this.targetSelector, this.targetNamespace, 'a policy or filter on it');
    return [...(emptySelector !== undefined ? [emptySelector] : []), ...this.checkSingleMode()];
  }

  private createDeployment(options: NewDeploymentOptions): { deployment: kplus.Deployment; service?: kplus.Service } {
    if (typeof options.image !== 'string' || options.image.trim() === '') {
      throw new Error(`newDeployment image ${JSON.stringify(options.image)} is not allowed: give a container image such as "docker.io/citizenstig/httpbin"`);
    }
    if (options.name !== undefined) checkDnsLabel('newDeployment name', options.name);
    // Written out even when defaulted, so that the workload and the policies on it always land in one namespace.
    const namespace = checkDnsLabel('newDeployment namespace', options.namespace ?? Chart.of(this).namespace ?? 'default');
    const port = options.port !== undefined ? checkPort('newDeployment port', options.port) : undefined;
    const replicas = options.replicas !== undefined ? checkInteger('newDeployment replicas', options.replicas, 0, 10000) : 1;
    const labels = checkLabels('newDeployment labels', options.labels ?? { app: options.name ?? this.node.id.toLowerCase() });
    const deployment = new kplus.Deployment(this, 'Resource', {
      metadata: Object.assign(options.name !== undefined ? { name: options.name } : {}, { namespace }),
      replicas,
      select: false,
      podMetadata: { labels },
      securityContext: { ensureNonRoot: false },
      containers: [{
        name: options.name ?? 'app',
        image: options.image,
        ...(port !== undefined ? { ports: [{ number: port }] } : {}),
        securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false },
      }],
    });
    deployment.select(kplus.LabelSelector.of({ labels }));
    if (options.servicePort === undefined) return { deployment };
    const servicePort = checkPort('newDeployment servicePort', options.servicePort);
    if (port === undefined) throw new Error(`newDeployment servicePort ${servicePort} needs port: give the container port the Service targets`);
    const service = deployment.exposeViaService(Object.assign(options.name !== undefined ? { name: options.name } : {}, {
      ports: [{ port: servicePort, targetPort: port, name: 'http' }],
    }));
    // Named "http" until synthesis, when the routes and backends to it say whether it carries TCP, TLS or HTTP.
    ownServicePort(this, ApiObject.of(service), servicePort);
    return { deployment, service };
  }

  /**
   * The selector and pod labels of the object's spec, read once (in the constructor, with the pod template the patch
   * needs): policies read the labels many times per synthesis. Only the two label maps are kept, not the spec, which
   * would stay on the heap for every workload of the app. A JSON patch that changes the labels after the first read
   * is not seen.
   */
  private templateLabels(): ResolvedLabels {
    return this.resolvedLabels ??= readPodTemplate(this.apiObject).labels;
  }

  private addWarnings(istioCni?: boolean): void {
    const who = `workload "${this.targetNamespace}/${this.apiObject.name}"`;
    if (this.interceptionMode === InterceptionMode.TPROXY) {
      this.warn(`${who} uses TPROXY: istio-proxy then runs as root (runAsUser 0) with NET_ADMIN, which Pod Security baseline and restricted reject (OpenShift needs the privileged SCC); run it in a namespace with enforce level privileged`);
      this.warn(`${who} uses TPROXY: every node kernel needs the TPROXY modules (xt_TPROXY or nf_tproxy, xt_mark, xt_connmark, xt_conntrack; nftables: nft_tproxy, nft_socket); CentOS-based nodes are known not to work (Alibaba ASM), and init containers cannot load modules`);
      this.warn(`${who} uses TPROXY, which keeps only the L4 peer: through an ingress gateway the app sees the gateway pod IP; read the external client from X-Envoy-External-Address or X-Forwarded-For (see XffSidecarFilter)`);
    } else if (this.interceptionMode === InterceptionMode.REDIRECT) {
      this.warn(`${who} uses REDIRECT: the app's socket peer is ${INBOUND_PASSTHROUGH_IPV4} for every caller; the sidecar still sees the real peer, so policies with ipBlocks work`);
    } else {
      this.warn(`${who} uses NONE: inbound traffic bypasses the sidecar, so no mTLS or AuthorizationPolicy applies to it`);
      if (istioCni !== false) {
        this.warn(`${who} uses NONE${istioCni ? '' : ' and istio-cni may be installed'}: the istio-cni plugin accepts only REDIRECT and TPROXY and fails pod sandbox creation on NONE (read from istio's cni/pkg/plugin code, not verified at runtime); set istioCni: false if the cluster uses istio-init`);
      }
    }
  }

  private checkSingleMode(): string[] {
    const topology = Topology.of(this);
    const byApiObject = topology.derive(TPROXY_WORKLOADS_BY_API_OBJECT, () => {
      const map = new Map<ApiObject, TproxyWorkload[]>();
      for (const w of tproxyWorkloads(this)) map.set(w.apiObject, [...(map.get(w.apiObject) ?? []), w]);
      // Only the objects with more than one workload: the map lives as long as the app.
      return new Map([...map].filter(([, workloads]) => workloads.length > 1));
    });
    const others = (byApiObject.get(this.apiObject) ?? []).filter(o => o !== this);
    return others.map(o => `workload ${this.apiObject.kind} "${this.apiObject.name}" (${formatLabels(this.podLabels)}) gets ${INTERCEPTION_MODE_ANNOTATION} from both "${this.node.path}" and "${o.node.path}": use one TproxyWorkload per workload`);
  }

  private warn(message: string): void {
    SourceIpWarnings.add(this, message);
  }
}

/** TPROXY pods in a namespace whose Pod Security level rejects istio-proxy's NET_ADMIN and root never start. */
function checkPodSecurity(scope: IConstruct): string[] {
  const levels = podSecurityLevels(scope);
  return tproxyWorkloads(scope)
    .filter(w => w.interceptionMode === InterceptionMode.TPROXY)
    .flatMap(w => {
      const psa = levels.get(w.targetNamespace);
      if (!psa || !rejectsTproxy(psa.level)) return [];
      return [`workload "${w.targetNamespace}/${w.apiObject.name}" (${w.node.path}) uses TPROXY, but Namespace "${psa.path}" sets pod-security.kubernetes.io/enforce: ${psa.level}, which rejects istio-proxy's NET_ADMIN and runAsUser 0: the pods would never be admitted; label the namespace privileged, move the workload, or use InterceptionMode.REDIRECT with an XffSidecarFilter`];
    });
}

/** Ambient pods have no sidecar: ztunnel intercepts them, and the interception annotation means nothing there. */
function checkNotAmbient(scope: IConstruct): string[] {
  const ambient = ambientNamespacePaths(scope);
  return tproxyWorkloads(scope).flatMap(w => {
    const byPodLabel = w.podLabels[DATAPLANE_MODE_LABEL] === AMBIENT_MODE;
    const namespacePath = ambient.get(w.targetNamespace);
    if (!byPodLabel && namespacePath === undefined) return [];
    const why = byPodLabel ? `its pods are labelled ${DATAPLANE_MODE_LABEL}: ${AMBIENT_MODE}` : `namespace "${w.targetNamespace}" is in ambient mode (${namespacePath})`;
    return [`workload "${w.targetNamespace}/${w.apiObject.name}" (${w.node.path}) is a TproxyWorkload, but ${why}: ambient pods have no sidecar, ztunnel intercepts their traffic and already keeps the caller's address, so ${INTERCEPTION_MODE_ANNOTATION} does nothing; `
      + `use AmbientWorkload.fromLabels for policies on these pods, or take them out of ambient mode (${DATAPLANE_MODE_LABEL}: none on the pods, or another namespace) to keep the sidecar`];
  });
}

/** The app's TproxyWorkloads, in creation order. */
function tproxyWorkloads(scope: IConstruct): TproxyWorkload[] {
  return Topology.of(scope).workloads.filter((w): w is TproxyWorkload => w instanceof TproxyWorkload);
}

/** The label maps of a resolved pod-template spec (undefined where the spec has none). */
interface ResolvedLabels {
  readonly matchLabels?: { [key: string]: string };
  readonly podLabels?: { [key: string]: string };
}

/**
 * What the workloads of every cdk8s-plus major version share (each version is its own package, so no class of one
 * of them matches the others): pod metadata rendered into the pod template, and the selector's labels.
 */
interface PlusWorkload {
  readonly podMetadata: ApiObjectMetadataDefinition;
  readonly matchLabels: { [key: string]: string };
}

function plusWorkloadOf(workload: IConstruct): PlusWorkload | undefined {
  const candidate = workload as Partial<PlusWorkload>;
  const podMetadata = candidate.podMetadata;
  const isMetadata = typeof podMetadata === 'object' && podMetadata !== null
    && typeof podMetadata.addAnnotation === 'function' && typeof podMetadata.toJson === 'function';
  return isMetadata && typeof candidate.matchLabels === 'object' ? candidate as PlusWorkload : undefined;
}

/** The workload's ApiObject: the construct itself, or its default child (cdk8s-plus keeps it protected). */
function apiObjectOf(workload: IConstruct): ApiObject {
  if (ApiObject.isApiObject(workload)) return workload;
  const child = workload.node.defaultChild;
  if (!ApiObject.isApiObject(child)) {
    throw new Error(`workload "${workload.node.path}" has no ApiObject as its default child: give a cdk8s-plus Deployment, StatefulSet, DaemonSet or Job, or the ApiObject with the pod template (WorkloadSource.fromApiObject)`);
  }
  return child;
}

/**
 * Adds the annotation with a JSON patch that works whether or not the template already has metadata or
 * annotations (an `add` below a missing member fails), decided from the object as it is now.
 */
/** The selector's and the pod template's labels of a workload's resolved `spec`. */
function labelsOfSpec(spec: any): ResolvedLabels {
  return { matchLabels: spec?.selector?.matchLabels, podLabels: spec?.template?.metadata?.labels };
}

/**
 * The labels and the pod template of a workload object as `toJson()` gives them: read as written when that is the
 * same (src/util/written-spec.ts), resolved otherwise.
 */
function readPodTemplate(apiObject: ApiObject): { readonly labels: ResolvedLabels; readonly template: unknown } {
  const written = writtenSpec(apiObject);
  const selector = written && plainPath(written.spec, ['selector']);
  const template = written && plainPath(written.spec, ['template', 'metadata', 'annotations']);
  const matchLabels = selector && writtenLabels(selector[1]?.matchLabels);
  const podLabels = template && writtenLabels(template[2]?.labels);
  if (selector === undefined || template === undefined || matchLabels === false || podLabels === false) {
    const spec = (apiObject.toJson() as any).spec;
    return { labels: labelsOfSpec(spec), template: spec?.template };
  }
  return { labels: { matchLabels: asResolved(matchLabels), podLabels: asResolved(podLabels) }, template: template[1] };
}

/** A copy of a written label map with its keys in the order `toJson()` gives them. */
function asResolved(labels: { readonly [key: string]: string } | undefined): { [key: string]: string } | undefined {
  if (labels === undefined) return undefined;
  let keys = Object.keys(labels);
  if (keys.length > 1 && !process.env.CDK8S_DISABLE_SORT) keys = keys.sort();
  const copy: { [key: string]: string } = {};
  for (const key of keys) copy[key] = labels[key];
  return copy;
}

function patchPodTemplate(apiObject: ApiObject, template: any, mode: InterceptionMode): void {
  if (template === undefined || template === null || typeof template !== 'object') {
    throw new Error(`apiObject ${apiObject.kind} "${apiObject.name}" has no spec.template: WorkloadSource.fromWorkload and fromApiObject need an object with a pod template (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet); for a bare Pod set the annotation in its metadata`);
  }
  if (template.metadata === undefined) {
    apiObject.addJsonPatch(JsonPatch.add('/spec/template/metadata', { annotations: { [INTERCEPTION_MODE_ANNOTATION]: mode } }));
  } else if (template.metadata.annotations === undefined) {
    apiObject.addJsonPatch(JsonPatch.add('/spec/template/metadata/annotations', { [INTERCEPTION_MODE_ANNOTATION]: mode }));
  } else {
    apiObject.addJsonPatch(JsonPatch.add(`/spec/template/metadata/annotations/${ANNOTATION_POINTER}`, mode));
  }
}

/** The TproxyWorkloads of each workload object that more than one of them annotates. */
const TPROXY_WORKLOADS_BY_API_OBJECT = new Derived<Map<ApiObject, TproxyWorkload[]>>('tproxy-workloads-by-api-object');
