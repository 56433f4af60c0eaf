import { Finding, FindingSeverity } from './findings';

/** A check's text as a finding: the checks' messages say what happens, then after the last "; " how to fix it. */
export function findingFromText(severity: FindingSeverity, where: string, text: string): Finding {
  const cut = text.lastIndexOf('; ');
  return cut < 0
    ? { severity, where, message: text, fix: 'see the message' }
    : { severity, where, message: text.slice(0, cut), fix: text.slice(cut + 2) };
}

/** A finding as a construct's validation error or warning: what happens, then how to fix it. */
export function findingText(f: Finding): string {
  return `${f.message}; ${f.fix}`;
}

/** A finding. */
export function finding(severity: FindingSeverity, where: string, message: string, fix: string): Finding {
  return { severity, where, message, fix };
}
