import { ExplainReport, NOT_READ, SkippedObject } from './explain-report';
import { ExplainOptions, Explainer } from './explainer';

/*
 * The CLI's explain over streamed input: the objects it built, plus the objects of kinds explain never reads that
 * the stream counted and dropped (stream.ts). The report lists those as counts per kind, and so the objects of such
 * kinds that were built after all (a Secret in a short file) too: one report, whatever the input's size.
 */

/** Explains streamed objects; `notRead` counts per kind the objects the stream dropped unread. */
export function explainStreamed(objects: any[], notRead: ReadonlyMap<string, number>, options: ExplainOptions): ExplainReport {
  const report = Explainer.fromManifests(objects, options);
  const counts = new Map<string, number>(notRead);
  const listed: SkippedObject[] = [];
  for (const s of report.skipped) {
    const kind = NOT_READ.exec(s.reason)?.[1];
    if (kind === undefined) listed.push(s);
    else counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  const sorted = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return new ExplainReport(report.paths, report.findings, listed, Object.fromEntries(sorted));
}
