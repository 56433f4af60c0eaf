/*
 * `npx ts-node --transpile-only -P test/tsconfig.json bench/cidr-list.ts [--entries 10000] [--reps 5]`: a mixed
 * IPv4/IPv6 list with overlaps and duplicates, aggregated by CidrList and synthesised as CidrListPolicy
 * AuthorizationPolicies on a gateway. Prints the counts, the median time and whether two runs gave identical YAML.
 * A benchmark, not a test: the figures go into bench/RESULTS.md.
 */
import { App, Chart } from 'cdk8s';
import { arg } from './args';
import { CidrList, CidrListPolicy, PolicyAction, PreservedIngressGateway } from '../src';

/** A seeded generator (mulberry32), so every run reads the same list. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * About 70 % IPv4 and 30 % IPv6 blocks in a few clustered ranges, so that adjacent, nested and overlapping blocks
 * are common; one entry in ten repeats an earlier one, and the text has comments and blank lines.
 */
export function syntheticList(entries: number, seed = 15): string {
  const next = random(seed);
  const int = (max: number) => Math.floor(next() * max);
  const lines: string[] = ['# synthetic benchmark list', ''];
  const made: string[] = [];
  for (let i = 0; i < entries; i++) {
    let entry: string;
    if (made.length > 0 && next() < 0.1) {
      entry = made[int(made.length)];
    } else if (next() < 0.7) {
      const len = 20 + int(13);
      const value = ((int(64) + 64) << 24 | int(256) << 16 | int(256) << 8 | int(256)) >>> 0;
      const masked = len === 0 ? 0 : (value & (0xffffffff << (32 - len))) >>> 0;
      entry = `${masked >>> 24}.${(masked >>> 16) & 255}.${(masked >>> 8) & 255}.${masked & 255}/${len}`;
    } else {
      const len = 32 + int(33);
      const groups = [0x2001, 0x0db8, int(0x40), int(0x10000)];
      const bits = groups.reduce((v, g) => (v << 16n) | BigInt(g), 0n) & (((1n << BigInt(len)) - 1n) << BigInt(64 - len));
      const hex = [48n, 32n, 16n, 0n].map(s => ((bits >> s) & 0xffffn).toString(16));
      entry = `${hex.join(':')}::/${len}`;
    }
    made.push(entry);
    lines.push(i % 100 === 0 ? `${entry}  # block ${i}` : entry);
  }
  return lines.join('\n') + '\n';
}

function synth(text: string): { yaml: string; list: CidrList; policies: number } {
  const app = new App({ outdir: '/tmp/cdk8s-bench-unused' });
  const chart = new Chart(app, 'cdn');
  const gateway = new PreservedIngressGateway(chart, 'Gateway', { name: 'edge', namespace: 'ingress' });
  gateway.addHttpServer();
  const list = CidrList.fromText(text, { name: 'synthetic' });
  const policy = new CidrListPolicy(chart, 'Blocked', { target: gateway, list, action: PolicyAction.DENY, name: 'blocked' });
  return { yaml: app.synthYaml(), list, policies: policy.policies.length };
}

function main(): void {
  const entries = Number(arg('entries', '10000'));
  const reps = Number(arg('reps', '5'));
  const text = syntheticList(entries);
  const times: number[] = [];
  let first: ReturnType<typeof synth> | undefined;
  let identical = true;
  for (let i = 0; i < reps; i++) {
    const start = process.hrtime.bigint();
    const run = synth(text);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (!first) first = run;
    else identical = identical && run.yaml === first.yaml;
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  console.log(first!.list.describe());
  console.log(`policies: ${first!.policies} (at most 1000 blocks each), ${first!.yaml.length} bytes of YAML`);
  console.log(`time to read, aggregate and synthesise: median ${median.toFixed(0)} ms of ${reps} runs (first ${times[0].toFixed(0)} ms; target < 2000 ms)`);
  console.log(`deterministic: ${identical ? 'yes, every run emitted identical YAML' : 'NO: runs differ'}`);
  if (!identical) process.exitCode = 1;
}

if (require.main === module) main();
