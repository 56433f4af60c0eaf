/*
 * The result of explain: plain data per traced path, and three renderings (table, JSON, Mermaid).
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

/** Whether one AuthorizationPolicy rule on client addresses matches at a hop. */
export interface PolicyMatch {
  /** `namespace/name` of the policy. */
  readonly policy: string;
  /** ALLOW or DENY. */
  readonly action: string;
  /** `ipBlocks`, `notIpBlocks`, `remoteIpBlocks` or `notRemoteIpBlocks`. */
  readonly field: string;
  /** The CIDRs of the rule. */
  readonly cidrs: string[];
  /** The address the field is matched against at this hop. */
  readonly address: string;
  /** True when the rule's source matches. */
  readonly matches: boolean;
}

/** What one hop of a path sees. */
export interface HopTrace {
  /** Hop name, e.g. "client", "cloud-lb", "node", "gateway istio-system/ingress", "sidecar", "app". */
  readonly hop: string;
  /** The socket (L3) peer of the hop; for the app, what `getpeername()` returns. @default - not applicable */
  readonly socketPeer?: string;
  /** The PROXY protocol source address the hop receives. @default - no PROXY header */
  readonly proxyProtocolSource?: string;
  /** X-Forwarded-For as the hop receives it. @default - no header */
  readonly xForwardedFor?: string;
  /** X-Envoy-External-Address as the hop receives it. @default - no header */
  readonly externalAddress?: string;
  /** The client address an Envoy hop resolves (`remote.ip`). @default - not an Envoy hop */
  readonly clientAddress?: string;
  /** True when this Envoy marks the request internal (`x-envoy-internal: true`, Envoy 1.32 defaults). @default false */
  readonly envoyInternal?: boolean;
  /** AuthorizationPolicy rules on client addresses that apply at this hop. */
  readonly policies: PolicyMatch[];
  /** A remark about this hop. @default - none */
  readonly note?: string;
}

/** One traced path from a client to an app. */
export interface PathTrace {
  /** A title such as "north-south: gateway istio-system/ingress -> workload web/httpbin". */
  readonly title: string;
  /** "north-south" or "east-west". */
  readonly direction: string;
  /** Protocol traced: HTTP or TCP. */
  readonly protocol: string;
  /** The real client address used for the trace. */
  readonly clientAddress: string;
  /** The hops, client first. */
  readonly hops: HopTrace[];
  /** The address the app sees as its socket peer. */
  readonly appSocketPeer: string;
  /** The client address the app can read from headers (X-Envoy-External-Address), when set. @default - none */
  readonly appHeaderClient?: string;
  /** What is lost or spoofable on this path, with fixes. */
  readonly findings: Finding[];
}

/** The report `explain` produces. */
export class ExplainReport {
  /** The traced paths. */
  public readonly paths: PathTrace[];
  /** Findings about the manifests themselves (not tied to one path). */
  public readonly findings: Finding[];

  public constructor(paths: PathTrace[], findings: Finding[]) {
    this.paths = paths;
    this.findings = findings;
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
    return JSON.stringify({ paths: this.paths, findings: this.findings }, undefined, 2);
  }

  /** The report as readable text tables, one per path. */
  public toTable(): string {
    const sections = this.paths.map(renderPath);
    if (this.findings.length > 0) sections.push(['manifest findings:', ...this.findings.map(renderFinding)].join('\n'));
    if (sections.length === 0) return 'no gateways or meshed workloads found\n';
    return sections.join('\n\n') + '\n';
  }

  /** The paths as a Mermaid flowchart. */
  public toMermaid(): string {
    const lines = ['flowchart LR'];
    this.paths.forEach((path, p) => {
      lines.push(`  subgraph p${p}["${escapeMermaid(path.title)}"]`);
      path.hops.forEach((hop, h) => {
        const label = [hop.hop, ...hopFacts(hop)].map(escapeMermaid).join('<br/>');
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
  const rows = path.hops.map(h => [
    h.hop,
    (h.socketPeer ?? '-') + (h.proxyProtocolSource ? ` (PROXY ${h.proxyProtocolSource})` : ''),
    h.xForwardedFor ?? '-',
    h.externalAddress ?? '-',
    h.clientAddress ?? '-',
    h.policies.length === 0 ? '-' : h.policies.map(renderPolicy).join('; '),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map(r => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => i === cells.length - 1 ? c : c.padEnd(widths[i])).join('  ').trimEnd();
  const out = [`${path.title} [${path.protocol}]`, line(COLUMNS), ...rows.map(line)];
  out.push(`app sees: socket peer ${path.appSocketPeer}${path.appHeaderClient ? `, X-Envoy-External-Address ${path.appHeaderClient}` : ''} (client ${path.clientAddress})`);
  const notes = path.hops.filter(h => h.note).map(h => `  note (${h.hop}): ${h.note}`);
  out.push(...notes);
  out.push(...path.findings.map(renderFinding));
  return out.join('\n');
}

function renderPolicy(m: PolicyMatch): string {
  return `${m.action} ${m.policy} ${m.field}[${m.cidrs.join(',')}] ${m.matches ? 'matches' : 'no match'} ${m.address}`;
}

function renderFinding(f: Finding): string {
  return `  ${f.severity.toUpperCase()} ${f.where}: ${f.message}\n    fix: ${f.fix}`;
}

function hopFacts(hop: HopTrace): string[] {
  const facts: string[] = [];
  if (hop.socketPeer) facts.push(`peer ${hop.socketPeer}`);
  if (hop.proxyProtocolSource) facts.push(`PROXY ${hop.proxyProtocolSource}`);
  if (hop.xForwardedFor) facts.push(`XFF ${hop.xForwardedFor}`);
  if (hop.externalAddress) facts.push(`XEEA ${hop.externalAddress}`);
  if (hop.clientAddress) facts.push(`remote.ip ${hop.clientAddress}`);
  return facts;
}

function escapeMermaid(text: string): string {
  return text.replace(/"/g, '#quot;');
}
