import { Chart, Testing } from 'cdk8s';
import { addCdnCharts } from '../../examples/seed-scenarios/cdn';
import { Explainer, FindingSeverity, PathTrace } from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

/*
 * The seed topology with a CDN in front (client -> CDN -> L7 load balancer -> gateway -> httpbin), once with
 * trusted CIDRs and once with the CDN's client header: manifests validate, explain shows the client at the
 * gateway and in the app, and a client that bypasses the CDN resolves to its own address or is denied.
 */

/** The two charts' gateways: a name of their own each, so that applied together neither takes the other's routes. */
const EDGE = 'edge-trusted-cidrs';
const EDGE_HEADER = 'edge-client-header';

describe('CDN seed-scenarios example', () => {
  // GIVEN the example app's CDN charts
  const app = Testing.app();
  addCdnCharts(app);
  const chart = (id: string) => app.charts.find(c => c.node.id === id)! as Chart;
  const northSouth = (id: string): PathTrace => Explainer.fromChart(chart(id)).paths.find(p => p.direction === 'north-south')!;

  test('every chart validates', () => {
    expect(app.charts.map(c => c.node.id)).toEqual(['ns-cdn-trusted-cidrs', 'ns-cdn-client-header']);
    for (const c of app.charts) expect(synthAndValidate(c).length).toBeGreaterThan(0);
  });

  test('the two charts\' Istio Gateways select different gateway pods, so applied together neither takes the other\'s routes', () => {
    // GIVEN both charts WHEN their Istio Gateways are read THEN each selects only its own chart's gateway pods
    const selectors = app.charts.map(c => findManifest(synthAndValidate(c), 'Gateway').spec.selector);
    expect(selectors).toEqual([{ app: EDGE, istio: EDGE }, { app: EDGE_HEADER, istio: EDGE_HEADER }]);
  });

  describe('trusted CIDRs', () => {
    const manifests = synthAndValidate(chart('ns-cdn-trusted-cidrs'));

    test('the sidecar gets the xff extension with the CDN, load balancer, node and gateway-pod ranges, and the gateway the lower-bound hop count', () => {
      const filter = findManifest(manifests, 'EnvoyFilter');
      const config = filter.spec.configPatches[0].patch.value.typed_config.original_ip_detection_extensions[0].typed_config;
      expect(config.xff_trusted_cidrs.cidrs.map((c: any) => `${c.address_prefix}/${c.prefix_len}`))
        .toEqual(['10.0.0.0/16', '10.244.0.0/16', '100.64.0.0/24', '198.51.100.0/24', '2001:db8:cd00::/40']);
      expect(config.skip_xff_append).toBe(false);
      const topology = JSON.parse(findManifest(manifests, 'Deployment', EDGE).spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology;
      expect(topology.numTrustedProxies).toBe(2);
      expect(filter).toMatchSnapshot();
    });

    test('the partner list is aggregated into one ALLOW policy on the resolved client', () => {
      const policy = findManifest(manifests, 'AuthorizationPolicy', 'partners-1');
      expect(policy.spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['203.0.113.0/24', '2001:db8:beef::/48'] });
    });

    test('explain: the gateway sees a CDN address (lower bound), the sidecar and the app the client; a bypass resolves to the attacker', () => {
      const path = northSouth('ns-cdn-trusted-cidrs');
      const gateway = path.hops.find(h => h.hop.startsWith('gateway'))!;
      const sidecar = path.hops.find(h => h.hop.startsWith('sidecar'))!;
      expect(gateway.clientAddress).toBe('198.51.100.1');
      expect(sidecar.clientAddress).toBe('203.0.113.10');
      expect(sidecar.policies).toEqual([expect.objectContaining({ policy: 'ns-cdn-trusted-cidrs/partners-1', matches: true })]);
      expect(path.findings.filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
      expect(path.findings.map(f => f.message)).toContain('a client at 203.0.113.66 that skips example-cdn and forges X-Forwarded-For: 192.0.2.67 resolves to 203.0.113.66 at the sidecar');
      expect(path.findings.find(f => /variable CDN paths/.test(f.message))).toEqual(expect.objectContaining({
        severity: FindingSeverity.INFO, message: expect.stringMatching(/workload ns-cdn-trusted-cidrs\/httpbin resolves the client with trusted CIDRs$/),
      }));
      expect(path.findings.find(f => f.message.startsWith('the app socket sees'))!.fix).toMatch(/^read X-Forwarded-For from the right, skipping the trusted ranges .* \(203\.0\.113\.10\)/);
    });
  });

  describe('client header', () => {
    const manifests = synthAndValidate(chart('ns-cdn-client-header'));

    test('the sidecar gets the custom_header extension, fail closed, and the gateway trusts only the hop after the CDN', () => {
      const filter = findManifest(manifests, 'EnvoyFilter');
      expect(filter.spec.configPatches[0].patch.value.typed_config.original_ip_detection_extensions).toEqual([{
        name: 'envoy.http.original_ip_detection.custom_header',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.http.original_ip_detection.custom_header.v3.CustomHeaderConfig',
          'header_name': 'cf-connecting-ip',
          'allow_extension_to_set_address_as_trusted': true,
          'reject_with_status': { code: 'Forbidden' },
        },
      }]);
      const topology = JSON.parse(findManifest(manifests, 'Deployment', EDGE_HEADER).spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology;
      expect(topology.numTrustedProxies).toBe(1);
    });

    test('the gateway denies every peer outside the CDN ranges on remoteIpBlocks', () => {
      const policy = findManifest(manifests, 'AuthorizationPolicy', 'cdn-only');
      expect(policy.spec).toEqual({
        selector: { matchLabels: { app: EDGE_HEADER, istio: EDGE_HEADER } },
        action: 'DENY',
        rules: [{ from: [{ source: { notRemoteIpBlocks: ['198.51.100.0/24', '2001:db8:cd00::/40'] } }] }],
      });
      expect(manifestsOfKind(manifests, 'AuthorizationPolicy')).toMatchSnapshot();
    });

    test('explain: the gateway sees the CDN edge, the sidecar and the app the client; a bypass is denied at the gateway', () => {
      const path = northSouth('ns-cdn-client-header');
      const gateway = path.hops.find(h => h.hop.startsWith('gateway'))!;
      const sidecar = path.hops.find(h => h.hop.startsWith('sidecar'))!;
      expect(gateway.clientAddress).toBe('198.51.100.1');
      expect(gateway.policies).toEqual([expect.objectContaining({ policy: 'ns-cdn-client-header/cdn-only', matches: false })]);
      expect(sidecar.clientAddress).toBe('203.0.113.10');
      expect(sidecar.externalAddress).toBe('198.51.100.1');
      expect(path.findings.filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
      expect(path.findings.map(f => f.message)).toContain('a client at 203.0.113.66 that skips example-cdn and forges cf-connecting-ip: 192.0.2.66 is denied at the gateway');
      expect(path.findings.find(f => f.message.startsWith('the app socket sees'))!.fix).toMatch(/^read cf-connecting-ip \(203\.0\.113\.10;/);
    });

    test('explain: an in-mesh caller is rejected without the header and flagged because it could forge it', () => {
      const eastWest = Explainer.fromChart(chart('ns-cdn-client-header')).paths.find(p => p.direction === 'east-west')!;
      expect(eastWest.hops.find(h => h.hop.startsWith('sidecar'))!.note).toMatch(/rejected with 403/);
      expect(eastWest.findings.map(f => f.message)).toContainEqual(expect.stringMatching(/^forgeable from inside the mesh: .* chooses remote.ip by sending cf-connecting-ip/));
    });
  });
});
