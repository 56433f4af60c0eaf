import { Chart, Testing } from 'cdk8s';
import {
  Explainer, Finding, FindingSeverity, LoadBalancerProfile, MeshWorkload, ProxyProtocolGateway, ProxyProtocolMode, XffFilterScope,
  XffSidecarFilter, XffTrust,
} from '../../src';
import { findingText } from '../../src/model/finding-text';
import { checkGatewayPorts } from '../../src/model/gateway-checks';
import { Topology } from '../../src/model/topology';
import { checkXffFilterOverlaps } from '../../src/model/xff-filter-checks';
import { synthAndValidate } from '../harness';
import { unvalidatedManifests, validationErrors } from '../harness/unvalidated';

/*
 * The XFF filter overlap check and the gateway port checks are one function each in src/model: the constructs
 * report their findings as validation errors, `explain` prints them. Here both run on the same objects (the
 * constructs' output, rendered without validation where the constructs refuse it) and must agree.
 */

/** The ERROR findings explain reports on `manifests` that `pick` selects. */
function explainErrors(manifests: any[], pick: (f: Finding) => boolean): Finding[] {
  return Explainer.fromManifests(manifests).allFindings().filter(f => f.severity === FindingSeverity.ERROR && pick(f));
}

const isOverlap = (f: Finding) => /may select the same sidecar port with different settings/.test(f.message);
const isPortCheck = (f: Finding) => /^proxyProtocolPorts /.test(f.message);

function xffFilters(chart: Chart): XffSidecarFilter[] {
  return Topology.of(chart).xffFilters.filter((f): f is XffSidecarFilter => f instanceof XffSidecarFilter);
}

describe('XFF filter overlaps', () => {
  test('fails two filters on one sidecar port, and explain reports the same findings on their EnvoyFilters', () => {
    // GIVEN a workload filter and a mesh-wide filter with different settings
    const chart = Testing.chart();
    const workload = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
    new XffSidecarFilter(chart, 'App', { workload, trust: XffTrust.trustedHops(1), name: 'app-xff' });
    new XffSidecarFilter(chart, 'Mesh', { scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress(), name: 'mesh-xff' });

    // WHEN the constructs validate, and explain reads what they render
    const constructErrors = validationErrors(chart);
    const shared = checkXffFilterOverlaps(xffFilters(chart).map(f => f._xffFilterModel()));
    const explained = explainErrors(unvalidatedManifests(chart), isOverlap);

    // THEN the shared check finds one overlap per filter, both sides report exactly those findings
    expect(shared.map(f => f.where)).toEqual(['EnvoyFilter apps/app-xff', 'EnvoyFilter istio-system/mesh-xff']);
    expect(shared[0].message).toBe('filters "apps/app-xff" (trusted-hops in apps, app=httpbin) and "istio-system/mesh-xff" (use-remote-address in istio-system, scope mesh) '
      + 'may select the same sidecar port with different settings: their MERGEs combine into one connection manager (Envoy rejects detection extensions mixed with trusted hops or use_remote_address)');
    expect(sortFindings(explained)).toEqual(sortFindings(shared));
    expect(constructErrors).toEqual([`[test/App] ${findingText(shared[0])}`, `[test/Mesh] ${findingText(shared[1])}`]);
  });

  test('filters with the same settings, disjoint selectors or different ports: no finding on either side', () => {
    // GIVEN three filters that never MERGE different settings into one sidecar port
    const chart = Testing.chart();
    new XffSidecarFilter(chart, 'A', { selector: { app: 'a' }, namespace: 'apps', trust: XffTrust.trustedHops(1), name: 'a-xff' });
    new XffSidecarFilter(chart, 'C', { selector: { app: 'c' }, namespace: 'apps', trust: XffTrust.useRemoteAddress(), name: 'c-xff' });
    new XffSidecarFilter(chart, 'A8080', { selector: { app: 'a' }, namespace: 'apps', portNumber: 8080, trust: XffTrust.trustedHops(1), name: 'a8080-xff' });
    new XffSidecarFilter(chart, 'B9000', { selector: { app: 'b' }, namespace: 'apps', portNumber: 9000, trust: XffTrust.trustedCidrs(['10.0.0.0/8']), name: 'b9000-xff' });
    new XffSidecarFilter(chart, 'B9001', { selector: { app: 'b' }, namespace: 'apps', portNumber: 9001, trust: XffTrust.trustedCidrs(['10.0.0.0/8']), name: 'b9001-xff' });

    // WHEN
    const manifests = synthAndValidate(chart);

    // THEN
    expect(manifests).toHaveLength(5);
    expect(checkXffFilterOverlaps(xffFilters(chart).map(f => f._xffFilterModel()))).toEqual([]);
    expect(explainErrors(manifests, isOverlap)).toEqual([]);
  });

  test('fails a port-limited filter against an every-port filter on the same pods, on both sides', () => {
    // GIVEN trusted CIDRs on port 8000 and trusted hops on every port of the same pods
    const chart = Testing.chart();
    new XffSidecarFilter(chart, 'Every', { selector: { app: 'httpbin' }, namespace: 'apps', trust: XffTrust.trustedHops(2), name: 'every-xff' });
    new XffSidecarFilter(chart, 'Port', { selector: { app: 'httpbin', version: 'v1' }, namespace: 'apps', portNumber: 8000, trust: XffTrust.trustedCidrs(['10.0.0.0/8']), name: 'port-xff' });

    // WHEN
    const shared = checkXffFilterOverlaps(xffFilters(chart).map(f => f._xffFilterModel()));
    const explained = explainErrors(unvalidatedManifests(chart), isOverlap);

    // THEN
    expect(shared).toHaveLength(2);
    expect(sortFindings(explained)).toEqual(sortFindings(shared));
    expect(validationErrors(chart)).toEqual([`[test/Every] ${findingText(shared[0])}`, `[test/Port] ${findingText(shared[1])}`]);
  });
});

describe('gateway port checks', () => {
  function tcpGateway(chart: Chart, props: ConstructorParameters<typeof ProxyProtocolGateway>[2]): ProxyProtocolGateway {
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { name: 'tcp-gw', namespace: 'ingress', inClusterCallers: false, ...props });
    gw.addTcpServer({ port: 9000 });
    return gw;
  }

  test('fails a PROXY port without a server, and explain reports the same finding', () => {
    // GIVEN per-port PROXY on 9000 and on 9100, which has no server
    const chart = Testing.chart();
    const gw = tcpGateway(chart, { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [9000, 9100] });

    // WHEN
    const shared = checkGatewayPorts(gw._gatewayModel()!, false);
    const explained = explainErrors(unvalidatedManifests(chart), isPortCheck);

    // THEN
    expect(shared).toEqual([{
      severity: FindingSeverity.ERROR,
      where: 'gateway ingress/tcp-gw',
      message: 'proxyProtocolPorts [9100] have no server on gateway "tcp-gw" (servers: [9000])',
      fix: 'add the servers or remove the ports',
    }]);
    expect(explained).toEqual(shared);
    expect(validationErrors(chart)).toEqual([`[test/Gateway] ${findingText(shared[0])}`]);
  });

  test('fails ports left without PROXY when the load balancer\'s annotations send it on every port, on both sides', () => {
    // GIVEN an AWS NLB whose annotation switches PROXY on for every target group, and PROXY only on 9000
    const chart = Testing.chart();
    const gw = tcpGateway(chart, {
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [9000],
    });
    gw.addTcpServer({ port: 9100 });

    // WHEN
    const shared = checkGatewayPorts(gw._gatewayModel()!, true);
    const explained = explainErrors(unvalidatedManifests(chart), isPortCheck);

    // THEN
    const leftWithout = /^proxyProtocolPorts \[9000\] leave ports \[9100\] without PROXY, but the load balancer's Service annotations switch PROXY on for every port/;
    expect(shared.map(f => f.message)).toEqual([expect.stringMatching(leftWithout)]);
    expect(explained).toEqual(shared);
    expect(validationErrors(chart)).toEqual([`[test/Gateway] ${findingText(shared[0])}`]);
  });

  test('per-port PROXY with the annotations turned off: no finding on either side', () => {
    // GIVEN the same gateway, with PROXY switched on per listener by hand (the library's fact annotation instead)
    const chart = Testing.chart();
    const gw = tcpGateway(chart, {
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
      proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT,
      proxyProtocolPorts: [9000],
      loadBalancerProxyProtocolAnnotations: false,
    });
    gw.addTcpServer({ port: 9100 });

    // WHEN
    const manifests = synthAndValidate(chart);

    // THEN
    expect(checkGatewayPorts(gw._gatewayModel()!, false)).toEqual([]);
    expect(explainErrors(manifests, isPortCheck)).toEqual([]);
  });
});

function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort((a, b) => `${a.where}|${a.message}`.localeCompare(`${b.where}|${b.message}`));
}
