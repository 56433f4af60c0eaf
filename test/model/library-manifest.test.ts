import { Chart, JsonPatch, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { addGatewayApiCharts } from '../../examples/seed-scenarios/gateway-api';
import { addNorthSouthCharts } from '../../examples/seed-scenarios/north-south';
import { addPoliciesCharts } from '../../examples/seed-scenarios/policies';
import { addTcpCharts } from '../../examples/seed-scenarios/tcp';
import { EnvoyFilter } from '../../imports/networking.istio.io';
import { CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, GatewayFlavour, LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolGateway } from '../../src';
import { LibraryManifest } from '../../src/util/library-manifest';
import { isLibraryManifest, l1ConversionChanges } from '../harness/l1-conversion';

describe('LibraryManifest', () => {
  test('renders the manifest the L1 class of its kind renders, for every kind in the example app', () => {
    // GIVEN the example app's scenarios with gateways (classic and Gateway API), TCP, filters and policies
    const app = Testing.app();
    app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
    for (const add of [addNorthSouthCharts, addTcpCharts, addPoliciesCharts, addGatewayApiCharts]) add(app);
    // and a Gateway API TLSRoute and an autoscaled classic gateway, which the example does not have
    const gateway = new ProxyProtocolGateway(new Chart(app, 'tls-route'), 'Gateway', {
      flavour: GatewayFlavour.GATEWAY_API, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false,
    });
    gateway.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    gateway.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'postgres.db.svc.cluster.local', backendPort: 5433 });
    new PreservedIngressGateway(new Chart(app, 'autoscaled'), 'Gateway', { autoscaling: { minReplicas: 2, maxReplicas: 6 } }).addHttpServer();

    // WHEN
    const objects = app.node.findAll().filter(isLibraryManifest);

    // THEN every library-rendered kind is there, and the L1 conversion changes none of them
    expect([...new Set(objects.map(o => o.kind))].sort()).toEqual([
      'AuthorizationPolicy', 'ConfigMap', 'Deployment', 'DestinationRule', 'EnvoyFilter', 'Gateway', 'HTTPRoute',
      'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'ReferenceGrant', 'Role', 'RoleBinding', 'Service',
      'ServiceAccount', 'TCPRoute', 'TLSRoute', 'VirtualService',
    ]);
    expect(l1ConversionChanges(app)).toEqual([]);
  });

  test('is typed by the props of the L1 class it is given', () => {
    // GIVEN
    const chart = Testing.chart();

    // WHEN
    const filter = LibraryManifest.render(chart, 'Filter', EnvoyFilter, { metadata: { name: 'f', namespace: 'apps' }, spec: { configPatches: [] } });

    // THEN
    expect(filter.toJson()).toEqual({ apiVersion: EnvoyFilter.GVK.apiVersion, kind: 'EnvoyFilter', metadata: { name: 'f', namespace: 'apps' }, spec: { configPatches: [] } });
    expect(l1ConversionChanges(chart)).toEqual([]);
  });

  test('takes IntOrString values as the numbers and strings the manifest writes, which the conversion check accepts', () => {
    // GIVEN
    const chart = Testing.chart();

    // WHEN a Service and a PodDisruptionBudget, whose L1 props type targetPort and minAvailable as IntOrString
    const service = LibraryManifest.render(chart, 'Service', kplus.k8s.KubeService, {
      metadata: { name: 's' },
      spec: { ports: [{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 'https' }] },
    });
    LibraryManifest.render(chart, 'Budget', kplus.k8s.KubePodDisruptionBudget, { metadata: { name: 'b' }, spec: { minAvailable: '50%' } });

    // THEN
    expect(service.toJson().spec.ports).toEqual([{ port: 80, targetPort: 8080 }, { port: 443, targetPort: 'https' }]);
    expect(l1ConversionChanges(chart)).toEqual([]);
  });

  test('fails the conversion check for an IntOrString object (which the types refuse)', () => {
    // GIVEN a Service with an IntOrString object, which only the L1's toJson() turns into a number
    const chart = Testing.chart();
    LibraryManifest.render(chart, 'Service', kplus.k8s.KubeService, {
      metadata: { name: 's' },
      spec: { ports: [{ port: 80, targetPort: kplus.k8s.IntOrString.fromNumber(8080) as any }] },
    });

    // WHEN
    const changes = l1ConversionChanges(chart);

    // THEN
    expect(changes).toHaveLength(1);
    expect(changes[0]).toContain('the L1 conversion of Service changes it');
    expect(changes[0]).toContain('"targetPort":{"value":8080}');
  });

  test('fails the conversion check for a field the L1 type does not have', () => {
    // GIVEN an EnvoyFilter with a field that is not in its schema, which the L1 conversion would drop
    const chart = Testing.chart();
    LibraryManifest.render(chart, 'Filter', EnvoyFilter, { metadata: { name: 'f' }, spec: { configPatches: [], bogus: true } as any });

    // WHEN
    const changes = l1ConversionChanges(chart);

    // THEN
    expect(changes).toHaveLength(1);
    expect(changes[0]).toContain('"bogus":true');
  });
});

describe('LibraryManifest._writtenSpecOf', () => {
  test('is the spec the manifest resolves to, for every library Service of the example app, until a patch', () => {
    // GIVEN the example app's gateways, each with its Service
    const app = Testing.app();
    app.node.setContext(CHARTS_ARE_ALTERNATIVES_CONTEXT_KEY, true);
    for (const add of [addNorthSouthCharts, addTcpCharts, addGatewayApiCharts]) add(app);
    const services = app.node.findAll().filter(isLibraryManifest).filter(o => o.kind === 'Service');
    expect(services.length).toBeGreaterThan(3);
    // WHEN the written spec's selector is read without resolving
    // THEN it is the selector toJson() gives
    for (const service of services) {
      expect((LibraryManifest._writtenSpecOf(service) as any).selector).toEqual(service.toJson().spec.selector);
    }
    // and after a JSON patch (which may change it) nothing is claimed
    services[0].addJsonPatch(JsonPatch.replace('/spec/selector', { app: 'other' }));
    expect(LibraryManifest._writtenSpecOf(services[0])).toBeUndefined();
  });
});
