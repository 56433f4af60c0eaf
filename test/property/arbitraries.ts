import * as os from 'os';
import * as path from 'path';
import { App, Chart } from 'cdk8s';
import { IConstruct } from 'constructs';
import * as fc from 'fast-check';
import { hostBitsCidr } from './cidr-arbitraries';
import { assertPolicyFields } from './field-against-trace';
import { assertRoundTrip } from './round-trip';
import { assertScopedSelectors } from './selector-scope';
import { assertVerifies } from './verify-property';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, IstioVersion } from '../../src';
import { validateManifest } from '../harness';

/*
 * Shared generators and the oracle of the property suite. Every generated case must either synthesise objects
 * that pass the whole validation harness, or throw one of our own `Error`s whose message names a property the
 * case set. Anything else (TypeError, RangeError, an error raised inside cdk8s/constructs/ajv, a manifest the
 * harness rejects) fails the property.
 */

/**
 * Runs per property at weight 1. `npm run fuzz` sets FUZZ_RUNS=20000; the CI default is chosen so that the suite
 * generates at least 10,000 cases in total (the summary test checks it).
 */
export const DEFAULT_FUZZ_RUNS = 1100;
export const FUZZ_RUNS = parseRuns(process.env.FUZZ_RUNS);
/** The CI floor on the number of generated construct cases (synthesised and validated), checked when FUZZ_RUNS is not set. */
export const MIN_CASES_PER_CI_RUN = 10_000;

function parseRuns(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_FUZZ_RUNS;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_RUNS ${JSON.stringify(text)} is not allowed: use a whole number of runs, such as 20000`);
  return n;
}

/** Runs for a property whose cases cost `weight` times a typical one (cheap pure functions get more than 1). */
export function runsFor(weight: number): number {
  return Math.max(1, Math.round(FUZZ_RUNS * weight));
}

/** Generated cases per property, for the summary line. */
export const caseCounter = new Map<string, number>();
/** Accepted (synthesised and valid) cases per property: a property that rejects nearly everything tests little. */
export const acceptedCounter = new Map<string, number>();
let currentProperty = '';

/** Properties whose cases build constructs and synthesise them (the others check pure functions). */
export const constructProperties = new Set<string>();

export function totalCases(): number {
  return [...caseCounter.values()].reduce((a, b) => a + b, 0);
}

/** Generated cases of the construct properties. */
export function constructCases(): number {
  return [...caseCounter.entries()].filter(([k]) => constructProperties.has(k)).reduce((a, [, b]) => a + b, 0);
}

/**
 * Checks `predicate` on `runsFor(weight)` generated values and counts them. A seed from FUZZ_SEED replays a
 * failure; fast-check prints the seed and the shrunk counterexample.
 */
export function checkProperty<T>(name: string, arb: fc.Arbitrary<T>, predicate: (value: T) => void, weight = 1): void {
  const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
  fc.assert(fc.property(arb, value => {
    caseCounter.set(name, (caseCounter.get(name) ?? 0) + 1);
    currentProperty = name;
    predicate(value);
  }), { numRuns: runsFor(weight), ...(seed !== undefined ? { seed } : {}) });
}

// ---------------------------------------------------------------------------------------------------------------
// The oracle
// ---------------------------------------------------------------------------------------------------------------

const OUTDIR = path.join(os.tmpdir(), 'cdk8s-istio-source-ip-fuzz');

/** A chart in a fresh app (without the temporary directory `Testing.chart()` creates for every app). */
export function newChart(id = 'test'): Chart {
  return new Chart(new App({ outdir: OUTDIR }), id);
}

/** The first stack frame that is not node internals, for "where did this error come from". */
function originOf(error: Error): string {
  const frames = (error.stack ?? '').split('\n').filter(l => /^\s+at /.test(l));
  return frames[0] ?? '';
}

const CDK8S_VALIDATION = /^Validation failed with the following errors:\n/;

/**
 * Throws unless `error` is one of ours: a plain `Error` (not TypeError, RangeError, ReferenceError, ...) raised
 * in `src/` (or cdk8s's wrapper around our `addValidation` messages) whose message names one of `names`.
 */
export function assertOwnError(error: unknown, names: string[], where: string): void {
  if (!(error instanceof Error)) throw new Error(`${where} threw a non-Error: ${String(error)}`);
  if (error.constructor !== Error) {
    throw new Error(`${where} threw ${error.constructor.name}, not one of our errors: ${error.message}\n${error.stack}`);
  }
  const origin = originOf(error);
  const ours = CDK8S_VALIDATION.test(error.message) ? true : /[\\/]src[\\/]/.test(origin) && !/node_modules/.test(origin);
  if (!ours) throw new Error(`${where} threw an error from outside src/ (${origin.trim()}): ${error.message}`);
  const message = error.message;
  if (!names.some(n => message.includes(n))) {
    throw new Error(`${where} threw an error that names none of the properties set (${names.join(', ')}): ${message}`);
  }
}

/** Kubernetes API-server rules the schema validators do not check (they accept any string map). */
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

function qualifiedKeyErrors(kind: string, what: string, map: any): string[] {
  if (map === undefined) return [];
  return Object.keys(map).flatMap(key => {
    const slash = key.lastIndexOf('/');
    const name = slash === -1 ? key : key.slice(slash + 1);
    const prefix = slash === -1 ? undefined : key.slice(0, slash);
    const ok = name.length > 0 && name.length <= 63 && QUALIFIED_NAME.test(name)
      && (prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix)));
    return ok ? [] : [`${kind}: ${what} key ${JSON.stringify(key)} is not a qualified name (the API server rejects it)`];
  });
}

/** What the API server would still reject after the schema validators passed. */
export function apiServerErrors(manifest: any): string[] {
  const kind = `${manifest.kind}/${manifest.metadata?.name}`;
  const errors: string[] = [];
  const name = manifest.metadata?.name;
  if (typeof name === 'string' && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) errors.push(`${kind}: metadata.name is not a DNS-1123 subdomain`);
  if (['Service', 'Namespace'].includes(manifest.kind) && typeof name === 'string' && (name.length > 63 || !DNS1123_LABEL.test(name))) {
    errors.push(`${kind}: metadata.name is not a DNS-1123 label`);
  }
  const ns = manifest.metadata?.namespace;
  if (ns !== undefined && (typeof ns !== 'string' || ns.length > 63 || !DNS1123_LABEL.test(ns))) errors.push(`${kind}: metadata.namespace is not a DNS-1123 label`);
  errors.push(...qualifiedKeyErrors(kind, 'metadata.annotations', manifest.metadata?.annotations));
  errors.push(...qualifiedKeyErrors(kind, 'metadata.labels', manifest.metadata?.labels));
  errors.push(...qualifiedKeyErrors(kind, 'spec.template.metadata.annotations', manifest.spec?.template?.metadata?.annotations));
  const lbClass = manifest.kind === 'Service' ? manifest.spec?.loadBalancerClass : undefined;
  if (lbClass !== undefined && !(lbClass.includes('/') && qualifiedKeyErrors(kind, 'spec.loadBalancerClass', { [lbClass]: '' }).length === 0)) {
    errors.push(`${kind}: spec.loadBalancerClass ${JSON.stringify(lbClass)} is not a label-style domain-prefixed path (the API server rejects it)`);
  }
  const minReplicas = manifest.kind === 'HorizontalPodAutoscaler' ? manifest.spec?.minReplicas : undefined;
  if (minReplicas !== undefined && !(Number.isInteger(minReplicas) && minReplicas >= 1)) {
    errors.push(`${kind}: spec.minReplicas ${JSON.stringify(minReplicas)} must be at least 1 (0 needs the alpha HPAScaleToZero gate)`);
  }
  return errors;
}

/** With FUZZ_DEBUG=1, a histogram of rejection messages (to tune generators so that most cases reach synthesis). */
export const rejectionCounter = new Map<string, number>();
function noteRejection(e: Error): void {
  if (!process.env.FUZZ_DEBUG) return;
  const key = `${currentProperty}: ${e.message.replace(/^Validation failed with the following errors:\n\s*/, '').replace(/"[^"]*"|\d+/g, '_').slice(0, 90)}`;
  rejectionCounter.set(key, (rejectionCounter.get(key) ?? 0) + 1);
}

/** The outcome of one case. */
export type Outcome = { readonly accepted: true; readonly manifests: any[] } | { readonly accepted: false; readonly error: Error };

/**
 * Builds a chart with `build`, synthesises it and validates every object (the harness validators plus the
 * API-server name rules). Returns the manifests, or the rejection when it is one of ours naming one of `names`;
 * throws for anything else.
 */
export function buildAndCheck(names: string[], build: (chart: Chart) => void, istioVersion?: IstioVersion, control = false): Outcome {
  return buildAppAndCheck(names, app => build(new Chart(app, 'test')), { istioVersion, control });
}

/**
 * As `buildAndCheck`, for an app of several charts: one cluster across the charts (the round trip on the app's
 * objects together), or, with `alternatives` (CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY), one cluster per chart (the
 * round trip chart by chart). The manifests returned are every chart's, in order.
 */
export function buildAppAndCheck(names: string[], build: (app: App) => void,
  options: { readonly istioVersion?: IstioVersion; readonly control?: boolean; readonly alternatives?: boolean } = {}): Outcome {
  const control = options.control ?? false;
  if (!control) constructProperties.add(currentProperty);
  const app = new App({ outdir: OUTDIR });
  if (options.alternatives) app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
  const rejected = (e: unknown, when: string): Outcome => {
    assertOwnError(e, names, when);
    if (!control) noteRejection(e as Error);
    return { accepted: false, error: e as Error };
  };
  try {
    build(app);
  } catch (e) {
    return rejected(e, 'construction');
  }
  const perChart: Array<[Chart, any[]]> = [];
  try {
    for (const chart of app.charts) perChart.push([chart, chart.toJson()]);
  } catch (e) {
    return rejected(e, 'synthesis');
  }
  const manifests = perChart.flatMap(([, m]) => m);
  const errors = manifests.flatMap(m => [...validateManifest(m, { istioVersion: options.istioVersion }), ...apiServerErrors(m)]);
  if (errors.length > 0) {
    throw new Error(`accepted, but the synthesised manifests are invalid:\n  ${errors.join('\n  ')}`);
  }
  if (!control) {
    acceptedCounter.set(currentProperty, (acceptedCounter.get(currentProperty) ?? 0) + 1);
    // What explain reads back is what the constructs built, and explain finds no error the constructs accepted:
    // per cluster (the app, or each chart when the charts are alternatives).
    const clusters: Array<[IConstruct, any[]]> = options.alternatives || perChart.length === 1
      ? perChart : [[app, manifests]];
    for (const [scope, objects] of clusters) {
      assertRoundTrip(scope, objects);
      // Each policy that chose its field by topology chose the one that sees the client in the trace.
      assertPolicyFields(scope);
      // verify: the observations the trace implies are ok, and any one of them changed is a mismatch.
      assertVerifies(objects, options.istioVersion);
    }
    // No policy or filter reaches the whole namespace without an explicit scope.
    for (const [chart, objects] of perChart) assertScopedSelectors(chart, objects);
  }
  return { accepted: true, manifests };
}

/**
 * The property names a rejection may name: every key of the construct's props (set or left out: "selector is
 * missing" names an absent one), plus extra names such as the methods called and their option keys.
 */
export function namesOf(props: object, keys: readonly string[], ...extra: string[]): string[] {
  return [...new Set([...keys, ...Object.keys(props), ...extra])];
}

/** Warnings (construct metadata of type 'warning') anywhere under `scope`. */
export function warningsUnder(scope: { node: { findAll(): Array<{ node: { metadata: Array<{ type: string; data: unknown }> } }> } }): string[] {
  return scope.node.findAll().flatMap(c => c.node.metadata.filter(m => m.type === 'warning').map(m => String(m.data)));
}

// ---------------------------------------------------------------------------------------------------------------
// Generators: valid values, hostile values, and a mix (mostly valid, so that deep paths are reached)
// ---------------------------------------------------------------------------------------------------------------

/** Mostly `valid`, sometimes `hostile`. */
export function mix<T>(valid: fc.Arbitrary<T>, hostile: fc.Arbitrary<T>, hostileWeight = 1, validWeight = 4): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: valid, weight: validWeight }, { arbitrary: hostile, weight: hostileWeight });
}

/** An optional value: absent (undefined) a third of the time. */
export function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 3 });
}

export const istioVersion = fc.constantFrom(...IstioVersion.all());

const LABEL_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** A valid DNS-1123 label of 1 to 20 characters (most realistic names). */
export const dnsLabel: fc.Arbitrary<string> = fc.tuple(
  fc.string({ unit: fc.constantFrom(...LABEL_CHARS), minLength: 1, maxLength: 1 }),
  fc.string({ unit: fc.constantFrom(...LABEL_CHARS, '-'), maxLength: 18 }),
  fc.string({ unit: fc.constantFrom(...LABEL_CHARS), minLength: 1, maxLength: 1 }),
  fc.boolean(),
).map(([a, b, c, short]) => short ? a : `${a}${b}${c}`);

/** Exactly 63 characters: the longest valid label. */
export const longestLabel = fc.constant('a'.repeat(62) + 'z');

/** Strings that break DNS-1123 labels in every way we know. */
export const hostileName: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '-', 'a-', '-a', 'A', 'Bad_Name', 'a.b', 'a/b', 'ñandú', 'café', '日本', '💥', 'a b', 'a\nb', '\u0000',
    'a'.repeat(64), 'x'.repeat(100_000), '*', '..', 'istio-system ', 'NaN', 'undefined', '__proto__', 'constructor'),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom(...LABEL_CHARS, '-', '.'), minLength: 64, maxLength: 80 }),
);

export const name = mix(fc.oneof(dnsLabel, longestLabel), hostileName);

/** Label keys and values, valid and broken. */
const labelKey = mix(
  fc.oneof(dnsLabel, dnsLabel.map(l => `example.com/${l}`), fc.constantFrom('app', 'app.kubernetes.io/name', 'version', 'a_b', 'A.B')),
  fc.constantFrom('', '/a', 'a/', 'Bad Key', 'ex ample.com/a', 'x'.repeat(64), `${'a'.repeat(254)}/a`, 'ключ', '💥', '-a'),
);
const labelValue = mix(
  fc.oneof(dnsLabel, fc.constantFrom('', 'v1.2_3', 'A-b')),
  fc.constantFrom(' ', '-a', 'a-', 'x'.repeat(64), 'ä', 'a b', 'a/b'),
);
export const labels: fc.Arbitrary<{ [key: string]: string }> = mix(
  fc.dictionary(labelKey, labelValue, { minKeys: 1, maxKeys: 3 }),
  fc.constantFrom<{ [key: string]: string }>({}, { '': 'a' }, { app: 'x'.repeat(64) }, { 'Bad Key': 'v' }),
);

/** Ports: valid numbers and every way a number can fail to be one. */
export const validPort = fc.oneof(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(80, 443, 8080, 8443, 9000, 15021, 15006, 1, 65535));
export const hostilePort = fc.oneof(
  fc.constantFrom(0, -1, 65536, 70000, 1.5, 80.0000001, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER + 2, -0, 2 ** 53),
  fc.double({ noNaN: false }),
  fc.integer({ min: -1_000_000, max: 0 }),
  fc.integer({ min: 65536, max: 2 ** 31 }),
);
export const port = mix(validPort, hostilePort);

/** Numbers that are not whole numbers in [min, max]. */
export function hostileCount(min: number, max: number): fc.Arbitrary<number> {
  return fc.oneof(
    fc.constantFrom(min - 1, max + 1, -1, 1.5, NaN, Infinity, -Infinity, Number.MAX_SAFE_INTEGER, -0 - 1, 0.1),
    fc.double({ noNaN: false }).filter(d => !(Number.isInteger(d) && d >= min && d <= max)),
  );
}

/** Whole numbers for counts such as replicas or numTrustedProxies. */
export function count(min: number, max: number): fc.Arbitrary<number> {
  return mix(fc.integer({ min, max }), hostileCount(min, max));
}

/** Hosts for Gateway servers and routes. */
export const validHost = fc.oneof(
  fc.constant('*'),
  dnsLabel.map(l => `${l}.example.com`),
  dnsLabel.map(l => `*.${l}.example.com`),
  fc.constantFrom('httpbin.example.com', 'a.b.c.d.example', 'EXAMPLE.com'),
);
export const hostileHost = fc.oneof(
  fc.constantFrom('', ' ', 'bad host', 'a..b', '*.', '**', 'a*.example.com', 'http://x', 'ünïcode.example', `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(130)}com`, '-a.example.com', 'a.example.com.', '1.2.3.4', '::1', '[::1]', 'ns/a.example.com', 'Bad_NS/a.com', '*/x.com', './x.com'),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);
export const host = mix(validHost, hostileHost);

/** Backend Service hosts. */
export const backendHost = mix(
  fc.oneof(dnsLabel.map(l => `${l}.default.svc.cluster.local`), dnsLabel),
  fc.oneof(hostileHost, fc.constantFrom('*.svc', '*')),
);

// ---- addresses and CIDRs

const ipv4 = fc.ipV4();
const octet = fc.integer({ min: 0, max: 255 });

/** A CIDR with the host bits cleared. */
export const validIpv4Cidr = fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, prefix]) => {
  const n = ip.split('.').map(Number).reduce((acc, o) => acc * 256 + o, 0);
  const block = 2 ** (32 - prefix);
  const net = Math.floor(n / block) * block;
  return `${[3, 2, 1, 0].map(i => Math.floor(net / 256 ** i) % 256).join('.')}/${prefix}`;
});

export const validCidr: fc.Arbitrary<string> = fc.oneof(
  validIpv4Cidr,
  ipv4,
  fc.ipV6(),
  fc.constantFrom('2001:db8::/32', '::/0', '0.0.0.0/0', 'fd00::/8', '::ffff:10.0.0.1', '::ffff:10.0.0.0/104', '2001:db8::1', '203.0.113.0/24', ' 10.0.0.0/8 '),
);

export const hostileCidr: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', ' ', '10.0.0.1/24', '10.0.0.0/33', '10.0.0.0/-1', '10.0.0.0/', '/24', '010.0.0.1', '10.1', '10.0.0.256', '1.2.3.4.5',
    'fe80::1%eth0', '2001:db8::1/64', '2001:db8::/129', '::ffff:10.0.0.1/120', '10.0.0.0/08', '10.0.0.0/8/8', 'localhost', '10.0.0.0 /8',
    '١٠.٠.٠.٠', '10.0.0.0/24\n', '0x0a000001', '4294967295', '2001:db8:::1', '[2001:db8::1]', '10.0.0.0\u0000'),
  fc.tuple(octet, octet, fc.integer({ min: 0, max: 31 })).map(([a, b, p]) => `${a}.${b}.0.1/${p}`),
  hostBitsCidr,
  fc.string({ unit: 'grapheme', maxLength: 20 }),
);

export const cidr = mix(validCidr, hostileCidr);
export const cidrList = fc.array(cidr, { maxLength: 5 });

/** Annotation maps for Services: plausible keys and values, some that the API server rejects. */
/** Annotation maps with valid keys and any values, and some keys the API server rejects. */
export const annotations: fc.Arbitrary<{ [key: string]: string }> = mix(
  fc.dictionary(
    fc.oneof(dnsLabel.map(l => `example.com/${l}`), fc.constantFrom('service.beta.kubernetes.io/aws-load-balancer-target-group-attributes')),
    fc.oneof(dnsLabel, fc.constantFrom('', 'a,b', 'deregistration_delay.timeout_seconds=30', 'ünïcödé 💥', 'x'.repeat(1000))), { maxKeys: 2 }),
  fc.constantFrom<{ [key: string]: string }>({ 'bad key': 'v' }, { '': 'v' }, { 'example.com/': 'v' }, { 'ünï/x': 'v' }),
);

// ---------------------------------------------------------------------------------------------------------------
// Cases with a few hostile props: all-valid props (so that deep paths and synthesis are reached), then zero, one
// or two props replaced by hostile values. Rejections must name a property of the construct.
// ---------------------------------------------------------------------------------------------------------------

type Arbs<T> = { [K in keyof T]?: fc.Arbitrary<T[K]> };

/** A case: props and the keys that got hostile values. */
export interface PropsCase<T> {
  readonly props: T;
  /** The keys that got hostile values. */
  readonly hostile: string[];
  /** The props before the hostile values replaced some (the same as `props` when `hostile` is empty). */
  readonly valid: T;
}

/**
 * Props from `valid` (each optional key present two thirds of the time, `required` keys always), with zero
 * (half the cases), one or two keys overridden by a value from `hostile`.
 */
export function propsCase<T extends object>(valid: Arbs<T>, hostile: Arbs<T>, required: Array<keyof T> = []): fc.Arbitrary<PropsCase<T>> {
  const record = fc.record(valid as any, { requiredKeys: required as any }) as fc.Arbitrary<any>;
  const hostileKeys = Object.keys(hostile);
  const chosen = fc.oneof(
    { arbitrary: fc.constant([] as string[]), weight: 1 },
    { arbitrary: fc.subarray(hostileKeys, { minLength: 1, maxLength: Math.min(2, hostileKeys.length) }), weight: 1 },
  );
  return fc.tuple(record, chosen).chain(([props, keys]) => {
    if (keys.length === 0) return fc.constant({ props: props as T, hostile: [], valid: props as T });
    const overrides = fc.tuple(...keys.map(k => (hostile as any)[k] as fc.Arbitrary<unknown>));
    return overrides.map(values => {
      const merged: any = { ...props };
      keys.forEach((k, i) => { merged[k] = values[i]; });
      return { props: merged as T, hostile: keys, valid: props as T };
    });
  });
}

/** Props from `valid` only (each optional key present two thirds of the time, `required` keys always). */
export function validPropsCase<T extends object>(valid: Arbs<T>, required: Array<keyof T> = []): fc.Arbitrary<PropsCase<T>> {
  return (fc.record(valid as any, { requiredKeys: required as any }) as fc.Arbitrary<any>)
    .map(props => ({ props: props as T, hostile: [], valid: props as T }));
}

/**
 * Mostly `clean` cases (every value valid and consistent, so that they synthesise and feed the round trip), the
 * rest from `any` (hostile values and conflicts, so that rejections keep being checked for naming a property).
 */
export function biased<T>(clean: fc.Arbitrary<T>, any: fc.Arbitrary<T>, cleanWeight: number, anyWeight = 1): fc.Arbitrary<T> {
  return fc.oneof({ arbitrary: clean, weight: cleanWeight }, { arbitrary: any, weight: anyWeight });
}

/**
 * When a case with hostile props was rejected but the same case with the valid values is accepted, the hostile
 * values caused the rejection: its message must name one of the varied props (or an alias: the option path the
 * message uses, such as "autoscaling.maxReplicas" for `autoscaling`).
 */
export function expectRejectionNamesVaried(outcome: Outcome, varied: string[], rebuildWithValidValues: () => Outcome,
  aliases: { [key: string]: string[] } = {}): void {
  if (outcome.accepted || varied.length === 0) return;
  if (!rebuildWithValidValues().accepted) return;
  const names = varied.flatMap(k => [k, ...(aliases[k] ?? [])]);
  if (!names.some(n => outcome.error.message.includes(n))) {
    throw new Error(`rejected because of the varied ${varied.join(', ')}, but the message names none of them: ${outcome.error.message}`);
  }
}
