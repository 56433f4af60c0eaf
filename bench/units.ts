/*
 * Benchmark units. A gateway unit is a PreservedIngressGateway with an HTTPS server, a route and an IP
 * policy; a workload unit is a TPROXY workload with an XffSidecarFilter and a policy. The baseline builds
 * the same manifests as plain ApiObjects from a template of one unit, so both sides emit identical YAML.
 * The tree reference emits them too, from plain Constructs and ApiObjects laid out in the library's own construct
 * tree (same ids, same nesting), so that library against tree is what the library's code costs and tree against
 * baseline is what that tree costs cdk8s.
 */
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, ApiObjectProps, App, Chart, Testing } from 'cdk8s';
import { Construct } from 'constructs';
// Type-checked against src/; bench/run.ts points the transpiled copy at the compiled lib/ that users get.
import * as lib from '../src';

export type UnitKind = 'gateway' | 'workload';

/** Units per chart: pipelines split large apps into charts, and one chart per unit would hide per-chart costs. */
const UNITS_PER_CHART = Number(process.env.BENCH_UNITS_PER_CHART ?? 100);
const SENTINEL = 987654;

function addGatewayUnit(chart: Chart, i: number): void {
  const host = `app${i}.example.com`;
  const gateway = new lib.PreservedIngressGateway(chart, `Gateway${i}`, { name: `gw${i}`, namespace: 'ingress', loadBalancerProfile: lib.LoadBalancerProfile.AWS_NLB_INSTANCE });
  gateway.addHttpsServer({ hosts: [host], credentialName: `cert${i}` });
  gateway.addRoute({ host, backendHost: `app${i}.apps.svc.cluster.local`, backendPort: 8080 });
  gateway.allowFrom([cidrOctets(i)], { name: `gw${i}-allow` });
}

function addWorkloadUnit(chart: Chart, i: number): void {
  const labels = { app: `app${i}` };
  // The user's own Deployment, as most apps bring one (cdk8s-plus would add a path-hashed label the baseline cannot template).
  const deployment = new ApiObject(chart, `Deployment${i}`, {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `app${i}`, namespace: 'apps', labels },
    spec: {
      selector: { matchLabels: labels },
      template: { metadata: { labels }, spec: { containers: [{ name: 'app', image: 'docker.io/kennethreitz/httpbin', ports: [{ containerPort: 80 }] }] } },
    },
  });
  const workload = new lib.TproxyWorkload(chart, `Workload${i}`, { source: lib.WorkloadSource.fromApiObject(deployment) });
  new lib.XffSidecarFilter(chart, `Xff${i}`, { workload, trust: lib.XffTrust.trustedHops(1), name: `app${i}-xff` });
  workload.allowFrom([cidrOctets(i)], { name: `app${i}-allow` });
}

const ADD_UNIT: Record<UnitKind, (chart: Chart, i: number) => void> = { gateway: addGatewayUnit, workload: addWorkloadUnit };

/** An app of N units, UNITS_PER_CHART per chart, each added by `addUnit`. */
function appOfUnits(n: number, addUnit: (chart: Chart, i: number) => void): App {
  const app = new App({ outdir: path.join(__dirname, 'out', 'dist') });
  let chart: Chart | undefined;
  for (let i = 0; i < n; i++) {
    if (i % UNITS_PER_CHART === 0) chart = new Chart(app, `c${i / UNITS_PER_CHART}`);
    addUnit(chart!, i);
  }
  return app;
}

/** The library side: N units, UNITS_PER_CHART per chart. */
export function buildLibraryApp(kind: UnitKind, n: number): App {
  return appOfUnits(n, ADD_UNIT[kind]);
}

/** The manifests of one unit with its index replaced by a placeholder (made once, cached on disk). */
function unitTemplate(kind: UnitKind): string {
  const file = path.join(__dirname, 'out', `template-${kind}.json`);
  if (!fs.existsSync(file)) {
    const chart = Testing.chart();
    ADD_UNIT[kind](chart, SENTINEL);
    const manifests = Testing.synth(chart);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(manifests));
  }
  return fs.readFileSync(file, 'utf-8');
}

/** The CIDR the unit's policy uses, which encodes the index in two octets. */
function cidrOctets(i: number): string {
  return `10.${Math.floor(i / 256) % 256}.${i % 256}.0/24`;
}

/** A template made from the sentinel unit, with unit `i`'s index and CIDR in their place, parsed. */
function instantiate<T>(template: string, i: number): T {
  return JSON.parse(template.split(cidrOctets(SENTINEL)).join(cidrOctets(i)).split(String(SENTINEL)).join(String(i)));
}

/** The baseline: the same manifests, as plain ApiObjects. */
export function buildBaselineApp(kind: UnitKind, n: number): App {
  const template = unitTemplate(kind);
  return appOfUnits(n, (chart, i) => {
    instantiate<any[]>(template, i).forEach((m, j) => new ApiObject(chart, `u${i}-${j}`, m));
  });
}

/** One node of a unit's construct tree: its path below the chart, and its manifest when it is an ApiObject. */
interface TreeNode { readonly path: string[]; readonly manifest?: unknown }

/** The construct tree of one unit with its index replaced by a placeholder (made once, cached on disk). */
function unitTreeTemplate(kind: UnitKind): string {
  const file = path.join(__dirname, 'out', `tree-${kind}.json`);
  if (!fs.existsSync(file)) {
    const chart = Testing.chart();
    ADD_UNIT[kind](chart, SENTINEL);
    Testing.synth(chart); // validation, as the measured runs do, before the manifests are read
    const depth = chart.node.scopes.length;
    const nodes: TreeNode[] = chart.node.findAll().slice(1).map(c => ({
      path: c.node.scopes.slice(depth).map(s => s.node.id),
      manifest: c instanceof ApiObject ? c.toJson() : undefined,
    }));
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, JSON.stringify(nodes));
  }
  return fs.readFileSync(file, 'utf-8');
}

/** A class of its own for each node of a unit, made once: `tree-classes` has as many classes as the library has. */
type NodeClass = new (scope: Construct, id: string, manifest?: any) => Construct;
const classPerNode = new Map<string, NodeClass>();
function classFor(key: string, apiObject: boolean): NodeClass {
  let cls = classPerNode.get(key);
  if (!cls) {
    cls = apiObject ? class extends ApiObject {} : class extends Construct {};
    classPerNode.set(key, cls);
  }
  return cls;
}

/** A diagnostic variant of the tree reference (see `buildTreeApp`). */
export type TreeVariant = 'plain' | 'classes' | 'shared-ids' | 'no-wrappers';

/**
 * The tree reference: the library's construct tree and manifests, with no library code. Three diagnostics: with
 * `classes` each node of a unit is an instance of a class of its own, as in the library (cdk8s's walks over the app
 * read the same properties of every construct, and more classes make those reads slower); with `shared-ids` every
 * unit's policy keeps the template's id instead of one of its own; with `no-wrappers` every construct whose only
 * child is its `Resource` is replaced by that ApiObject under the construct's own id, which is what the house
 * style's wrapper-plus-`Resource` layout costs.
 */
export function buildTreeApp(kind: UnitKind, n: number, variant: TreeVariant = 'plain'): App {
  const template = unitTreeTemplate(kind);
  return appOfUnits(n, (chart, i) => {
    const parsed = instantiate<TreeNode[]>(template, i);
    const nodes = variant === 'no-wrappers' ? withoutWrappers(parsed) : parsed;
    const made = new Map<string, Construct>();
    for (const templateNode of nodes) {
      const unitPath = variant === 'shared-ids' ? templateNode.path : templateNode.path.map(id => uniquePolicyId(id, i));
      const parent = unitPath.length === 1 ? chart : made.get(unitPath.slice(0, -1).join('/'))!;
      const id = unitPath[unitPath.length - 1];
      // The same class for the same node of every unit: the template's path with the unit's index masked.
      const classKey = templateNode.path.join('/').replace(/\d+/g, '#');
      const distinctClasses = variant === 'classes';
      made.set(unitPath.join('/'), templateNode.manifest
        ? new (distinctClasses ? classFor(classKey, true) : ApiObject)(parent, id, templateNode.manifest as ApiObjectProps)
        : new (distinctClasses ? classFor(classKey, false) : Construct)(parent, id));
    }
  });
}

/** A unit's nodes with each construct whose only child is its `Resource` replaced by that ApiObject. */
function withoutWrappers(nodes: TreeNode[]): TreeNode[] {
  const key = (p: string[]) => p.join('/');
  const childCount = new Map<string, number>();
  for (const node of nodes.filter(x => x.path.length > 1)) {
    const parent = key(node.path.slice(0, -1));
    childCount.set(parent, (childCount.get(parent) ?? 0) + 1);
  }
  const resourceOf = new Map<string, TreeNode>();
  for (const node of nodes) {
    const parent = key(node.path.slice(0, -1));
    if (node.manifest && node.path[node.path.length - 1] === 'Resource' && childCount.get(parent) === 1) resourceOf.set(parent, node);
  }
  const folded = new Set(resourceOf.values());
  return nodes.filter(node => !folded.has(node)).map(node => {
    const resource = resourceOf.get(key(node.path));
    return resource ? { path: node.path, manifest: resource.manifest } : node;
  });
}

/**
 * The library names a policy made by `allowFrom()`/`denyFrom()` after a hash of what it matches, so every unit's
 * policy has an id of its own; the template's single id would make the tree cheaper than the library's (V8 gives
 * each construct whose first child id is new a hidden class of its own), so each unit gets an id of its own here too.
 */
function uniquePolicyId(id: string, unit: number): string {
  const match = /^(AllowFrom|DenyFrom)([0-9a-f]{8})(.*)$/.exec(id);
  if (!match) return id;
  const hash = createHash('sha256').update(`${match[2]}/${unit}`).digest('hex').slice(0, 8);
  return `${match[1]}${hash}${match[3]}`;
}

/** The app of one side of the comparison. */
export function buildApp(mode: string, kind: UnitKind, n: number): App {
  switch (mode) {
    case 'library': return buildLibraryApp(kind, n);
    case 'baseline': return buildBaselineApp(kind, n);
    case 'tree': return buildTreeApp(kind, n);
    case 'tree-classes': return buildTreeApp(kind, n, 'classes');
    case 'tree-shared-ids': return buildTreeApp(kind, n, 'shared-ids');
    case 'tree-no-wrappers': return buildTreeApp(kind, n, 'no-wrappers');
    default: throw new Error(`unknown bench mode "${mode}": use library, baseline, tree, tree-classes, tree-shared-ids or tree-no-wrappers`);
  }
}
