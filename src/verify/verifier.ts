import { alternatives } from './causes';
import { check, FieldComparison, pathOf } from './compare';
import { ObservationSet } from './observations';
import { escapeForTerminal } from '../explain/escape';
import { HelmValues } from '../explain/helm-values';
import { parseManifests } from '../explain/manifest-parser';
import { IstioVersion } from '../model/istio-version';
import { TraceModel } from '../model/trace-model';
import { trace } from '../trace/app-trace';

/*
 * verify (internal, CLI-only): the manifests' model traced once, each observation of the cluster compared with its
 * hop, and for the mismatches the alternative models (one fact changed, traced by the same trace()) that predict what
 * the cluster showed, ranked by how many observations each explains.
 */

/** One observation's verdict. */
export interface ObservationResult {
  /** Where the observation came from (file, entry, line). */
  readonly source: string;
  /** The path's title. */
  readonly path: string;
  /** The hop's name in the trace (e.g. `gateway istio-system/ingress`); the kind asked for when the path has none. */
  readonly hop: string;
  /** `ok` or `mismatch`. */
  readonly verdict: string;
  readonly fields: FieldComparison[];
  /** Why nothing could be compared. @default - none */
  readonly note?: string;
  /** The id of the best-ranked cause that explains this observation. @default - none */
  readonly explainedBy?: string;
}

/** A likely cause: an alternative model and the observations it predicts. */
export interface LikelyCause {
  readonly id: string;
  readonly cause: string;
  /** How many of all observations the alternative model predicts. */
  readonly explains: number;
  /** Of how many. */
  readonly of: number;
  /** The sources of the mismatched observations it predicts. */
  readonly fixes: string[];
}

/** The result of verify. */
export interface VerifyReport {
  readonly ok: boolean;
  readonly observations: ObservationResult[];
  /** Likely causes of the mismatches, best first (empty when everything is ok). */
  readonly causes: LikelyCause[];
}

/** Options of `verifyManifests`. */
export interface VerifyOptions {
  /** @default - the manifests' release, else the newest */
  readonly istioVersion?: IstioVersion;
  /** @default - none */
  readonly helmValues?: HelmValues[];
}

/** Verifies parsed manifest objects (read as explain reads them) against observations of the cluster. */
export function verifyManifests(objects: any[], observed: ObservationSet, options: VerifyOptions = {}): VerifyReport {
  const model = parseManifests(objects, options.helmValues ?? []);
  return verifyModel(model, observed, options.istioVersion);
}

/** Verifies a model against observations: the one trace, and the alternatives for what does not match. */
export function verifyModel(model: TraceModel, observed: ObservationSet, istioVersion?: IstioVersion, withCauses = true): VerifyReport {
  const version = istioVersion ?? model.istioVersion ?? IstioVersion.LATEST;
  const paths = trace(model, version).paths;
  // Every observation must name a path of the manifests: an input error (exit 2) otherwise, before anything is compared.
  observed.observations.forEach(o => pathOf(paths, o));
  const base = observed.observations.map(o => check({ paths }, o, observed.addresses));
  const mismatched = base.map((c, i) => (c.ok ? -1 : i)).filter(i => i >= 0);
  const causes: LikelyCause[] = [];
  if (mismatched.length > 0 && withCauses) {
    for (const alt of alternatives(model, version, paths)) {
      const view = alt.view();
      const oks = observed.observations.map(o => {
        try {
          return check(view, o, observed.addresses).ok;
        } catch {
          return false;
        }
      });
      const fixes = mismatched.filter(i => oks[i]).map(i => observed.observations[i].source);
      if (fixes.length === 0) continue;
      causes.push({ id: alt.id, cause: alt.cause, explains: oks.filter(Boolean).length, of: oks.length, fixes });
    }
    // Most observations explained first; the order of alternatives breaks ties (the trace's own order of hops).
    causes.sort((a, b) => b.explains - a.explains);
  }
  const observations = base.map((c, i): ObservationResult => {
    const o = observed.observations[i];
    const by = c.ok ? undefined : causes.find(k => k.fixes.includes(o.source));
    return {
      source: o.source,
      path: c.path ?? pathOf(paths, o).title,
      hop: c.hop ?? o.hop,
      verdict: c.ok ? 'ok' : 'mismatch',
      fields: c.fields,
      ...(c.note ? { note: c.note } : {}),
      ...(by ? { explainedBy: by.id } : {}),
    };
  });
  return { ok: base.every(c => c.ok), observations, causes };
}

/** The report as JSON. */
export function verifyReportJson(report: VerifyReport): string {
  return JSON.stringify(report, undefined, 2);
}

/** The report as text: per path and hop, each field predicted against observed, then the causes, best first. */
export function verifyReportText(report: VerifyReport): string {
  const lines: string[] = [];
  const byPath = new Map<string, ObservationResult[]>();
  for (const o of report.observations) byPath.set(o.path, [...(byPath.get(o.path) ?? []), o]);
  for (const [path, results] of byPath) {
    lines.push(escapeForTerminal(path));
    for (const r of results) {
      lines.push(`  ${escapeForTerminal(r.hop)}: ${r.verdict}  (${escapeForTerminal(r.source)})${r.note ? `: ${r.note}` : ''}`);
      for (const f of r.fields) {
        lines.push(`    ${f.ok ? 'ok      ' : 'MISMATCH'} ${f.field}: predicted ${f.predicted}; observed ${escapeForTerminal(f.observed)}`);
      }
    }
  }
  const bad = report.observations.filter(o => o.verdict !== 'ok').length;
  lines.push('', report.ok ? `verdict: ok (${report.observations.length} observations match the manifests)`
    : `verdict: mismatch (${bad} of ${report.observations.length} observations differ from the manifests)`);
  if (!report.ok) {
    lines.push(report.causes.length > 0 ? 'likely causes, best first (each is the manifests\' model with one fact changed):' : 'no single changed fact of the model explains the observations');
    report.causes.forEach((c, i) => lines.push(`  ${i + 1}. ${escapeForTerminal(c.cause)} [${c.id}; explains ${c.explains} of ${c.of}]`));
  }
  return lines.join('\n') + '\n';
}
