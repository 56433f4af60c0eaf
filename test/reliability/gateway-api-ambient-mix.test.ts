import { Testing } from 'cdk8s';
import { addWebHttpbin } from '../../examples/seed-scenarios/ambient';
import {
  AmbientNamespace, AmbientWorkload, ClientIpField, Explainer, FindingSeverity, GatewayFlavour, IstioVersion, PreservedIngressGateway,
  SourceIpWarnings, Waypoint,
} from '../../src';
import { synthAndValidate } from '../harness';
import { assertRoundTrip } from '../property/round-trip';

// The two new data paths together: a Gateway API gateway in front of an ambient workload, with and without a waypoint.
describe('a Gateway API gateway in front of ambient workloads', () => {
  function build(withWaypoint: boolean) {
    const chart = Testing.chart();
    const waypoint = withWaypoint ? new Waypoint(chart, 'Waypoint', { namespace: 'web' }) : undefined;
    new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, ingressUseWaypoint: withWaypoint ? true : undefined });
    addWebHttpbin(chart);
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API, istioVersion: IstioVersion.V1_31 });
    gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
    gateway.addRoute({ host: 'httpbin.example.com', backendHost: 'httpbin.web.svc.cluster.local', backendPort: 8000 });
    AmbientWorkload.fromLabels(chart, 'HttpbinAmbient', { labels: { app: 'httpbin' }, namespace: 'web', name: 'httpbin' });
    return { chart, gateway, waypoint };
  }

  test('without a waypoint the gateway matches the client (targetRefs, ipBlocks with Local) and explain agrees', () => {
    // GIVEN
    const { chart, gateway } = build(false);
    // WHEN
    const policy = gateway.allowFrom(['203.0.113.0/24', '2001:db8::/32']);
    const manifests = synthAndValidate(chart, { istioVersion: IstioVersion.V1_31 });
    // THEN
    const rendered = manifests.find(m => m.kind === 'AuthorizationPolicy');
    expect(rendered.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingressgateway' }]);
    expect(rendered.spec.selector).toBeUndefined();
    expect(policy.field).toBe(ClientIpField.IP_BLOCKS);
    assertRoundTrip(chart, manifests);
    const report = Explainer.fromManifests(manifests);
    expect(report.findings.filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
    const north = report.paths.find(p => p.title.startsWith('north-south') && p.title.includes('workload web/httpbin'));
    // ztunnel keeps the gateway pod's address; the client reaches the app in the headers the gateway wrote.
    expect(north?.hops.map(h => h.hop)).toContain('ztunnel');
    expect(north?.appHeaderClient).toBe(north?.clientAddress);
    expect(north?.hops.find(h => h.hop.startsWith('gateway'))?.clientAddress).toBe(north?.clientAddress);
  });

  test('with a waypoint that ingress uses, the waypoint policy matches the client the gateway appended', () => {
    // GIVEN
    const { chart, waypoint } = build(true);
    // WHEN
    const policy = waypoint!.allowFrom(['203.0.113.0/24']);
    const manifests = synthAndValidate(chart, { istioVersion: IstioVersion.V1_31 });
    // THEN
    expect(policy.field).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    assertRoundTrip(chart, manifests);
    expect(SourceIpWarnings.messages(chart).some(m => m.includes('waypoint'))).toBe(true);
    const report = Explainer.fromManifests(manifests);
    const north = report.paths.find(p => p.title.startsWith('north-south') && p.title.includes('workload web/httpbin'));
    expect(north?.hops.map(h => h.hop)).toEqual(expect.arrayContaining(['waypoint web/waypoint', 'ztunnel']));
    expect(north?.hops.find(h => h.hop === 'waypoint web/waypoint')?.clientAddress).toBe(north?.clientAddress);
    expect(report.findings.concat(north?.findings ?? []).filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
  });
});
