import * as fs from 'fs';
import * as path from 'path';
import { Testing } from 'cdk8s';
import * as yaml from 'js-yaml';
import {
  AccessLogScope, AmbientWorkload, ClientAddressAccessLog, GatewayFlavour, MeshWorkload, PreservedIngressGateway, TproxyWorkload, Waypoint,
  WorkloadSource,
} from '../../src';
import { manifestsOfKind, synthAndValidate } from '../harness';

describe('ClientAddressAccessLog', () => {
  test('one Telemetry per target, selecting exactly its pods, with the JSON provider; valid against every Istio CRD bundle', () => {
    // GIVEN a gateway of each flavour and a workload
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway');
    gateway.addHttpServer();
    const api = new PreservedIngressGateway(chart, 'Api', { name: 'api', flavour: GatewayFlavour.GATEWAY_API });
    api.addHttpServer();
    const workload = new TproxyWorkload(chart, 'Httpbin', { source: WorkloadSource.newDeployment({ image: 'kennethreitz/httpbin', name: 'httpbin', port: 80, labels: { app: 'httpbin' } }) });
    // WHEN
    const log = new ClientAddressAccessLog(chart, 'AccessLog', { targets: [gateway, api, workload, gateway] });
    // THEN
    const telemetries = manifestsOfKind(synthAndValidate(chart), 'Telemetry');
    expect(telemetries.map(t => [t.apiVersion, t.metadata.namespace, t.spec])).toEqual([
      ['telemetry.istio.io/v1', 'istio-ingress', { accessLogging: [{ providers: [{ name: 'client-address-json' }] }], selector: { matchLabels: { app: 'ingressgateway', istio: 'ingressgateway' } } }],
      ['telemetry.istio.io/v1', 'istio-ingress', { accessLogging: [{ providers: [{ name: 'client-address-json' }] }], selector: { matchLabels: { 'gateway.networking.k8s.io/gateway-name': 'api' } } }],
      ['telemetry.istio.io/v1', 'default', { accessLogging: [{ providers: [{ name: 'client-address-json' }] }], selector: { matchLabels: { app: 'httpbin' } } }],
    ]);
    expect(log.telemetries).toHaveLength(3);
    expect(log.provider).toBe('client-address-json');
  });

  test('ids follow the targets, not their order', () => {
    const names = (reverse: boolean) => {
      const chart = Testing.chart();
      const a = MeshWorkload.fromLabels(chart, 'A', { labels: { app: 'a' } });
      const b = MeshWorkload.fromLabels(chart, 'B', { labels: { app: 'b' } });
      const log = new ClientAddressAccessLog(chart, 'Log', { targets: reverse ? [b, a] : [a, b], provider: 'envoy' });
      return log.telemetries.map(t => `${t.node.id} ${t.name}`).sort();
    };
    expect(names(true)).toEqual(names(false));
  });

  test('a waypoint is selected by targetRefs', () => {
    const chart = Testing.chart();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
    new ClientAddressAccessLog(chart, 'Log', { targets: [waypoint] });
    const [telemetry] = manifestsOfKind(synthAndValidate(chart), 'Telemetry');
    expect(telemetry.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }]);
    expect(telemetry.spec.selector).toBeUndefined();
  });

  test('namespace and mesh scope only when asked for, without a selector', () => {
    const chart = Testing.chart();
    new ClientAddressAccessLog(chart, 'Ns', { scope: AccessLogScope.NAMESPACE, namespace: 'web', provider: 'envoy' });
    new ClientAddressAccessLog(chart, 'Mesh', { scope: AccessLogScope.MESH });
    const telemetries = manifestsOfKind(synthAndValidate(chart), 'Telemetry');
    expect(telemetries.map(t => [t.metadata.namespace, t.spec])).toEqual([
      ['web', { accessLogging: [{ providers: [{ name: 'envoy' }] }] }],
      ['istio-system', { accessLogging: [{ providers: [{ name: 'client-address-json' }] }] }],
    ]);
  });

  test('meshConfigProvider: envoyFileAccessLog with the client fields as JSON labels, and the header when given', () => {
    const provider = ClientAddressAccessLog.meshConfigProvider({ clientAddressHeader: 'x-real-ip' });
    expect(provider.name).toBe('client-address-json');
    expect(provider.envoyFileAccessLog.path).toBe('/dev/stdout');
    expect(provider.envoyFileAccessLog.logFormat.labels).toEqual(expect.objectContaining({
      downstream_remote_address: '%DOWNSTREAM_REMOTE_ADDRESS%',
      downstream_direct_remote_address: '%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%',
      x_forwarded_for: '%REQ(X-FORWARDED-FOR)%',
      x_envoy_external_address: '%REQ(X-ENVOY-EXTERNAL-ADDRESS)%',
      upstream_host: '%UPSTREAM_HOST%',
      client_address_header: '%REQ(X-REAL-IP)%',
    }));
    expect(ClientAddressAccessLog.meshConfigProvider().envoyFileAccessLog.logFormat.labels).not.toHaveProperty('client_address_header');
  });

  test('docs/client-address.md shows the entry meshConfigProvider() returns', () => {
    // GIVEN the extensionProviders block of the docs
    const markdown = fs.readFileSync(path.join(__dirname, '..', '..', 'docs', 'client-address.md'), 'utf-8');
    const block = /```yaml\n([\s\S]*?extensionProviders:[\s\S]*?)```/.exec(markdown)![1];
    // WHEN read THEN it is the construct's entry with the header
    expect(yaml.load(block)).toEqual({ extensionProviders: [ClientAddressAccessLog.meshConfigProvider({ clientAddressHeader: 'x-real-ip' })] });
  });

  test('fails without targets, with an empty selector, on an ambient workload, and on targets with a wider scope', () => {
    const chart = Testing.chart();
    expect(() => new ClientAddressAccessLog(chart, 'None', {})).toThrow(/targets is empty: give the gateways and workloads whose proxies should log, or ask for scope AccessLogScope.NAMESPACE or AccessLogScope.MESH/);
    const ambient = AmbientWorkload.fromLabels(chart, 'Ambient', { labels: { app: 'a' }, namespace: 'web' });
    expect(() => new ClientAddressAccessLog(chart, 'AmbientLog', { targets: [ambient] })).toThrow(/is an ambient workload, which is not allowed: ztunnel has no HTTP access log/);
    const empty = { ...MeshWorkload.fromLabels(chart, 'M', { labels: { app: 'm' } }), node: chart.node, targetSelector: {}, targetNamespace: 'web', targetRole: 'sidecar' } as any;
    expect(() => new ClientAddressAccessLog(chart, 'Empty', { targets: [empty] })).toThrow(/selects its pods with selector \{\}, which is not allowed: a Telemetry with an empty selector applies to every workload in namespace "web"/);
    const gateway = new PreservedIngressGateway(chart, 'Gateway');
    expect(() => new ClientAddressAccessLog(chart, 'Wide', { targets: [gateway], scope: AccessLogScope.MESH })).toThrow(/targets is not allowed with scope mesh/);
    expect(() => new ClientAddressAccessLog(chart, 'NoNs', { scope: AccessLogScope.NAMESPACE })).toThrow(/namespace "undefined" is not a valid DNS-1123 label/);
    expect(() => ClientAddressAccessLog.meshConfigProvider({ clientAddressHeader: 'X-Real-IP' })).toThrow(/write header names in lower case/);
  });
});
