import { ApiObject, Chart, Testing } from 'cdk8s';
import {
  LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolBackend, ProxyProtocolGateway, SourceIpWarnings, TproxyWorkload, WorkloadSource,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

/*
 * Backend hosts of gateway routes are resolved explicitly (a short name in the route's namespace, with a warning
 * when the Service lives elsewhere), and Service ports carry the protocol the routes and backends send.
 */

function httpGateway(chart: Chart): PreservedIngressGateway {
  const gw = new PreservedIngressGateway(chart, 'Gateway', { namespace: 'istio-system' });
  gw.addHttpServer({ hosts: ['app.example.com'] });
  return gw;
}

function tcpGateway(chart: Chart): ProxyProtocolGateway {
  const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
  gw.addTcpServer({ port: 9000 });
  return gw;
}

function echo(chart: Chart, name = 'echo'): TproxyWorkload {
  return new TproxyWorkload(chart, 'Echo', { source: WorkloadSource.newDeployment({ image: 'echoserver', name, namespace: 'apps', port: 8080, servicePort: 9000 }) });
}

function servicePort(manifests: any[], name: string): any {
  return manifestsOfKind(manifests, 'Service').find(s => s.metadata.name === name).spec.ports[0];
}

describe('backend hosts', () => {
  test('a short backendHost is written out in the route\'s namespace, with a warning naming the Service\'s namespace', () => {
    // GIVEN a gateway in istio-system and Service httpbin in apps
    const chart = Testing.chart();
    new TproxyWorkload(chart, 'Httpbin', { source: WorkloadSource.newDeployment({ image: 'httpbin', name: 'httpbin', namespace: 'apps', port: 8080, servicePort: 8000 }) });
    // WHEN
    httpGateway(chart).addRoute({ backendHost: 'httpbin', backendPort: 8000 });
    const manifests = synthAndValidate(chart);
    // THEN
    expect(findManifest(manifests, 'VirtualService').spec.http[0].route[0].destination.host).toBe('httpbin.istio-system.svc.cluster.local');
    expect(SourceIpWarnings.messages(chart)).toContain('addRoute backendHost "httpbin" is a short name: Istio resolves it in the route\'s namespace "istio-system" to httpbin.istio-system.svc.cluster.local, '
      + 'but Service "httpbin" is in namespace "apps"; write the full host, e.g. "httpbin.apps.svc.cluster.local"');
    expect(manifests).toMatchSnapshot();
  });

  test('no warning when the Service is in the route\'s namespace', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = httpGateway(chart);
    new ApiObject(chart, 'Local', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'local', namespace: 'istio-system' }, spec: { ports: [{ port: 80, name: 'http' }] } });
    // WHEN
    gw.addRoute({ backendHost: 'local', backendPort: 80 });
    const manifests = synthAndValidate(chart);
    // THEN
    expect(findManifest(manifests, 'VirtualService').spec.http[0].route[0].destination.host).toBe('local.istio-system.svc.cluster.local');
    expect(SourceIpWarnings.messages(chart).filter(m => /short name/.test(m))).toEqual([]);
  });

  test('a short backendHost with no Service of that name in the app warns that it resolves in the gateway\'s namespace (issue 25)', () => {
    // GIVEN a gateway in istio-system and no Service "httpbin" in the app (the user means default)
    const chart = Testing.chart();
    const gw = httpGateway(chart);
    // WHEN
    gw.addRoute({ backendHost: 'httpbin', backendPort: 8000 });
    const manifests = synthAndValidate(chart);
    // THEN the host is written out, and the user hears where it resolves
    expect(findManifest(manifests, 'VirtualService').spec.http[0].route[0].destination.host).toBe('httpbin.istio-system.svc.cluster.local');
    expect(SourceIpWarnings.messages(chart).filter(m => /short name/.test(m))).toEqual([
      'addRoute backendHost "httpbin" is a short name: Istio resolves it in the route\'s namespace "istio-system" to httpbin.istio-system.svc.cluster.local, '
      + 'and this app has no Service "httpbin" there; if the Service is in another namespace, write its full host, e.g. "httpbin.default.svc.cluster.local"',
    ]);
  });

  test('a full backendHost never warns', () => {
    const chart = Testing.chart();
    httpGateway(chart).addRoute({ backendHost: 'httpbin.default.svc.cluster.local', backendPort: 8000 });
    synthAndValidate(chart);
    expect(SourceIpWarnings.messages(chart).filter(m => /short name/.test(m))).toEqual([]);
  });
});

describe('Service port protocol from the routes and backends', () => {
  test('a newDeployment Service behind addTcpRoute gets a "tcp" port with appProtocol tcp', () => {
    // GIVEN
    const chart = Testing.chart();
    echo(chart);
    // WHEN
    tcpGateway(chart).addTcpRoute({ port: 9000, backendHost: 'echo.apps.svc.cluster.local', backendPort: 9000 });
    const manifests = synthAndValidate(chart);
    // THEN
    expect(servicePort(manifests, 'echo')).toEqual({ name: 'tcp', appProtocol: 'tcp', port: 9000, targetPort: 8080 });
  });

  test('a newDeployment Service behind a ProxyProtocolBackend gets a "tcp" port', () => {
    const chart = Testing.chart();
    const w = echo(chart);
    new ProxyProtocolBackend(chart, 'Backend', { host: 'echo', workload: w, port: 8080 });
    const manifests = synthAndValidate(chart);
    expect(servicePort(manifests, 'echo')).toMatchObject({ name: 'tcp', appProtocol: 'tcp' });
  });

  test('behind addTlsRoute "tls", behind addRoute "http" with appProtocol http, without routes unchanged', () => {
    // GIVEN three Services
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { namespace: 'istio-system' });
    gw.addHttpServer({ hosts: ['app.example.com'] });
    gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    for (const name of ['web', 'db', 'idle']) {
      new TproxyWorkload(chart, name, { source: WorkloadSource.newDeployment({ image: 'app', name, namespace: 'apps', port: 8080, servicePort: 9000 }) });
    }
    // WHEN
    gw.addRoute({ backendHost: 'web.apps.svc.cluster.local', backendPort: 9000 });
    gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'db.apps.svc.cluster.local', backendPort: 9000 });
    const manifests = synthAndValidate(chart);
    // THEN
    expect(servicePort(manifests, 'web')).toMatchObject({ name: 'http', appProtocol: 'http' });
    expect(servicePort(manifests, 'db')).toMatchObject({ name: 'tls', appProtocol: 'tls' });
    expect(servicePort(manifests, 'idle')).toEqual({ name: 'http', port: 9000, targetPort: 8080 });
  });

  test('fails when one newDeployment Service port is sent HTTP by one route and TCP by another', () => {
    const chart = Testing.chart();
    echo(chart);
    tcpGateway(chart).addTcpRoute({ port: 9000, backendHost: 'echo.apps.svc.cluster.local', backendPort: 9000 });
    const other = new PreservedIngressGateway(chart, 'Web', { name: 'web', namespace: 'istio-system' });
    other.addHttpServer();
    other.addRoute({ backendHost: 'echo.apps.svc.cluster.local', backendPort: 9000 });
    expect(() => chart.toJson()).toThrow(/newDeployment servicePort 9000 of Service "apps\/echo" is sent HTTP by addRoute on gateway "web" and raw TCP by addTcpRoute on gateway "proxy-protocol-gateway": one Service port carries one protocol/);
  });

  test('fails when an existing Service port named "http" is the backend of a TCP route', () => {
    // GIVEN the user's own Service
    const chart = Testing.chart();
    new ApiObject(chart, 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: 'db' }, spec: { ports: [{ name: 'http-mysql', port: 3306 }] } });
    // WHEN
    tcpGateway(chart).addTcpRoute({ port: 9000, backendHost: 'mysql.db.svc.cluster.local', backendPort: 3306 });
    // THEN
    expect(() => chart.toJson()).toThrow(/the Service "db\/mysql" port 3306 is named "http-mysql", so Istio treats its traffic as HTTP, but addTcpRoute on gateway "proxy-protocol-gateway" sends raw TCP to it: name the port "tcp" \(or set appProtocol: tcp\) on the Service/);
  });

  test('fails when an existing Service port with appProtocol http is a PROXY backend', () => {
    const chart = Testing.chart();
    new ApiObject(chart, 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'apps' }, spec: { ports: [{ name: 'echo', appProtocol: 'http', port: 9000 }] } });
    new ProxyProtocolBackend(chart, 'Backend', { host: 'echo', namespace: 'apps', selector: { app: 'echo' }, port: 9000 });
    expect(() => chart.toJson()).toThrow(/the Service "apps\/echo" port 9000 has appProtocol "http", so Istio treats its traffic as HTTP, but ProxyProtocolBackend "echo.apps.svc.cluster.local" sends raw TCP to it/);
  });

  test('an existing Service port named "tcp" behind a TCP route is fine', () => {
    const chart = Testing.chart();
    new ApiObject(chart, 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: 'db' }, spec: { ports: [{ name: 'tcp-mysql', port: 3306 }] } });
    tcpGateway(chart).addTcpRoute({ port: 9000, backendHost: 'mysql.db.svc.cluster.local', backendPort: 3306 });
    expect(manifestsOfKind(synthAndValidate(chart), 'VirtualService')).toHaveLength(1);
  });
});
