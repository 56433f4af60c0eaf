import { existsSync, readFileSync } from 'fs';
import { dirname, join } from 'path';
import { escapeForTerminal } from './explain/escape';
import type { ExplainReport } from './explain/explain-report';
import type * as ExplainStream from './explain/explain-stream';
import type { HelmSpec } from './explain/helm-spec';
import type { HelmValues } from './explain/helm-values';
import type * as Input from './explain/input';
import type * as Stream from './explain/stream';
import type { IstioVersion } from './model/istio-version';
import type * as Observations from './verify/observations';
import type * as Verifier from './verify/verifier';

/*
 * cdk8s-istio-source-ip explain [--json|--mermaid] <files...>
 * Exit codes: 0 report written, 1 the report has errors and --fail-on-error was given, 2 bad usage or unreadable input.
 * Never a stack trace: every failure is one message on stderr.
 */

const USAGE = `usage: cdk8s-istio-source-ip explain [--json|--mermaid] [--fail-on-error] [--istio-version 1.N]
                                     [--helm-values chart[:namespace/release]=file ...] <files...>
       cdk8s-istio-source-ip verify --observations file [--json] [--istio-version 1.N]
                                    [--helm-values chart[:namespace/release]=file ...] <files...>

Reads Kubernetes/Istio manifests (multi-document YAML or JSON; "-" reads stdin; a directory: the .yaml and .yml
files in it and its subdirectories, sorted) and shows, for each gateway and workload, which client address every
hop sees: client -> load balancer -> node -> gateway -> sidecar -> app.

  --json           print the report as JSON
  --mermaid        print the paths as a Mermaid flowchart
  --fail-on-error  exit with code 1 when the report has errors
  --istio-version  the Istio release the cluster runs (1.24 to 1.32); default: the manifests'
                   source-ip.cdk8s.io/istio-version annotation, else the newest
  --helm-values    values of an Istio Helm release: chart is istiod (meshConfig) or gateway (the gateway it
                   installs; namespace/release default to istio-ingress/istio-ingressgateway);
                   repeat for each release
  -h, --help       show this help
  --version        print the version

verify compares what the manifests predict at each hop with what the cluster showed: Istio's default text
access-log lines and httpbin (/headers, /ip) or echo-server responses, named in a YAML or JSON observations file
(docs/verify.md), and ranks the likely causes of a mismatch.

  --observations   the observations file ("-" reads stdin)
  --json           print the verdict as JSON

Exit codes: 0 report written (no errors, or errors without --fail-on-error; verify: every observation matches),
1 errors found with --fail-on-error (verify: an observation does not match), 2 bad usage or input that cannot be
read (the message names the file and document).
`;

interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly readFile: (path: string) => string;
  /** The text of a file (or stdin for "-") in pieces, in order; without it, readFile's text is one piece. */
  readonly readChunks?: (path: string) => Iterable<string>;
}

const defaultIo: Io = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text),
  readFile: path => readFileSync(path === '-' ? 0 : path, 'utf8'),
  readChunks: path => stream().fileChunks(path),
};

/*
 * The reader, the explainer and the YAML parser load on first use, so that --help and --version answer without them.
 */
/* eslint-disable @typescript-eslint/no-require-imports */
function input(): typeof Input {
  return require('./explain/input');
}
function stream(): typeof Stream {
  return require('./explain/stream');
}
function explainStream(): typeof ExplainStream {
  return require('./explain/explain-stream');
}
function istioVersionOf(value: string): IstioVersion {
  return (require('./model/istio-version') as typeof import('./model/istio-version')).IstioVersion.of(value);
}
function observations(): typeof Observations {
  return require('./verify/observations');
}
function verifier(): typeof Verifier {
  return require('./verify/verifier');
}
function parseHelmSpec(value: string): HelmSpec | string {
  return (require('./explain/helm-spec') as typeof import('./explain/helm-spec')).parseHelmSpec(value);
}
/* eslint-enable @typescript-eslint/no-require-imports */

/** The package's version, from its package.json (next to lib/ when installed, next to src/ in the repository). */
function packageVersion(): string {
  let dir = __dirname;
  for (let i = 0; i < 4; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return String(JSON.parse(readFileSync(file, 'utf8')).version);
    dir = dirname(dir);
  }
  return 'unknown';
}

/** Runs the command line; sets process.exitCode. */
export function main(argv: string[], io: Io = defaultIo): void {
  try {
    process.exitCode = run(argv, io);
  } catch (e) {
    // A bug in explain, not in the input: one line, no stack trace, and not exit 1 (which means "errors found").
    io.err(`explain failed: ${escapeForTerminal(e instanceof Error ? e.message : String(e))}\n`);
    process.exitCode = 2;
  }
}

/** Every value of a repeatable option (`--name value` or `--name=value`), and the other arguments. */
function takeOption(args: string[], name: string): { values: string[]; rest: string[] } {
  const values: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i].startsWith(`${name}=`)) values.push(args[i].slice(name.length + 1));
    else if (args[i] === name) values.push(args[++i] ?? '');
    else rest.push(args[i]);
  }
  return { values, rest };
}

/**
 * Reads one file argument (a directory: its .yaml and .yml files, sorted) as a stream, with messages that name the
 * path; objects of kinds explain never reads are counted into `notRead` and dropped.
 */
function readManifests(path: string, io: Io, notRead: Map<string, number>): any[] {
  if (input().isDirectory(path)) return input().manifestFilesIn(path, escapeForTerminal(path)).flatMap(f => readManifests(f, io, notRead));
  const chunks = (): Iterable<string> => (io.readChunks ? io.readChunks(path) : [io.readFile(path)]);
  const read = readGuarded(path, () => stream().readManifestStream(chunks(), escapeForTerminal(path)));
  for (const [kind, n] of read.notRead) notRead.set(kind, (notRead.get(kind) ?? 0) + n);
  return read.objects;
}

function readInput(path: string, io: Io): string {
  return readGuarded(path, () => io.readFile(path));
}

/** Runs a read, turning the file system's errors into input errors that name the path. */
function readGuarded<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (input().isManifestInputError(e)) throw e;
    const error = e as NodeJS.ErrnoException;
    const shown = escapeForTerminal(path);
    if (error.code === 'EISDIR') throw input().manifestInputError(shown, `is a directory: give the manifest files in it, e.g. ${shown}/*.yaml`);
    if (error.code === 'ENOENT' || /ENOENT/.test(error.message)) throw input().manifestInputError(shown, 'no such file');
    throw input().manifestInputError(shown, `cannot be read: ${escapeForTerminal(error.message)}`);
  }
}

function run(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    io.out(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v' || command === 'version' || (command === 'explain' && rest.includes('--version'))) {
    io.out(`cdk8s-istio-source-ip ${packageVersion()}\n`);
    return 0;
  }
  if (command !== 'explain' && command !== 'verify') {
    io.err(command === undefined ? USAGE : `unknown command "${command}"\n${USAGE}`);
    return 2;
  }
  let args = rest;
  let istioVersion: IstioVersion | undefined;
  const versionAt = args.findIndex(a => a === '--istio-version' || a.startsWith('--istio-version='));
  if (versionAt >= 0) {
    const arg = args[versionAt];
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[versionAt + 1];
    try {
      istioVersion = istioVersionOf(value ?? '');
    } catch (e) {
      io.err(`${(e as Error).message}\n${USAGE}`);
      return 2;
    }
    args = args.filter((_, i) => i !== versionAt && (arg.includes('=') || i !== versionAt + 1));
  }
  const helm = takeOption(args, '--helm-values');
  args = helm.rest;
  const helmSpecs: HelmSpec[] = [];
  for (const value of helm.values) {
    const spec = parseHelmSpec(value);
    if (typeof spec === 'string') {
      io.err(`${spec}\n${USAGE}`);
      return 2;
    }
    helmSpecs.push(spec);
  }
  const observed = takeOption(args, '--observations');
  args = observed.rest;
  const flags = args.filter(a => a.startsWith('--') || a === '-h');
  const files = args.filter(a => !a.startsWith('--') && a !== '-h');
  if (flags.includes('--help') || flags.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  if (command === 'verify') return verify(observed.values, flags, files, istioVersion, helmSpecs, io);
  if (observed.values.length > 0) {
    io.err(`--observations is an option of verify, not explain\n${USAGE}`);
    return 2;
  }
  const unknown = flags.filter(f => !['--json', '--mermaid', '--fail-on-error'].includes(f));
  if (unknown.length > 0 || (flags.includes('--json') && flags.includes('--mermaid')) || files.length === 0) {
    const why = unknown.length > 0 ? `unknown option ${unknown[0]}` : files.length === 0 ? 'no manifest files given' : '--json and --mermaid cannot be combined';
    io.err(`${why}\n${USAGE}`);
    return 2;
  }
  let objects: any[];
  let helmValues: HelmValues[];
  const notRead = new Map<string, number>();
  try {
    objects = files.flatMap(f => readManifests(f, io, notRead));
    helmValues = readHelmValues(helmSpecs, io);
  } catch (e) {
    if (!input().isManifestInputError(e)) throw e;
    io.err(`cannot read manifests: ${escapeForTerminal(e.message)}\n`);
    return 2;
  }
  const report: ExplainReport = explainStream().explainStreamed(objects, notRead, { istioVersion, helmValues });
  io.out(flags.includes('--json') ? report.toJson() + '\n' : flags.includes('--mermaid') ? report.toMermaid() : report.toTable());
  return flags.includes('--fail-on-error') && report.hasErrors ? 1 : 0;
}

function readHelmValues(helmSpecs: HelmSpec[], io: Io): HelmValues[] {
  return helmSpecs.map(h => ({ ...h, values: input().readValuesText(readInput(h.file, io), escapeForTerminal(h.file)), source: `${h.chart} Helm values ${escapeForTerminal(h.file)}` }));
}

/** verify: 0 every observation matches, 1 a mismatch, 2 bad usage or input. */
function verify(observationFiles: string[], flags: string[], files: string[], istioVersion: IstioVersion | undefined, helmSpecs: HelmSpec[],
  io: Io): number {
  const unknown = flags.filter(f => f !== '--json');
  if (unknown.length > 0 || observationFiles.length !== 1 || files.length === 0) {
    const why = unknown.length > 0 ? `unknown option ${unknown[0]} for verify`
      : observationFiles.length !== 1 ? `verify needs exactly one --observations file (got ${observationFiles.length})` : 'no manifest files given';
    io.err(`${why}\n${USAGE}`);
    return 2;
  }
  let report;
  try {
    // verify compares with the objects it reads; kinds explain never reads are dropped as for explain.
    const objects = files.flatMap(f => readManifests(f, io, new Map()));
    const observed = observations().readObservations(readInput(observationFiles[0], io), escapeForTerminal(observationFiles[0]));
    report = verifier().verifyManifests(objects, observed, { istioVersion, helmValues: readHelmValues(helmSpecs, io) });
  } catch (e) {
    if (!input().isManifestInputError(e)) throw e;
    io.err(`cannot verify: ${escapeForTerminal(e.message)}\n`);
    return 2;
  }
  io.out(flags.includes('--json') ? verifier().verifyReportJson(report) + '\n' : verifier().verifyReportText(report));
  return report.ok ? 0 : 1;
}
