import { Testing } from 'cdk8s';
import { IstioVersion, ProxyProtocolFilterContext, ProxyProtocolListenerFilter } from '../../src';
import { PROXY_PROTOCOL_FILTER, PROXY_PROTOCOL_TYPE } from '../../src/envoy/names';
import { findManifest, synthAndValidate } from '../harness';

describe('ProxyProtocolListenerFilter', () => {
  for (const istioVersion of IstioVersion.all()) {
    test(`gateway ports, one INSERT_FIRST patch per listener port, valid for Istio ${istioVersion.label}`, () => {
      // GIVEN
      const chart = Testing.chart();
      // WHEN
      const filter = new ProxyProtocolListenerFilter(chart, 'F', {
        name: 'gw-pp', namespace: 'istio-ingress', selector: { istio: 'gw' }, ports: [8443, 9000], istioVersion,
      });
      filter.addPort(8443);
      // THEN
      const f = findManifest(synthAndValidate(chart, { istioVersion }), 'EnvoyFilter', 'gw-pp');
      expect(f.apiVersion).toBe('networking.istio.io/v1alpha3');
      expect(f.spec.workloadSelector).toEqual({ labels: { istio: 'gw' } });
      expect(f.spec.configPatches).toEqual([8443, 9000].map(portNumber => ({
        applyTo: 'LISTENER_FILTER',
        match: { context: 'GATEWAY', listener: { portNumber } },
        patch: { operation: 'INSERT_FIRST', value: { name: PROXY_PROTOCOL_FILTER, typed_config: { '@type': PROXY_PROTOCOL_TYPE } } },
      })));
    });
  }

  test('allowRequestsWithoutProxyProtocol sets the Envoy field', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    new ProxyProtocolListenerFilter(chart, 'F', { namespace: 'ns', selector: { app: 'a' }, ports: [8080], allowRequestsWithoutProxyProtocol: true });
    // THEN
    const f = findManifest(synthAndValidate(chart), 'EnvoyFilter');
    expect(f.spec.configPatches[0].patch.value.typed_config).toEqual({ '@type': PROXY_PROTOCOL_TYPE, 'allow_requests_without_proxy_protocol': true });
    expect(f.metadata.name).toMatch(/^test-f-/);
  });

  test('sidecar inbound: one patch on the 15006 listener, never the legacy name-only form', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const filter = new ProxyProtocolListenerFilter(chart, 'F', { namespace: 'apps', selector: { app: 'tcp-echo' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND });
    // THEN
    const manifests = synthAndValidate(chart);
    expect(manifests).toMatchSnapshot();
    const patch = findManifest(manifests, 'EnvoyFilter').spec.configPatches[0];
    expect(patch.match).toEqual({ context: 'SIDECAR_INBOUND', listener: { portNumber: 15006 } });
    expect(patch.patch.operation).toBe('INSERT_FIRST');
    expect(patch.patch.value.typed_config['@type']).toBe(PROXY_PROTOCOL_TYPE);
    expect(filter.listenerPorts).toEqual([15006]);
  });

  test('fails ports with SIDECAR_INBOUND', () => {
    const chart = Testing.chart();
    expect(() => new ProxyProtocolListenerFilter(chart, 'F', { namespace: 'ns', selector: { app: 'a' }, ports: [8080], context: ProxyProtocolFilterContext.SIDECAR_INBOUND }))
      .toThrow(/ports \[8080\] is not allowed with context SIDECAR_INBOUND: .* every pod port/);
  });

  test('fails a gateway filter without ports when synthesising', () => {
    const chart = Testing.chart();
    new ProxyProtocolListenerFilter(chart, 'F', { namespace: 'ns', selector: { app: 'a' } });
    expect(() => Testing.synth(chart)).toThrow(/ports is empty: a GATEWAY PROXY protocol filter needs the listener/);
  });

  test('fails a bad port, namespace or selector', () => {
    const chart = Testing.chart();
    expect(() => new ProxyProtocolListenerFilter(chart, 'A', { namespace: 'ns', selector: { app: 'a' }, ports: [70000] })).toThrow(/ports\[0\] 70000 is not a valid port/);
    expect(() => new ProxyProtocolListenerFilter(chart, 'B', { namespace: 'Bad_NS', selector: { app: 'a' }, ports: [80] })).toThrow(/namespace "Bad_NS" is not a valid DNS-1123 label/);
    expect(() => new ProxyProtocolListenerFilter(chart, 'C', { namespace: 'ns', selector: {}, ports: [80] })).toThrow(/selector is empty/);
  });
});
