import { readFileSync } from 'fs';
import { escapeForTerminal } from './explain/escape';
import { Explainer } from './explain/explainer';
import { HelmSpec, parseHelmSpec } from './explain/helm-spec';
import { HelmValues } from './explain/helm-values';
import { isDirectory, isManifestInputError, manifestFilesIn, manifestInputError, readManifestText, readValuesText } from './explain/input';
import { IstioVersion } from './model/istio-version';
import { readObservations } from './verify/observations';
import { verifyManifests, verifyReportJson, verifyReportText } from './verify/verifier';

/*
 * cdk8s-istio-source-ip explain [--json|--mermaid] <files...>
 * cdk8s-istio-source-ip verify --observations file [--json] <files...>
 * Exit codes: 0 report written (verify: every observation matches), 1 the report has errors and --fail-on-error was
 * given (verify: a mismatch, always), 2 bad usage or unreadable input.
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
}

const defaultIo: Io = {
  out: text => process.stdout.write(text),
  err: text => process.stderr.write(text),
  readFile: path => readFileSync(path === '-' ? 0 : path, 'utf8'),
};

/** Runs the command line; sets process.exitCode. */
export function main(argv: string[], io: Io = defaultIo): void {
  try {
    process.exitCode = run(argv, io);
  } catch (e) {
    // A bug in explain, not in the input: one line, no stack trace, and not exit 1 (which means "errors found").
    io.err(`${argv[0] === 'verify' ? 'verify' : 'explain'} failed: ${escapeForTerminal(e instanceof Error ? e.message : String(e))}\n`);
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

/** Reads one file argument (a directory: its .yaml and .yml files, sorted), with messages that name the path. */
function readManifests(path: string, io: Io): any[] {
  if (isDirectory(path)) return manifestFilesIn(path, escapeForTerminal(path)).flatMap(f => readManifests(f, io));
  return readManifestText(readInput(path, io), escapeForTerminal(path));
}

function readInput(path: string, io: Io): string {
  let text: string;
  try {
    text = io.readFile(path);
  } catch (e) {
    const error = e as NodeJS.ErrnoException;
    const shown = escapeForTerminal(path);
    if (error.code === 'EISDIR') throw manifestInputError(shown, `is a directory: give the manifest files in it, e.g. ${shown}/*.yaml`);
    if (error.code === 'ENOENT' || /ENOENT/.test(error.message)) throw manifestInputError(shown, 'no such file');
    throw manifestInputError(shown, `cannot be read: ${escapeForTerminal(error.message)}`);
  }
  return text;
}

function run(argv: string[], io: Io): number {
  const [command, ...rest] = argv;
  if (command === '-h' || command === '--help' || command === 'help') {
    io.out(USAGE);
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
      istioVersion = IstioVersion.of(value ?? '');
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
  const observations = takeOption(args, '--observations');
  args = observations.rest;
  const flags = args.filter(a => a.startsWith('--') || a === '-h');
  const files = args.filter(a => !a.startsWith('--') && a !== '-h');
  if (flags.includes('--help') || flags.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  if (command === 'verify') return verify(observations.values, flags, files, istioVersion, helmSpecs, io);
  if (observations.values.length > 0) {
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
  try {
    objects = files.flatMap(f => readManifests(f, io));
    helmValues = readHelmValues(helmSpecs, io);
  } catch (e) {
    if (!isManifestInputError(e)) throw e;
    io.err(`cannot read manifests: ${escapeForTerminal(e.message)}\n`);
    return 2;
  }
  const report = Explainer.fromManifests(objects, { istioVersion, helmValues });
  io.out(flags.includes('--json') ? report.toJson() + '\n' : flags.includes('--mermaid') ? report.toMermaid() : report.toTable());
  return flags.includes('--fail-on-error') && report.hasErrors ? 1 : 0;
}

function readHelmValues(helmSpecs: HelmSpec[], io: Io): HelmValues[] {
  return helmSpecs.map(h => ({ ...h, values: readValuesText(readInput(h.file, io), escapeForTerminal(h.file)), source: `${h.chart} Helm values ${escapeForTerminal(h.file)}` }));
}

/** verify: 0 every observation matches, 1 a mismatch, 2 bad usage or input. */
function verify(observations: string[], flags: string[], files: string[], istioVersion: IstioVersion | undefined, helmSpecs: HelmSpec[],
  io: Io): number {
  const unknown = flags.filter(f => f !== '--json');
  if (unknown.length > 0 || observations.length !== 1 || files.length === 0) {
    const why = unknown.length > 0 ? `unknown option ${unknown[0]} for verify`
      : observations.length !== 1 ? `verify needs exactly one --observations file (got ${observations.length})` : 'no manifest files given';
    io.err(`${why}\n${USAGE}`);
    return 2;
  }
  let report;
  try {
    const objects = files.flatMap(f => readManifests(f, io));
    const observed = readObservations(readInput(observations[0], io), escapeForTerminal(observations[0]));
    report = verifyManifests(objects, observed, { istioVersion, helmValues: readHelmValues(helmSpecs, io) });
  } catch (e) {
    if (!isManifestInputError(e)) throw e;
    io.err(`cannot verify: ${escapeForTerminal(e.message)}\n`);
    return 2;
  }
  io.out(flags.includes('--json') ? verifyReportJson(report) + '\n' : verifyReportText(report));
  return report.ok ? 0 : 1;
}
