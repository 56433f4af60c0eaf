/*
 * The one shape of every check's result, for the constructs and `explain` alike: the checks in src/model and
 * src/policy return findings, the constructs turn ERRORs into validation errors (`message; fix`) and WARNINGs into
 * SourceIpWarnings, and `explain` prints them. Public through src/explain (`ExplainReport.allFindings()`); the
 * helpers are in finding-text.ts, so that this file holds only the public types.
 */

/** How bad a finding is. */
export enum FindingSeverity {
  /** The client address is lost, spoofable, or traffic breaks. */
  ERROR = 'error',
  /** Probably not what you want. */
  WARNING = 'warning',
  /** Worth knowing. */
  INFO = 'info',
}

/** A problem or remark, with its fix. */
export interface Finding {
  /** Severity. */
  readonly severity: FindingSeverity;
  /** Where: the resource or hop. */
  readonly where: string;
  /** What happens. */
  readonly message: string;
  /** How to fix it. */
  readonly fix: string;
}
