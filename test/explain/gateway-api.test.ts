import { Testing } from 'cdk8s';
import {
  ClientIpField, Explainer, ExternalTrafficPolicy, FindingSeverity, GatewayFlavour, IstioVersion, PreservedIngressGateway,
} from '../../src';
import { parseManifests, parseYamlDocuments } from '../../src/explain/manifest-parser';
import { synthAndValidate } from '../harness';

/* Hand-written Gateway API objects, as users keep them: explain reads the gateway Istio deploys for them. */

const YAML = `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: edge
  namespace: ingress
  annotations:
    proxy.istio.io/config: '{"gatewayTopology":{"numTrustedProxies":1}}'
spec:
  gatewayClassName: istio
  infrastructure:
    parametersRef: { group: "", kind: ConfigMap, name: edge-options }
  listeners:
  - { name: http, port: 80, protocol: HTTP, hostname: app.example.com }
  - name: https
    port: 443
    protocol: HTTPS
    tls: { mode: Terminate, certificateRefs: [{ name: app-cert }] }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: edge-options, namespace: ingress }
data:
  service: |
    spec:
      externalTrafficPolicy: Local
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: app, namespace: ingress }
spec:
  parentRefs: [{ name: edge }]
  rules:
  - backendRefs: [{ name: web, namespace: apps, port: 8080 }]
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: apps }
spec: { selector: { app: web }, ports: [{ port: 8080 }] }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: apps }
spec: { template: { metadata: { labels: { app: web } } } }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: office-only, namespace: ingress }
spec:
  targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: edge }]
  action: ALLOW
  rules:
  - from: [{ source: { remoteIpBlocks: ["203.0.113.0/24"] } }]
`;

describe('explain: Gateway API gateways of class istio', () => {
  test('a Gateway, its parametersRef ConfigMap and HTTPRoute become a gateway with Local, its listeners and a route to the app', () => {
    // GIVEN
    const objects = parseYamlDocuments(YAML);
    // WHEN
    const parsed = parseManifests(objects);
    // THEN
    expect(parsed.gateways).toHaveLength(1);
    const gateway = parsed.gateways[0].model;
    expect(gateway).toMatchObject({
      name: 'edge',
      namespace: 'ingress',
      selector: { 'gateway.networking.k8s.io/gateway-name': 'edge' },
      externalTrafficPolicy: ExternalTrafficPolicy.LOCAL,
      numTrustedProxies: 1,
      serviceName: 'edge-istio',
    });
    expect(gateway.servers).toEqual([
      { port: 80, protocol: 'HTTP', hosts: ['app.example.com'], targetPort: 80 },
      { port: 443, protocol: 'HTTPS', hosts: ['*'], tlsMode: 'SIMPLE', targetPort: 443 },
    ]);
    expect([...(parsed.routes.get('ingress/edge')?.keys() ?? [])]).toEqual(['apps/web']);
    expect(parsed.skipped).toEqual([]);
  });

  test('a policy with targetRefs to the Gateway reaches the gateway pods only, not the whole namespace', () => {
    // GIVEN
    const objects = parseYamlDocuments(YAML);
    // WHEN
    const parsed = parseManifests(objects);
    const report = Explainer.fromManifests(objects);
    // THEN
    expect(parsed.policies).toEqual([expect.objectContaining({
      name: 'office-only',
      selector: { 'gateway.networking.k8s.io/gateway-name': 'edge' },
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'edge' }],
      field: ClientIpField.REMOTE_IP_BLOCKS,
    })]);
    expect(report.allFindings().filter(f => /targetRefs is ignored/.test(f.message))).toEqual([]);
    const gatewayHop = report.paths[0].hops.find(h => h.hop.startsWith('gateway'));
    expect(JSON.stringify(gatewayHop)).toMatch(/office-only/);
  });

  test('a targetRefs policy in the root namespace does not reach a Gateway of the same name in another namespace', () => {
    // GIVEN the same policy moved to istio-system, where a selector would reach every namespace
    const objects = parseYamlDocuments(YAML).map((o: any) => o.kind === 'AuthorizationPolicy'
      ? { ...o, metadata: { ...o.metadata, namespace: 'istio-system' } } : o);
    // WHEN
    const report = Explainer.fromManifests(objects);
    // THEN targetRefs name objects of the policy's own namespace only: the gateway in "ingress" has no policy
    const gatewayHop = report.paths[0].hops.find(h => h.hop.startsWith('gateway'));
    expect(gatewayHop?.policies).toEqual([]);
    expect(report.allFindings().filter(f => f.where.includes('office-only') && f.severity === FindingSeverity.ERROR)).toEqual([]);
  });

  test('without its ConfigMap in the input the Service is taken as Istio makes it (Cluster), with a warning', () => {
    // GIVEN
    const objects = parseYamlDocuments(YAML).filter(o => o.kind !== 'ConfigMap');
    // WHEN
    const parsed = parseManifests(objects);
    // THEN
    expect(parsed.gateways[0].model.externalTrafficPolicy).toBe(ExternalTrafficPolicy.CLUSTER);
    expect(parsed.findings.filter(f => f.severity === FindingSeverity.WARNING).map(f => f.message))
      .toEqual([expect.stringMatching(/parametersRef names ConfigMap ingress\/"?edge-options"?, which is not in the input/)]);
  });

  test('infrastructure.annotations replace the Gateway\'s annotations on the pods', () => {
    // GIVEN the topology only in the metadata annotations, and infrastructure.annotations set without it
    const objects = parseYamlDocuments(YAML.replace('  infrastructure:\n', '  infrastructure:\n    annotations: { team: edge }\n'));
    // WHEN
    const parsed = parseManifests(objects);
    // THEN the pods do not get it: no trusted proxies
    expect(parsed.gateways[0].model.numTrustedProxies).toBe(0);
  });

  test('fails to read a parametersRef that is not a ConfigMap', () => {
    // GIVEN
    const objects = parseYamlDocuments(YAML.replace('kind: ConfigMap, name: edge-options', 'kind: Secret, name: edge-options'));
    // WHEN
    const parsed = parseManifests(objects);
    // THEN
    expect(parsed.findings.filter(f => f.severity === FindingSeverity.ERROR).map(f => f.message))
      .toEqual([expect.stringMatching(/parametersRef .* is not a ConfigMap/)]);
  });

  test('other classes and manually deployed Gateways are listed as skipped; waypoints are read as waypoints', () => {
    // GIVEN
    const gateway = (name: string, spec: object) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'ingress' }, spec });
    const objects = [
      gateway('waypoint', { gatewayClassName: 'istio-waypoint', listeners: [] }),
      gateway('other', { gatewayClassName: 'nginx', listeners: [] }),
      gateway('manual', { gatewayClassName: 'istio', addresses: [{ type: 'Hostname', value: 'edge.ingress.svc.cluster.local' }], listeners: [] }),
    ];
    // WHEN
    const report = Explainer.fromManifests(objects);
    // THEN
    expect(report.skipped.map(s => [s.object, s.reason.split(':')[0].split(' is ')[0]])).toEqual([
      ['Gateway ingress/other', 'Gateway of class "nginx"'],
      ['Gateway ingress/manual', 'Gateway with a Hostname address'],
    ]);
    expect(report.paths).toEqual([]);
    expect(parseManifests(objects).waypoints.map(w => `${w.namespace}/${w.name}`)).toEqual(['ingress/waypoint']);
  });

  test('the Istio release written on a synthesised Gateway API Gateway is the one explain assumes', () => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API, istioVersion: IstioVersion.V1_26 });
    gateway.addHttpServer();
    gateway.addRoute({ backendHost: 'web.istio-ingress.svc.cluster.local', backendPort: 80 });
    // WHEN
    const parsed = parseManifests(synthAndValidate(chart, { istioVersion: IstioVersion.V1_26 }));
    // THEN
    expect(parsed.istioVersion).toBe(IstioVersion.V1_26);
    expect(parsed.gateways.map(g => g.model.serviceName)).toEqual(['ingressgateway-istio']);
  });
});
