import { readFileSync } from 'fs';
import { Explainer } from '../explain/explainer';
import { parseHelmSpec } from '../explain/helm-spec';
import { HelmValues } from '../explain/helm-values';
import type * as ManifestInput from '../explain/input';
import { Finding, FindingSeverity } from '../model/findings';
import { IstioVersion } from '../model/istio-version';

/*
 * A cdk8s validation plugin (cdk8s-cli's `Validation`, configured under `validations:` in cdk8s.yaml): `cdk8s synth`
 * writes the manifests, loads this class from the package with `new SourceIpValidation(properties)` and calls
 * `validate(context)`. It runs explain over the manifests and reports its findings in cdk8s's validation report.
 *
 * The plugin interface is structural: the interfaces below are the part of cdk8s-cli's `ValidationContext` and
 * `ValidationReport` (cdk8s-cli/lib/plugins/validation.d.ts) this class uses, so the library does not depend on
 * cdk8s-cli at run time, and the class is an ordinary jsii class (cdk8s-cli's own types are not jsii types).
 */

/** The lowest severity of finding that fails `cdk8s synth`. */
export enum ValidationFailOn {
  /** ERROR findings fail the synthesis: the client address is lost, spoofable, or traffic breaks. */
  ERROR = 'error',
  /** ERROR and WARNING findings fail the synthesis. */
  WARNING = 'warning',
  /** Nothing fails the synthesis: the findings are only reported. */
  NEVER = 'never',
}

/** The status a validation report is submitted with (cdk8s-cli's `ValidationReportStatus`). */
export enum ValidationStatus {
  /** The manifests passed. */
  SUCCESS = 'success',
  /** The manifests failed: `cdk8s synth` exits with code 2. */
  FAILURE = 'failure',
}

/** A manifest that violates a rule (cdk8s-cli's `ValidationViolatingResource`). */
export interface ValidationViolatingResource {
  /** The object's `metadata.name`: cdk8s maps it to the construct path. */
  readonly resourceName: string;
  /** Where in the manifest, e.g. "Service istio-ingress/ingressgateway (dist/app.k8s.yaml document 3)". */
  readonly locations: string[];
  /** The manifest file the object is in. */
  readonly manifestPath: string;
}

/** One violation in a validation report (cdk8s-cli's `ValidationViolation`). */
export interface ValidationViolation {
  /** The rule: the finding's severity and where it is, e.g. "error: gateway istio-ingress/ingressgateway". */
  readonly ruleName: string;
  /** What happens: the finding's message. */
  readonly recommendation: string;
  /** How to fix it: the finding's fix. */
  readonly fix: string;
  /** The objects the finding is about. */
  readonly violatingResources: ValidationViolatingResource[];
}

/** The report of one validation plugin (the part of cdk8s-cli's `ValidationReport` this plugin uses). */
export interface IValidationReport {
  /** Adds a violation to the report. */
  addViolation(violation: ValidationViolation): void;
  /** Submits the report with its status and summary metadata. */
  submit(status: ValidationStatus, metadata?: { [key: string]: string }): void;
}

/** What `cdk8s synth` passes to a validation plugin (the part of cdk8s-cli's `ValidationContext` this plugin uses). */
export interface IValidationContext {
  /** The paths of the manifests `cdk8s synth` wrote. */
  readonly manifests: string[];
  /** The report to add violations to and submit. */
  readonly report: IValidationReport;
}

/**
 * Properties of `SourceIpValidation`: the `properties:` of its entry under `validations:` in cdk8s.yaml.
 */
export interface SourceIpValidationProps {
  /**
   * The lowest severity of finding that fails `cdk8s synth`: `error`, `warning` or `never`.
   *
   * @default ValidationFailOn.ERROR
   */
  readonly failOn?: ValidationFailOn;

  /**
   * Report WARNING findings as violations too (they always are with `failOn: warning`).
   *
   * @default false
   */
  readonly reportWarnings?: boolean;

  /**
   * The Istio release the cluster runs, from "1.24" to "1.31" (quote it in YAML: `1.30` unquoted is the number 1.3).
   *
   * @default - the release the manifests name in the `source-ip.cdk8s.io/istio-version` annotation, else the newest
   */
  readonly istioVersion?: string;

  /**
   * Values of Istio Helm releases, as explain's `--helm-values` takes them: `chart[:namespace/release]=file`, chart
   * `istiod` (meshConfig) or `gateway`; files relative to the directory `cdk8s synth` runs in.
   *
   * @default - no Helm values
   */
  readonly helmValues?: string[];

  /**
   * More manifests to read with the app's, files or directories (their .yaml and .yml files, sorted), e.g. the
   * Istio installation's `istio` ConfigMap or gateway; relative to the directory `cdk8s synth` runs in.
   *
   * @default - only the manifests `cdk8s synth` wrote
   */
  readonly additionalManifests?: string[];
}

/**
 * A cdk8s validation plugin: `cdk8s synth` runs `explain` over the synthesised manifests and reports each ERROR
 * finding (and, with `reportWarnings` or `failOn: warning`, each WARNING) as a violation with the object, what
 * happens and the fix, and fails the synthesis on them. Configure it in cdk8s.yaml:
 *
 * ```yaml
 * validations:
 *   - package: cdk8s-istio-source-ip
 *     version: 0.1.0
 *     class: SourceIpValidation
 *     properties:
 *       failOn: error
 * ```
 */
export class SourceIpValidation {
  private readonly failOn: ValidationFailOn;
  private readonly reportWarnings: boolean;
  private readonly istioVersion?: IstioVersion;
  private readonly helmValues: string[];
  private readonly additionalManifests: string[];

  constructor(props: SourceIpValidationProps = {}) {
    // The properties come from cdk8s.yaml untyped: every one is checked here, where cdk8s reports the error.
    const p = (props ?? {}) as { [key: string]: unknown };
    const known = ['failOn', 'reportWarnings', 'istioVersion', 'helmValues', 'additionalManifests'];
    const unknown = Object.keys(p).filter(k => !known.includes(k));
    if (unknown.length > 0) {
      throw new Error(`SourceIpValidation property "${unknown[0]}" is not known: use ${known.join(', ')}`);
    }
    const failOn = Object.values(ValidationFailOn).find(v => v === (p.failOn ?? ValidationFailOn.ERROR));
    if (failOn === undefined) {
      throw new Error(`SourceIpValidation property failOn ${JSON.stringify(p.failOn)} is not allowed: use ${Object.values(ValidationFailOn).join(', ')}`);
    }
    this.failOn = failOn;
    if (p.reportWarnings !== undefined && typeof p.reportWarnings !== 'boolean') {
      throw new Error(`SourceIpValidation property reportWarnings ${JSON.stringify(p.reportWarnings)} is not allowed: use true or false`);
    }
    this.reportWarnings = p.reportWarnings === true || failOn === ValidationFailOn.WARNING;
    if (typeof p.istioVersion === 'number') {
      throw new Error(`SourceIpValidation property istioVersion ${p.istioVersion} is a number: YAML reads 1.30 as 1.3; quote the release, e.g. istioVersion: "1.30"`);
    }
    if (p.istioVersion !== undefined) this.istioVersion = IstioVersion.of(String(p.istioVersion));
    this.helmValues = stringList(p.helmValues, 'helmValues', 'istiod=istiod-values.yaml');
    for (const value of this.helmValues) {
      const spec = parseHelmSpec(value, 'SourceIpValidation property helmValues');
      if (typeof spec === 'string') throw new Error(spec);
    }
    this.additionalManifests = stringList(p.additionalManifests, 'additionalManifests', 'istio-install/');
  }

  /** Runs explain over the manifests and submits the report: cdk8s-cli's `Validation.validate`. */
  public validate(context: IValidationContext): void {
    let objects: any[];
    let helmValues: HelmValues[];
    try {
      const files = [...context.manifests, ...this.additionalManifests]
        .flatMap(f => input().isDirectory(f) ? input().manifestFilesIn(f) : [f]);
      objects = files.flatMap(f => input().readManifestText(readText(f), f));
      helmValues = this.helmValues.map(value => {
        const spec = parseHelmSpec(value) as Exclude<ReturnType<typeof parseHelmSpec>, string>;
        return { ...spec, values: input().readValuesText(readText(spec.file), spec.file), source: `${spec.chart} Helm values ${spec.file}` };
      });
    } catch (e) {
      if (!input().isManifestInputError(e)) throw e;
      context.report.addViolation({
        ruleName: 'unreadable input',
        recommendation: e.message,
        fix: 'give manifests and Helm values files that are YAML or JSON',
        violatingResources: [],
      });
      context.report.submit(ValidationStatus.FAILURE, { failOn: this.failOn });
      return;
    }
    const findings = Explainer.fromManifests(objects, { istioVersion: this.istioVersion, helmValues }).allFindings();
    const reported = findings.filter(f => f.severity === FindingSeverity.ERROR || (this.reportWarnings && f.severity === FindingSeverity.WARNING));
    for (const f of reported) {
      context.report.addViolation({
        ruleName: `${f.severity}: ${f.where}`,
        recommendation: f.message,
        fix: f.fix,
        violatingResources: violatingResources(f, objects),
      });
    }
    const count = (s: FindingSeverity) => findings.filter(f => f.severity === s).length;
    const fails = (f: Finding) => this.failOn !== ValidationFailOn.NEVER
      && (f.severity === FindingSeverity.ERROR || (this.failOn === ValidationFailOn.WARNING && f.severity === FindingSeverity.WARNING));
    const failing = findings.filter(fails);
    context.report.submit(failing.length > 0 ? ValidationStatus.FAILURE : ValidationStatus.SUCCESS, {
      errors: String(count(FindingSeverity.ERROR)),
      warnings: String(count(FindingSeverity.WARNING)),
      failOn: this.failOn,
    });
  }
}

function stringList(value: unknown, name: string, example: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) {
    throw new Error(`SourceIpValidation property ${name} ${JSON.stringify(value)} is not a list of strings: give e.g. ${name}: ["${example}"]`);
  }
  return value;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    // Reported like any unreadable input: one message naming the file.
    const error = e as NodeJS.ErrnoException;
    throw input().manifestInputError(path, error.code === 'ENOENT' ? 'no such file' : `cannot be read: ${error.message}`);
  }
}

/**
 * The objects a finding is about: those whose namespace and name the finding's `where` names ("gateway ns/name",
 * "ALLOW policy \"ns/name\"", "EnvoyFilter ns/name (file document 2)"), of the kind it names where it names one
 * (a gateway: its Service, else its Deployment, else its Gateway), else every object of that namespace and name.
 */
function violatingResources(finding: Finding, objects: any[]): ValidationViolatingResource[] {
  const m = /^(\S+) (?:policy )?"?([^\s/"]+)\/([^\s/"]+)"?/.exec(finding.where);
  if (!m) return [];
  const [, hint, namespace, name] = m;
  const named = objects.filter(o => o !== null && typeof o === 'object' && o.metadata?.name === name
    && (o.metadata?.namespace ?? 'default') === namespace);
  // The first kind the hint names that matches: cdk8s maps a resource to its construct by metadata.name alone, so
  // one object per finding keeps the report's construct path right (a gateway's Service and Deployment share a name).
  const ofKind = (KIND_HINTS[hint] ?? [hint]).map(kind => named.filter(o => o.kind === kind)).find(list => list.length > 0) ?? [];
  return (ofKind.length > 0 ? ofKind : named).map(o => {
    const origin = input().originOf(o);
    return {
      resourceName: name,
      locations: [input().describeOrigin(origin) !== undefined ? `${o.kind} ${namespace}/${name} (${input().describeOrigin(origin)})` : `${o.kind} ${namespace}/${name}`],
      manifestPath: origin?.source ?? '',
    };
  });
}

/** The kinds a finding's `where` means by its first word, in order of preference. */
const KIND_HINTS: { [hint: string]: string[] } = {
  gateway: ['Service', 'Deployment', 'Gateway'],
  workload: ['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Pod', 'Job', 'CronJob'],
  ALLOW: ['AuthorizationPolicy'],
  DENY: ['AuthorizationPolicy'],
};

/** The manifest reader (and its YAML parser), loaded when the plugin runs, not when the package is required. */
function input(): typeof ManifestInput {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('../explain/input');
}
