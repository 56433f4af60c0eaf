import { Explainer } from '../../src';
import { parseManifests, parseYamlDocuments } from '../../src/explain/manifest-parser';

/*
 * Issue 25: explain reads what kubectl and istioctl read. An IstioOperator without metadata (istio.io's tasks
 * write it that way for `istioctl install -f`) and a List without metadata are read; a scalar document is skipped
 * with its reason, and the rest of the file is still read.
 */

/** As in istio.io's "Configuring gateway network topology" task (https://istio.io/latest/docs/ops/configuration/traffic-management/network-topologies/). */
const ISTIO_OPERATOR_WITHOUT_METADATA = `apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    defaultConfig:
      gatewayTopology:
        numTrustedProxies: 2
`;

describe('manifests as kubectl and istioctl read them', () => {
  test('an IstioOperator without metadata is read: its meshConfig gatewayTopology.numTrustedProxies applies to the gateway it installs', () => {
    // GIVEN / WHEN
    const report = Explainer.fromYaml(ISTIO_OPERATOR_WITHOUT_METADATA);
    const parsed = parseManifests(parseYamlDocuments(ISTIO_OPERATOR_WITHOUT_METADATA));
    // THEN nothing is skipped, and the default profile's istio-ingressgateway trusts two hops
    expect(report.skipped).toEqual([]);
    expect(parsed.gateways.map(g => [g.model.name, g.model.numTrustedProxies])).toEqual([['istio-ingressgateway', 2]]);
  });

  test('an IstioOperator without metadata next to the app is read the same (multi-document file)', () => {
    const yaml = `${ISTIO_OPERATOR_WITHOUT_METADATA}---
apiVersion: v1
kind: Service
metadata: { name: httpbin, namespace: default }
spec: { selector: { app: httpbin }, ports: [{ port: 8000 }] }
`;
    const parsed = parseManifests(parseYamlDocuments(yaml));
    expect(parsed.gateways[0].model.numTrustedProxies).toBe(2);
    expect(parsed.skipped).toEqual([]);
  });

  test('a List without metadata is read item by item, from text and from objects', () => {
    // GIVEN what `kubectl get svc -o yaml` prints, without its metadata
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'edge', namespace: 'istio-system' }, spec: { type: 'LoadBalancer', selector: { istio: 'ingressgateway' } } }],
    };
    // WHEN
    const fromText = Explainer.fromYaml(JSON.stringify(list));
    const fromObjects = Explainer.fromManifests([list]);
    const typedList = Explainer.fromManifests([{ ...list, kind: 'ServiceList' }]);
    // THEN the Service is read (not skipped), and the List itself is no object of its own
    for (const report of [fromText, fromObjects, typedList]) expect(report.skipped).toEqual([]);
  });

  test('a scalar document is skipped with a listed reason and every other object of the file is read', () => {
    // GIVEN a Service, a stray scalar, and an IstioOperator
    const yaml = `apiVersion: v1
kind: ConfigMap
metadata: { name: c, namespace: default }
---
oops
---
${ISTIO_OPERATOR_WITHOUT_METADATA}`;
    // WHEN
    const report = Explainer.fromYaml(yaml, {});
    const parsed = parseManifests(parseYamlDocuments(yaml));
    // THEN
    expect(report.skipped.map(s => [s.object, s.source, s.reason])).toEqual([
      ['ConfigMap default/c', 'input document 1', 'kind ConfigMap is not read by explain'],
      ['document string "oops"', 'input document 2', expect.stringMatching(/^not a Kubernetes object \(a map with apiVersion and kind\)/)],
    ]);
    expect(parsed.gateways[0].model.numTrustedProxies).toBe(2);
  });

  test('an object without metadata of another kind stays skipped, saying why', () => {
    const report = Explainer.fromYaml('apiVersion: v1\nkind: Service\nspec: { type: LoadBalancer }\n');
    expect(report.skipped.map(s => s.reason)).toEqual([expect.stringMatching(/^it has no metadata: kubectl and the API server refuse an object without metadata.name/)]);
  });
});
