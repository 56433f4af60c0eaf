import { escapeForMermaid, escapeForTerminal } from './escape';
import { Finding, FindingSeverity } from '../model/findings';
import { HopTrace, PathTrace, PolicyMatch } from '../trace/trace-types';

/*
 * The result of explain: plain data per traced path, and three renderings (table, JSON, Mermaid). Names come from
 * untrusted manifests: the table and Mermaid escape them, JSON keeps them exact.
 */

// Findings are shared with the constructs' checks, so they are declared in the model.
export * from '../model/findings';
// The trace's result types are declared by the trace.
export * from '../trace/trace-types';

/** An object explain did not use, and why. */
export interface SkippedObject {
  /** The object, e.g. "EnvoyFilter apps/xff". */
  readonly object: string;
  /** Where it was read from, e.g. "a.yaml document 3". @default - not read from text */
  readonly source?: string;
  /** Why explain did not use it. */
  readonly reason: string;
  /** How to make explain (and the cluster) use it. */
  readonly fix: string;
}


/** The report `explain` produces. */
export class ExplainReport {
  /** The traced paths. */
  public readonly paths: PathTrace[];
  /** Findings about the manifests themselves (not tied to one path). */
  public readonly findings: Finding[];
  /** The objects explain did not use, with the reason. */
  public readonly skipped: SkippedObject[];
  /**
   * Objects of kinds explain never reads (Events, Secrets, EndpointSlices, ...), counted per kind instead of listed:
   * the CLI drops them from its input stream before building them.
   */
  public readonly skippedKinds: { [kind: string]: number };

  /**
   * @param skippedKinds objects of kinds explain does not read, counted per kind
   */
  public constructor(paths: PathTrace[], findings: Finding[], skipped: SkippedObject[] = [], skippedKinds: { [kind: string]: number } = {}) {
    this.paths = paths;
    this.findings = findings;
    this.skipped = skipped;
    this.skippedKinds = skippedKinds;
  }

  /** Every finding: the manifest findings, then each path's. */
  public allFindings(): Finding[] {
    return [...this.findings, ...this.paths.flatMap(p => p.findings)];
  }

  /** True when any finding is an error. */
  public get hasErrors(): boolean {
    return this.allFindings().some(f => f.severity === FindingSeverity.ERROR);
  }

  /** The report as indented JSON. */
  public toJson(): string {
    const counted = Object.keys(this.skippedKinds).length > 0 ? { skippedKinds: this.skippedKinds } : {};
    return JSON.stringify({ paths: this.paths, findings: this.findings, skipped: this.skipped, ...counted }, undefined, 2);
  }

  /** The report as readable text tables, one per path. */
  public toTable(): string {
    const sections = this.paths.map(renderPath);
    if (this.findings.length > 0) sections.push(['manifest findings:', ...this.findings.map(renderFinding)].join('\n'));
    if (this.skipped.length > 0 || Object.keys(this.skippedKinds).length > 0) sections.push(renderSkippedSection(this.skipped, this.skippedKinds));
    if (this.paths.length === 0) sections.unshift('no gateways or meshed workloads found');
    return sections.join('\n\n') + '\n';
  }

  /** The paths as a Mermaid flowchart. */
  public toMermaid(): string {
    const lines = ['flowchart LR'];
    this.paths.forEach((path, p) => {
      lines.push(`  subgraph p${p}["${escapeForMermaid(path.title)}"]`);
      path.hops.forEach((hop, h) => {
        const label = [hop.hop, ...hopFacts(hop)].map(escapeForMermaid).join('<br/>');
        lines.push(`    p${p}h${h}["${label}"]`);
      });
      lines.push(`    ${path.hops.map((_, h) => `p${p}h${h}`).join(' --> ')}`);
      lines.push('  end');
    });
    return lines.join('\n') + '\n';
  }
}

const COLUMNS = ['HOP', 'SOCKET PEER', 'X-FORWARDED-FOR', 'X-ENVOY-EXTERNAL-ADDRESS', 'REMOTE.IP', 'POLICIES'];

function renderPath(path: PathTrace): string {
  const rows = path.hops.map(h => ([
    h.hop,
    (h.socketPeer ?? '-') + (h.proxyProtocolSource ? ` (PROXY ${h.proxyProtocolSource})` : ''),
    h.xForwardedFor ?? '-',
    h.externalAddress ?? '-',
    h.clientAddress ?? '-',
    h.policies.length === 0 ? '-' : h.policies.map(renderPolicy).join('; '),
  ]).map(escapeForTerminal));
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [escapeForTerminal(`${path.title} [${path.protocol}]`), line(COLUMNS), ...rows.map(line)];
  out.push(escapeForTerminal(`app sees: socket peer ${path.appSocketPeer}${path.appHeaderClient ? `, X-Envoy-External-Address ${path.appHeaderClient}` : ''} (client ${path.clientAddress})`));
  out.push(...path.hops.flatMap(h => (h.rateLimits ?? []).map(l => escapeForTerminal(`  rate limit (${h.hop}): ${l.rateLimit} ${l.limit}, bucket per client keyed on ${l.key}`
    + (l.keyWithForgedXff === l.key ? ' (a forged X-Forwarded-For keeps it)' : ` (a forged X-Forwarded-For makes it ${l.keyWithForgedXff})`)))));
  const headers = path.hops.filter(h => h.clientAddressHeaders).map(h => `${h.hop} ${headerText(h.clientAddressHeaders!)}`);
  if (headers.length > 0) out.push(escapeForTerminal(`client-address headers received: ${headers.join('; ')}`));
  const notes = path.hops.filter(h => h.note).map(h => escapeForTerminal(`  note (${h.hop}): ${h.note}`));
  out.push(...notes);
  out.push(...path.findings.map(renderFinding));
  return out.join('\n');
}

function renderPolicy(m: PolicyMatch): string {
  return `${m.action} ${m.policy} ${m.field}[${m.cidrs.join(',')}] ${m.matches ? 'matches' : 'no match'} ${m.address}`;
}

function renderFinding(f: Finding): string {
  return `  ${f.severity.toUpperCase()} ${escapeForTerminal(f.where)}: ${escapeForTerminal(f.message)}\n    fix: ${escapeForTerminal(f.fix)}`;
}

/** The reason skipped.ts gives an object of a kind explain does not read. @internal */
export const NOT_READ = /^kind (\S+) is not read by explain$/;

/** Objects of kinds explain does not read are counted per kind (JSON lists each); every other skip is listed. */
function renderSkippedSection(skipped: SkippedObject[], skippedKinds: { [kind: string]: number }): string {
  const counts = new Map<string, number>(Object.entries(skippedKinds));
  const listed: string[] = [];
  for (const s of skipped) {
    const kind = NOT_READ.exec(s.reason)?.[1];
    if (kind !== undefined) counts.set(kind, (counts.get(kind) ?? 0) + 1);
    else listed.push(renderSkipped(s));
  }
  const total = skipped.length + Object.values(skippedKinds).reduce((a, b) => a + b, 0);
  const lines = [`skipped (${total} objects not used):`, ...listed];
  if (counts.size > 0) {
    lines.push(`  not read (kinds explain does not model): ${escapeForTerminal([...counts].map(([k, n]) => `${n} ${k}`).join(', '))}`);
  }
  return lines.join('\n');
}

function renderSkipped(s: SkippedObject): string {
  const source = s.source !== undefined ? ` (${escapeForTerminal(s.source)})` : '';
  return `  SKIPPED ${escapeForTerminal(s.object)}${source}: ${escapeForTerminal(s.reason)}\n    fix: ${escapeForTerminal(s.fix)}`;
}

function hopFacts(hop: HopTrace): string[] {
  const facts: string[] = [];
  if (hop.socketPeer) facts.push(`peer ${hop.socketPeer}`);
  if (hop.proxyProtocolSource) facts.push(`PROXY ${hop.proxyProtocolSource}`);
  if (hop.xForwardedFor) facts.push(`XFF ${hop.xForwardedFor}`);
  if (hop.externalAddress) facts.push(`XEEA ${hop.externalAddress}`);
  if (hop.clientAddress) facts.push(`remote.ip ${hop.clientAddress}`);
  for (const l of hop.rateLimits ?? []) facts.push(`rate limit ${l.rateLimit} key ${l.key}`);
  if (hop.clientAddressHeaders) facts.push(headerText(hop.clientAddressHeaders));
  return facts;
}

/** Client-address headers as `name value, ...`. */
function headerText(headers: { [name: string]: string }): string {
  return Object.entries(headers).map(([name, value]) => `${name} ${value}`).join(', ');
}
