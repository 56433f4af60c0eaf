import { Chart, Testing } from 'cdk8s';
import {
  AmbientNamespace, CidrList, CidrListPolicy, Explainer, FindingSeverity, GatewayFlavour, IstioVersion, LoadBalancerProfile,
  PreservedIngressGateway, ProxyProtocolGateway, SourceIpWarnings, Waypoint, WaypointFor,
} from '../../src';
import { synthAndValidate } from '../harness';

/*
 * Issue 25: version gates read from Istio's source (cited in src/model/istio-version.ts), and warnings that were
 * false.
 */

describe('istio.io/ingress-use-waypoint on a Namespace (read from Istio 1.25: istio/istio#54483)', () => {
  test('fails AmbientNamespace ingressUseWaypoint on Istio 1.24, naming the version', () => {
    // GIVEN
    const chart = Testing.chart();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
    // WHEN / THEN
    expect(() => new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true, istioVersion: IstioVersion.V1_24 }))
      .toThrow(/^ingressUseWaypoint true is not allowed with istioVersion 1\.24: Istio reads istio\.io\/ingress-use-waypoint on a Namespace only from 1\.25/);
  });

  test('fails it on Istio 1.24 given by the context key too', () => {
    const app = Testing.app();
    app.node.setContext('cdk8s-istio-source-ip:istioVersion', '1.24');
    const chart = new Chart(app, 'c');
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
    expect(() => new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true })).toThrow(/istioVersion 1\.24/);
  });

  test.each([IstioVersion.V1_25, IstioVersion.LATEST])('writes the label on Istio %s', istioVersion => {
    const chart = Testing.chart();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
    const ns = new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true, istioVersion });
    expect(ns.ingressUseWaypoint).toBe(true);
    const namespace = Testing.synth(chart).find(m => m.kind === 'Namespace');
    expect(namespace.metadata.labels['istio.io/ingress-use-waypoint']).toBe('true');
  });

  test('explain warns about the label on a Namespace when it explains Istio 1.24, not 1.25', () => {
    const yaml = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: web, labels: { istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint, istio.io/ingress-use-waypoint: "true" } }\n';
    const at = (istioVersion: IstioVersion) => Explainer.fromYaml(yaml, { istioVersion }).allFindings().filter(f => f.message.includes('istio.io/ingress-use-waypoint'));
    expect(at(IstioVersion.V1_24)).toEqual([expect.objectContaining({ severity: FindingSeverity.WARNING, where: 'Namespace web', message: expect.stringMatching(/^Istio 1\.24 reads istio\.io\/ingress-use-waypoint on Services only/) })]);
    expect(at(IstioVersion.V1_25)).toEqual([]);
  });

  test('a namespace without ingressUseWaypoint is fine on Istio 1.24', () => {
    const chart = Testing.chart();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
    expect(() => new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, istioVersion: IstioVersion.V1_24 })).not.toThrow();
  });
});

describe('TCPRoute and TLSRoute need PILOT_ENABLE_ALPHA_GATEWAY_API before they are stable (TLSRoute 1.30, TCPRoute 1.31)', () => {
  function streamRoutes(istioVersion: IstioVersion): string[] {
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', {
      flavour: GatewayFlavour.GATEWAY_API, istioVersion, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false,
    });
    gw.addTcpServer({ port: 5432 });
    gw.addTcpRoute({ port: 5432, backendHost: 'postgres.db.svc.cluster.local', backendPort: 5432 });
    gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'postgres.db.svc.cluster.local', backendPort: 5433 });
    synthAndValidate(chart, { istioVersion });
    return SourceIpWarnings.messages(chart).filter(m => m.includes('PILOT_ENABLE_ALPHA_GATEWAY_API'));
  }

  test('both warn on Istio 1.29', () => {
    const warnings = streamRoutes(IstioVersion.V1_29);
    expect(warnings).toEqual([
      expect.stringMatching(/^addTcpRoute on gateway "proxy-protocol-gateway" writes a TCPRoute, which Istio 1\.29 reads only when istiod runs with PILOT_ENABLE_ALPHA_GATEWAY_API=true \(stable from Istio 1\.31\)/),
      expect.stringMatching(/^addTlsRoute on gateway "proxy-protocol-gateway" writes a TLSRoute, which Istio 1\.29 reads only when .* \(stable from Istio 1\.30\)/),
    ]);
  });

  test('only the TCPRoute warns on Istio 1.30', () => {
    expect(streamRoutes(IstioVersion.V1_30)).toEqual([expect.stringMatching(/writes a TCPRoute, which Istio 1\.30/)]);
  });

  test('neither warns on Istio 1.31', () => {
    expect(streamRoutes(IstioVersion.V1_31)).toEqual([]);
  });

  test('explain says so too, for the release it explains', () => {
    const yaml = `apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: { name: db, namespace: web }
spec: { parentRefs: [{ name: web }], rules: [{ backendRefs: [{ name: postgres, port: 5432 }] }] }
`;
    const at = (istioVersion: IstioVersion) => Explainer.fromYaml(yaml, { istioVersion }).allFindings().filter(f => f.message.includes('PILOT_ENABLE_ALPHA_GATEWAY_API'));
    expect(at(IstioVersion.V1_30)).toEqual([expect.objectContaining({ severity: FindingSeverity.WARNING, where: 'TCPRoute web/db', message: expect.stringMatching(/^Istio 1\.30 reads TCPRoute only when istiod runs with PILOT_ENABLE_ALPHA_GATEWAY_API=true/) })]);
    expect(at(IstioVersion.V1_31)).toEqual([]);
  });

  test('the flags are data in IstioVersion', () => {
    expect(IstioVersion.all().filter(v => !v.gatewayApiTcpWithoutAlphaFlag).map(v => v.label)).toEqual(['1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30']);
    expect(IstioVersion.all().filter(v => !v.tlsRouteWithoutAlphaFlag).map(v => v.label)).toEqual(['1.24', '1.25', '1.26', '1.27', '1.28', '1.29']);
    expect(IstioVersion.all().filter(v => !v.readsNamespaceIngressUseWaypoint).map(v => v.label)).toEqual(['1.24']);
  });
});

describe('false warnings gone', () => {
  test('a waypoint named only by an AmbientNamespace does not warn that nothing names it', () => {
    // GIVEN a waypoint with a policy, used by a namespace, and no AmbientWorkload
    const chart = Testing.chart();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web', waypointFor: WaypointFor.SERVICE });
    new AmbientNamespace(chart, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true });
    waypoint.allowFrom(['203.0.113.0/24']);
    // WHEN
    synthAndValidate(chart);
    // THEN
    expect(SourceIpWarnings.messages(chart).filter(m => m.includes('is named by no'))).toEqual([]);
  });

  test('a waypoint nothing names still warns', () => {
    const chart = Testing.chart();
    const waypoint = new Waypoint(chart, 'Waypoint', { namespace: 'web' });
    new AmbientNamespace(chart, 'Other', { name: 'other' });
    waypoint.allowFrom(['203.0.113.0/24']);
    synthAndValidate(chart);
    expect(SourceIpWarnings.messages(chart).filter(m => m.includes('is named by no'))).toHaveLength(1);
  });

  test('a 2,500-entry IPv4 and IPv6 list split over ALLOW policies does not warn that IPv6 clients are denied', () => {
    // GIVEN 2,000 IPv4 and 500 IPv6 blocks on a Gateway API gateway (PreferDualStack Service): parts 1 and 2 are IPv4 only
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API });
    gw.addHttpServer({ hosts: ['app.example.com'] });
    // Every other /24 and /48, so that the list does not aggregate into fewer blocks
    const v4 = Array.from({ length: 2000 }, (_, i) => `${10 + Math.floor(i / 128)}.0.${(i % 128) * 2}.0/24`);
    const v6 = Array.from({ length: 500 }, (_, i) => `2001:db8:${(i * 2).toString(16)}::/48`);
    const policy = new CidrListPolicy(chart, 'List', { target: gw, list: CidrList.fromCidrs([...v4, ...v6]) });
    // WHEN
    Testing.synth(chart);
    // THEN the list has IPv4-only parts, and none warns
    expect(policy.policies.length).toBeGreaterThanOrEqual(3);
    expect(policy.policies.some(p => p.cidrs.every(c => !c.includes(':')))).toBe(true);
    expect(SourceIpWarnings.messages(chart).filter(m => m.includes('every IPv6 client is denied'))).toEqual([]);
  });

  test('an IPv4-only ALLOW list still warns about IPv6 on a Gateway API gateway', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API });
    gw.addHttpServer({ hosts: ['app.example.com'] });
    new CidrListPolicy(chart, 'List', { target: gw, list: CidrList.fromCidrs(Array.from({ length: 1500 }, (_, i) => `10.${Math.floor(i / 256)}.${i % 256}.0/24`)) });
    Testing.synth(chart);
    expect(SourceIpWarnings.messages(chart).filter(m => m.includes('every IPv6 client is denied')).length).toBeGreaterThan(0);
  });
});
