import { App, Chart, Testing } from 'cdk8s';
import {
  IstioVersion, MeshWorkload, PreservedIngressGateway, SidecarXffMode, XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { assertMergeSetsNoZero, zeroValuesInMerge } from '../../src/mesh/merge-guard';
import { findManifest, synthAndValidate, validateEnvoyFilter } from '../harness';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const XFF_CONFIG = 'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig';

function patchOf(manifests: any[]): any {
  const filter = findManifest(manifests, 'EnvoyFilter');
  expect(filter.spec.configPatches).toHaveLength(1);
  return filter.spec.configPatches[0];
}

/** Every way of building a trust, for properties that must hold in all modes. */
function everyTrust(): XffTrust[] {
  return [XffTrust.useRemoteAddress(), XffTrust.trustedHops(1), XffTrust.trustedHops(64), XffTrust.trustedCidrs(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7'])];
}

describe('seed scenarios (east-west)', () => {
  for (const istioVersion of IstioVersion.all()) {
    describe(`Istio ${istioVersion.label}`, () => {
      test('ASM Method 2: mesh-wide use_remote_address on SIDECAR_INBOUND, in istio-system, pinned to the proxy version', () => {
        // GIVEN
        const chart = Testing.chart();
        // WHEN the seed's EnvoyFilter (no workloadSelector, istio-system) is asked for explicitly
        new XffSidecarFilter(chart, 'EnableXff', {
          name: 'enable-xff-for-sidecar-inbound', scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress(), pinProxyVersion: true, istioVersion,
        });
        // THEN it validates against the CRDs of this release and newer, and Envoy's protos
        const manifests = synthAndValidate(chart, { istioVersion });
        const filter = findManifest(manifests, 'EnvoyFilter', 'enable-xff-for-sidecar-inbound');
        expect(filter.apiVersion).toBe('networking.istio.io/v1alpha3');
        expect(filter.metadata.namespace).toBe('istio-system');
        expect(filter.spec.workloadSelector).toBeUndefined();
        expect(patchOf(manifests)).toEqual({
          applyTo: 'NETWORK_FILTER',
          match: {
            context: 'SIDECAR_INBOUND',
            proxy: { proxyVersion: istioVersion.proxyVersionRegex },
            listener: { name: 'virtualInbound', filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } },
          },
          patch: { operation: 'MERGE', value: { typed_config: { '@type': HCM, 'use_remote_address': true } } },
        });
        expect(manifests).toMatchSnapshot();
      });

      test('every mode passes the CRD and Envoy-proto validators and never MERGEs a false or zero', () => {
        for (const trust of everyTrust()) {
          // GIVEN
          const chart = Testing.chart();
          // WHEN
          new XffSidecarFilter(chart, 'Xff', { selector: { app: 'httpbin' }, trust, portNumber: 8000, istioVersion });
          // THEN
          const manifests = synthAndValidate(chart, { istioVersion });
          const patch = patchOf(manifests);
          expect(patch.match.context).toBe('SIDECAR_INBOUND');
          expect(patch.match.listener.portNumber).toBe(8000);
          expect(zeroValuesInMerge(patch.patch.value)).toEqual([]);
          expect(validateEnvoyFilter(findManifest(manifests, 'EnvoyFilter'))).toEqual([]);
        }
      });
    });
  }

  test('ASM Method 2 scoped to httpbin: the same MERGE with a workloadSelector', () => {
    const chart = Testing.chart();
    const httpbin = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' } });
    new XffSidecarFilter(chart, 'Xff', { workload: httpbin, trust: XffTrust.useRemoteAddress() });
    const filter = findManifest(synthAndValidate(chart), 'EnvoyFilter');
    expect(filter.metadata.namespace).toBe('default');
    expect(filter.spec.workloadSelector).toEqual({ labels: { app: 'httpbin' } });
    expect(filter.spec.configPatches[0].match.proxy).toBeUndefined();
  });
});

describe('modes', () => {
  test('trusted hops: xff_num_trusted_hops only, use_remote_address left false (not written)', () => {
    const chart = Testing.chart();
    new XffSidecarFilter(chart, 'Xff', { selector: { app: 'httpbin' }, trust: XffTrust.trustedHops(2), portNumber: 8000 });
    const manifests = synthAndValidate(chart);
    expect(patchOf(manifests).patch.value).toEqual({ typed_config: { '@type': HCM, 'xff_num_trusted_hops': 2 } });
    expect(manifests).toMatchSnapshot();
  });

  test('trustHopsOf reads the gateway numTrustedProxies when synthesising (Tetrate multi-layer proxy: 2)', () => {
    // GIVEN a gateway trusting 2 proxies and a filter that follows it
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 2 });
    gateway.addHttpServer();
    const trust = XffTrust.trustHopsOf(gateway);
    new XffSidecarFilter(chart, 'Xff', { selector: { app: 'echo-server' }, trust });
    // THEN
    expect(trust.resolveHops()).toBe(2);
    expect(patchOf(synthAndValidate(chart)).patch.value.typed_config.xff_num_trusted_hops).toBe(2);
  });

  test('trusted CIDRs: the xff detection extension with normalised CIDRs and skip_xff_append false', () => {
    const chart = Testing.chart();
    const trust = XffTrust.trustedCidrs(['10.32.0.0/14', '192.0.2.7', '::ffff:10.0.0.0/104', 'fc00::/7']);
    new XffSidecarFilter(chart, 'Xff', { selector: { app: 'httpbin' }, trust });
    const manifests = synthAndValidate(chart);
    expect(trust.cidrs).toEqual(['10.32.0.0/14', '192.0.2.7/32', '10.0.0.0/8', 'fc00::/7']);
    expect(patchOf(manifests).patch.value.typed_config).toEqual({
      '@type': HCM,
      'original_ip_detection_extensions': [{
        name: 'envoy.http.original_ip_detection.xff',
        typed_config: {
          '@type': XFF_CONFIG,
          'skip_xff_append': false,
          'xff_trusted_cidrs': {
            cidrs: [
              { address_prefix: '10.32.0.0', prefix_len: 14 }, { address_prefix: '192.0.2.7', prefix_len: 32 },
              { address_prefix: '10.0.0.0', prefix_len: 8 }, { address_prefix: 'fc00::', prefix_len: 7 },
            ],
          },
        },
      }],
    });
    expect(manifests).toMatchSnapshot();
  });

  test('namespace-wide scope has no workloadSelector and stays in its namespace', () => {
    const chart = Testing.chart();
    const filter = new XffSidecarFilter(chart, 'Xff', { scope: XffFilterScope.NAMESPACE, namespace: 'apps', trust: XffTrust.trustedHops(1) });
    const manifest = findManifest(synthAndValidate(chart), 'EnvoyFilter');
    expect(manifest.metadata.namespace).toBe('apps');
    expect(manifest.spec.workloadSelector).toBeUndefined();
    expect(filter.appliesTo('apps', { app: 'anything' })).toBe(true);
    expect(filter.appliesTo('default', { app: 'anything' })).toBe(false);
  });

  test('a mesh-wide filter goes to the configured root namespace and reaches every namespace', () => {
    const chart = Testing.chart();
    const filter = new XffSidecarFilter(chart, 'Xff', { scope: XffFilterScope.MESH, rootNamespace: 'istio-config', trust: XffTrust.useRemoteAddress() });
    expect(findManifest(synthAndValidate(chart), 'EnvoyFilter').metadata.namespace).toBe('istio-config');
    expect(filter.appliesTo('anywhere', {})).toBe(true);
  });

  test('filters on disjoint ports or disjoint selectors may coexist', () => {
    const chart = Testing.chart();
    new XffSidecarFilter(chart, 'A', { selector: { app: 'httpbin' }, trust: XffTrust.trustedHops(1), portNumber: 8000 });
    new XffSidecarFilter(chart, 'B', { selector: { app: 'httpbin' }, trust: XffTrust.trustedCidrs(['10.0.0.0/8']), portNumber: 9000 });
    new XffSidecarFilter(chart, 'C', { selector: { app: 'sleep' }, trust: XffTrust.useRemoteAddress() });
    expect(() => synthAndValidate(chart)).not.toThrow();
  });
});

describe('bad inputs', () => {
  test('fails without a selector unless namespace-wide or mesh-wide is asked for', () => {
    const chart = Testing.chart();
    expect(() => new XffSidecarFilter(chart, 'A', { trust: XffTrust.useRemoteAddress() }))
      .toThrow(/selector undefined is not allowed: an EnvoyFilter without workloadSelector changes every sidecar in its namespace; .*XffFilterScope.NAMESPACE or XffFilterScope.MESH/);
    expect(() => new XffSidecarFilter(chart, 'B', { selector: {}, trust: XffTrust.useRemoteAddress() })).toThrow(/selector \{\} is not allowed/);
    expect(() => new XffSidecarFilter(chart, 'C', { scope: XffFilterScope.NAMESPACE, selector: { app: 'x' }, trust: XffTrust.useRemoteAddress() }))
      .toThrow(/selector \{"app":"x"\} is not allowed with scope namespace/);
    expect(() => new XffSidecarFilter(chart, 'D', { scope: XffFilterScope.MESH, namespace: 'apps', trust: XffTrust.useRemoteAddress() }))
      .toThrow(/namespace "apps" is not allowed with scope MESH/);
    expect(() => new XffSidecarFilter(chart, 'E', {} as any)).toThrow(/trust is required/);
  });

  test.each([
    [-1], [0], [1.5], [65], [Number.NaN],
  ])('fails trusted hops %p', (hops) => {
    expect(() => XffTrust.trustedHops(hops)).toThrow(new RegExp(`trustedHops ${String(hops).replace('.', '\\.')} is not allowed: use a whole number from 1 to 64`));
  });

  test.each([
    ['10.0.0.1/33', /invalid prefix length/],
    ['10.0.0.1/8', /host bits set after the prefix; did you mean "10.0.0.0\/8"/],
    ['010.0.0.1', /not a four-part decimal/],
    ['gateway', /not an IPv4 or IPv6 address/],
  ])('fails trusted CIDR %p', (cidr, message) => {
    expect(() => XffTrust.trustedCidrs(['10.32.0.0/14', cidr])).toThrow(message);
  });

  test('fails an empty trusted CIDR list', () => {
    expect(() => XffTrust.trustedCidrs([])).toThrow(/trustedCidrs is empty/);
  });

  test('fails trusted CIDRs on a gateway context: a gateway given as workload, or a selector that picks this app\'s gateway', () => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 1 });
    gateway.addHttpServer();
    // THEN
    expect(() => new XffSidecarFilter(chart, 'A', { workload: gateway, trust: XffTrust.trustedCidrs(['10.0.0.0/8']) }))
      .toThrow(/trusted CIDRs \(original_ip_detection_extensions\) are not allowed on a gateway context: gateways always have use_remote_address true/);
    expect(() => new XffSidecarFilter(chart, 'B', { workload: gateway, trust: XffTrust.trustedHops(1) }))
      .toThrow(/workload selects gateway .* gateways do not have/);
    new XffSidecarFilter(chart, 'C', { selector: { ...gateway.targetSelector }, namespace: gateway.targetNamespace, trust: XffTrust.trustedCidrs(['10.0.0.0/8']) });
    expect(() => Testing.synth(chart)).toThrow(/selector app=ingressgateway,istio=ingressgateway selects gateway .* trusted CIDRs .* not allowed on a gateway context/);
  });

  test('fails a selector that picks a gateway by part of its labels, and from the root namespace; not from another namespace', () => {
    // GIVEN a gateway among many, and filters that select by one of its labels
    const app = new App();
    const chart = new Chart(app, 'c');
    for (let i = 0; i < 20; i++) new PreservedIngressGateway(chart, `Other${i}`, { name: `other${i}`, namespace: `ns${i}` }).addHttpServer();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 1 });
    gateway.addHttpServer();
    const oneLabel = { app: gateway.targetSelector.app };
    new XffSidecarFilter(chart, 'Elsewhere', { selector: oneLabel, namespace: 'apps', trust: XffTrust.trustedCidrs(['10.0.0.0/8']) });
    expect(() => app.synthYaml()).not.toThrow();
    // WHEN one filter stands in the gateway's namespace and one in the mesh root namespace
    new XffSidecarFilter(chart, 'Same', { selector: oneLabel, namespace: gateway.targetNamespace, trust: XffTrust.trustedCidrs(['10.0.0.0/8']) });
    new XffSidecarFilter(chart, 'Root', { selector: oneLabel, namespace: 'istio-system', trust: XffTrust.trustedCidrs(['10.0.0.0/8']) });
    // THEN both refuse the gateway they reach, and no other
    let message = '';
    try {
      app.synthYaml();
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/\[c\/Same\] selector app=ingressgateway selects gateway .* trusted CIDRs/);
    expect(message).toMatch(/\[c\/Root\] selector app=ingressgateway selects gateway .* trusted CIDRs/);
    expect(message).not.toMatch(/Elsewhere|other\d/);
  });

  test('fails trustHopsOf a workload, and a gateway that trusts no proxies (at synthesis)', () => {
    const chart = Testing.chart();
    const workload = MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'httpbin' } });
    expect(() => XffTrust.trustHopsOf(workload)).toThrow(/trustHopsOf: .* has targetRole sidecar, not gateway/);
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { numTrustedProxies: 0 });
    gateway.addHttpServer();
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustHopsOf(gateway) });
    expect(() => Testing.synth(chart)).toThrow(/numTrustedProxies 0 is not allowed here: the sidecar's default .* already is the client the gateway resolved/);
  });

  test('fails two filters that may MERGE into the same sidecar port', () => {
    const chart = Testing.chart();
    new XffSidecarFilter(chart, 'Hops', { selector: { app: 'httpbin' }, trust: XffTrust.trustedHops(1) });
    new XffSidecarFilter(chart, 'Cidrs', { selector: { app: 'httpbin', version: 'v1' }, trust: XffTrust.trustedCidrs(['10.0.0.0/8']), portNumber: 8000 });
    expect(() => Testing.synth(chart)).toThrow(/\[test\/Hops\] filters "default\/test-hops-\w+" .* and "default\/test-cidrs-\w+" .* may select the same sidecar port with different settings/);
  });

  test('fails a mesh-wide filter that disagrees with a workload filter in another namespace; agreeing ones are fine', () => {
    const agreeing = Testing.chart();
    new XffSidecarFilter(agreeing, 'Mesh', { scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress() });
    new XffSidecarFilter(agreeing, 'App', { selector: { app: 'httpbin' }, namespace: 'apps', trust: XffTrust.useRemoteAddress() });
    expect(() => synthAndValidate(agreeing)).not.toThrow();
    const disagreeing = Testing.chart();
    new XffSidecarFilter(disagreeing, 'Mesh', { scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress() });
    new XffSidecarFilter(disagreeing, 'App', { selector: { app: 'httpbin' }, namespace: 'apps', trust: XffTrust.trustedHops(2) });
    expect(() => Testing.synth(disagreeing)).toThrow(/\[test\/App\] filters "apps\/test-app-\w+" \(trusted-hops in apps, app=httpbin\) and "istio-system\/test-mesh-\w+" \(use-remote-address in istio-system, scope mesh\)/);
  });

  test('fails a namespace that disagrees with the workload, and a bad port or name', () => {
    const chart = Testing.chart();
    const workload = MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'httpbin' }, namespace: 'apps' });
    expect(() => new XffSidecarFilter(chart, 'A', { workload, namespace: 'other', trust: XffTrust.useRemoteAddress() })).toThrow(/namespace "other" is not allowed: workload .* is in namespace "apps"/);
    expect(() => new XffSidecarFilter(chart, 'B', { workload, portNumber: 0, trust: XffTrust.useRemoteAddress() })).toThrow(/portNumber 0 is not a valid port/);
    expect(() => new XffSidecarFilter(chart, 'C', { workload, name: 'Bad_Name', trust: XffTrust.useRemoteAddress() })).toThrow(/name "Bad_Name" is not a valid DNS-1123 subdomain/);
  });
});

describe('MERGE guard (istio/istio#18169)', () => {
  test('finds false and zero values outside lists, and ignores them inside appended list elements', () => {
    expect(zeroValuesInMerge({ typed_config: { use_remote_address: false, xff_num_trusted_hops: 0, stat_prefix: '' } }))
      .toEqual(['value.typed_config.use_remote_address', 'value.typed_config.xff_num_trusted_hops']);
    expect(zeroValuesInMerge({ typed_config: { original_ip_detection_extensions: [{ typed_config: { skip_xff_append: false } }] } })).toEqual([]);
    expect(zeroValuesInMerge({ typed_config: { use_remote_address: true, xff_num_trusted_hops: 3 } })).toEqual([]);
  });

  test('refuses a MERGE that sets use_remote_address false or xff_num_trusted_hops 0', () => {
    expect(() => assertMergeSetsNoZero({ typed_config: { use_remote_address: false } }, 'f'))
      .toThrow(/f: MERGE cannot set value.typed_config.use_remote_address to false or 0: Istio silently ignores zero values in a MERGE \(istio\/istio#18169\)/);
    expect(() => assertMergeSetsNoZero({ typed_config: { xff_num_trusted_hops: 0 } }, 'f')).toThrow(/xff_num_trusted_hops/);
  });

  test('no public way of building a filter produces a false or zero MERGE value', () => {
    for (const trust of everyTrust()) {
      const chart = Testing.chart();
      new XffSidecarFilter(chart, 'Xff', { scope: XffFilterScope.NAMESPACE, trust });
      expect(zeroValuesInMerge(patchOf(Testing.synth(chart)).patch.value)).toEqual([]);
      expect(trust.mode).not.toBe(SidecarXffMode.DEFAULT);
    }
  });
});
