import { ApiObject, App, Chart, IResolver, JsonPatch, Lazy, ResolutionContext, Testing } from 'cdk8s';
import * as fc from 'fast-check';
import { TproxyWorkload, WorkloadSource, XffSidecarFilter, XffTrust } from '../../src';
import { plainPath, writtenLabels, writtenSpec } from '../../src/util/written-spec';

/*
 * TproxyWorkload reads the labels and the pod template of a user's plain ApiObject as written, instead of resolving
 * it, when nothing can change them (src/util/written-spec.ts). The judge is cdk8s's own `toJson()`: whenever the
 * written values are used they must equal what it gives, and the output must be the one the resolved object gives.
 */

/** The value at `path` below `spec` of the object's resolved manifest. */
function resolvedAt(apiObject: ApiObject, path: string[]): unknown {
  let value: any = (apiObject.toJson() as any).spec;
  for (const key of path) value = value?.[key];
  return value;
}

/** The plain values along `path` below the object's written spec, as the workload reads them (undefined: resolve it). */
function writtenSpecPath(apiObject: ApiObject, path: string[]): ReadonlyArray<{ readonly [key: string]: unknown }> | undefined {
  const written = writtenSpec(apiObject);
  return written && plainPath(written.spec, path);
}

/** A subclass: the reader never reads it as written, so it is the resolved side of every comparison. */
class ResolvedOnly extends ApiObject {}

/** Label maps as users write them: plain strings, a Lazy, a value that resolves away, or nothing. */
const labelValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('a', 'b', 'web', 'v1') },
  { weight: 1, arbitrary: fc.constant(Lazy.any({ produce: () => 'lazy' }) as unknown as string) },
  { weight: 1, arbitrary: fc.constant(undefined as unknown as string) },
);
const labels = fc.option(fc.dictionary(fc.constantFrom('app', 'version', 'tier', 'zone'), labelValue, { minKeys: 1, maxKeys: 3, noNullPrototype: true }), { nil: undefined });
const lazyOr = <T>(value: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 5, arbitrary: value }, { weight: 1, arbitrary: value.map(v => Lazy.any({ produce: () => v }) as unknown as T) });
const plain = { noNullPrototype: true };
const annotations = fc.option(fc.constant({ note: 'x' }), { nil: undefined });
const template = fc.record({
  metadata: fc.option(lazyOr(fc.record({ labels, annotations }, plain)), { nil: undefined }),
  spec: fc.constant({ containers: [{ name: 'app', image: 'docker.io/kennethreitz/httpbin' }] }),
}, plain);
const selector = fc.option(lazyOr(fc.record({ matchLabels: labels }, plain)), { nil: undefined });
const spec = fc.record({ selector, template: lazyOr(template) }, plain);

function deploymentWith(chart: Chart, id: string, s: unknown, cls: typeof ApiObject = ApiObject): ApiObject {
  return new cls(chart, id, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: id.toLowerCase(), namespace: 'apps' }, spec: s as any });
}

/** The manifests of an app with one TproxyWorkload (and a filter and a policy on it), or the error it fails with. */
function outcome(s: unknown, cls: typeof ApiObject): { manifests?: unknown[]; error?: string } {
  try {
    const chart = Testing.chart();
    const deployment = deploymentWith(chart, 'App', s, cls);
    const workload = new TproxyWorkload(chart, 'Workload', { source: WorkloadSource.fromApiObject(deployment) });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustedHops(1) });
    workload.allowFrom(['203.0.113.0/24'], { name: 'allow' });
    return { manifests: Testing.synth(chart) };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('written spec', () => {
  test('the values read as written are the resolved values (property)', () => {
    let readAsWritten = 0;
    fc.assert(fc.property(spec, s => {
      // GIVEN a user's Deployment with this spec, which cdk8s can render
      const deployment = deploymentWith(Testing.chart(), 'App', s);
      try {
        deployment.toJson();
      } catch {
        return;
      }
      // WHEN the reader reads its selector and pod template
      for (const path of [['selector'], ['template', 'metadata', 'annotations']]) {
        const values = writtenSpecPath(deployment, path);
        if (values === undefined) continue;
        // THEN every value it gives is what toJson() gives there, and a shorter list means a missing member
        values.forEach((v, i) => {
          const resolved = resolvedAt(deployment, path.slice(0, i));
          expect(Object.keys(resolved as object).sort()).toEqual(Object.keys(v).filter(k => v[k] !== undefined).sort());
        });
        if (values.length <= path.length) expect(resolvedAt(deployment, path.slice(0, values.length))).toBeUndefined();
        const labelsAt = values[path.length === 1 ? 1 : 2]?.[path.length === 1 ? 'matchLabels' : 'labels'];
        const read = writtenLabels(labelsAt);
        if (read === false) continue;
        readAsWritten++;
        expect(read).toEqual(resolvedAt(deployment, path.length === 1 ? ['selector', 'matchLabels'] : ['template', 'metadata', 'labels']));
      }
    }), { numRuns: 300 });
    // Most generated objects are plain: the property is not passed by resolving everything.
    expect(readAsWritten).toBeGreaterThan(200);
  });

  test('a TproxyWorkload gives the same output as on the resolved object (property)', () => {
    fc.assert(fc.property(spec, s => {
      // GIVEN the same spec as a plain ApiObject (read as written where possible) and as a subclass (always resolved)
      // WHEN an app with a TproxyWorkload, a filter and a policy on it is synthesised from each
      const written = outcome(s, ApiObject);
      const resolved = outcome(s, ResolvedOnly);
      // THEN both give the same manifests, or fail with the same message (cdk8s's own, when it cannot render the
      // Deployment: at synthesis for the one read as written, when the workload resolves it for the other)
      const unrenderable = /^Failed serializing construct at path 'test\/App'/;
      if (resolved.error !== undefined && unrenderable.test(resolved.error)) expect(written.error).toMatch(unrenderable);
      else expect(written).toEqual(resolved);
    }), { numRuns: 200 });
  });

  test('a JSON patch added before the workload is seen', () => {
    // GIVEN a Deployment whose pod labels a JSON patch replaces before the TproxyWorkload is created
    const chart = Testing.chart();
    const deployment = deploymentWith(chart, 'App', { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'old' } }, spec: {} } });
    deployment.addJsonPatch(JsonPatch.replace('/spec/template/metadata/labels', { app: 'web' }));
    // WHEN the reader reads it
    // THEN it does not read the written spec, and the workload accepts the patched labels
    expect(writtenSpecPath(deployment, ['selector'])).toBeUndefined();
    expect(() => new TproxyWorkload(chart, 'Workload', { source: WorkloadSource.fromApiObject(deployment) })).not.toThrow();
  });

  test('an app with a resolver of its own is resolved', () => {
    // GIVEN an app whose resolver renames every label value
    class Rename implements IResolver {
      public resolve(context: ResolutionContext): void {
        if (context.value === 'old') context.replaceValue('web');
      }
    }
    const chart = new Chart(new App({ resolvers: [new Rename()] }), 'c');
    const deployment = deploymentWith(chart, 'App', { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'old' } }, spec: {} } });
    // WHEN the reader reads it, and a TproxyWorkload is created on it
    // THEN it resolves the object: the pod labels are the renamed ones, which the selector selects
    expect(writtenSpecPath(deployment, ['selector'])).toBeUndefined();
    const workload = new TproxyWorkload(chart, 'Workload', { source: WorkloadSource.fromApiObject(deployment) });
    expect(workload.podLabels).toEqual({ app: 'web' });
  });

  test('label values that are not plain strings, and objects without a prototype, are resolved', () => {
    // GIVEN label maps with a Lazy value, an undefined value, and one without Object's prototype
    const bare = Object.assign(Object.create(null), { app: 'web' });
    // WHEN the reader reads them
    // THEN only toJson() can tell what they are
    expect(writtenLabels({ app: Lazy.any({ produce: () => 'web' }) })).toBe(false);
    expect(writtenLabels({ app: undefined })).toBe(false);
    expect(writtenLabels(bare)).toBe(false);
    expect(writtenLabels({ app: 'web' })).toEqual({ app: 'web' });
    expect(writtenLabels(undefined)).toBeUndefined();
  });

  test('a plain object with a resolve function is a token, not a label map', () => {
    // GIVEN a selector written as an implicit token
    const deployment = deploymentWith(Testing.chart(), 'App', {
      selector: { resolve: () => ({ matchLabels: { app: 'web' } }) },
      template: { metadata: { labels: { app: 'web' } }, spec: {} },
    });
    // WHEN the reader reads the selector
    // THEN it leaves it to toJson()
    expect(writtenSpecPath(deployment, ['selector'])).toBeUndefined();
  });

  test('fails with the same error for a workload without a pod template', () => {
    // GIVEN a plain Deployment without spec.template
    const written = outcome({ selector: { matchLabels: { app: 'web' } } }, ApiObject);
    const resolved = outcome({ selector: { matchLabels: { app: 'web' } } }, ResolvedOnly);
    // WHEN a TproxyWorkload is created on it
    // THEN both fail with the message naming the missing template
    expect(written.error).toMatch(/has no spec.template/);
    expect(written).toEqual(resolved);
  });
});
