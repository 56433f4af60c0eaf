import { Explainer, FindingSeverity } from '../../src';

/* Hand-written EnvoyFilters that try to put original-IP detection on a gateway (reference pitfalls 5 and 6). */

const gatewayDeployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'edge', namespace: 'ingress' },
  spec: { template: { metadata: { labels: { istio: 'edge' }, annotations: { 'inject.istio.io/templates': 'gateway' } } } },
};

function hcmPatch(typedConfig: object): any {
  return {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: 'edge-xff', namespace: 'ingress' },
    spec: {
      workloadSelector: { labels: { istio: 'edge' } },
      configPatches: [{
        applyTo: 'NETWORK_FILTER',
        match: { context: 'GATEWAY', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager' } } } },
        patch: { operation: 'MERGE', value: { typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager', ...typedConfig } } },
      }],
    },
  };
}

describe('explain: original-IP detection on a gateway', () => {
  test('an extension in a GATEWAY patch is an error: Envoy rejects it next to use_remote_address', () => {
    // GIVEN trusted CIDRs patched into the gateway's connection manager, with use_remote_address false
    const filter = hcmPatch({
      use_remote_address: false,
      original_ip_detection_extensions: [{ name: 'envoy.http.original_ip_detection.xff', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig', 'xff_trusted_cidrs': { cidrs: [{ address_prefix: '198.51.100.0', prefix_len: 24 }] } } }],
    });
    // WHEN
    const findings = Explainer.fromManifests([gatewayDeployment, filter]).allFindings()
      .filter(f => f.where === 'gateway ingress/edge' && /original_ip_detection_extensions|use_remote_address false/.test(f.message));
    // THEN
    expect(findings.map(f => [f.severity, f.message.split(':')[0]])).toEqual([
      [FindingSeverity.ERROR, 'an EnvoyFilter adds original_ip_detection_extensions (trusted CIDRs or a client header) to the gateway\'s connection manager, which has use_remote_address true'],
      [FindingSeverity.WARNING, 'an EnvoyFilter MERGE sets use_remote_address false on the gateway'],
    ]);
    expect(findings[0].fix).toMatch(/XffTrust.trustedCidrs or XffTrust.clientHeader/);
  });

  test('a gateway patch with only a hop count raises neither', () => {
    const findings = Explainer.fromManifests([gatewayDeployment, hcmPatch({ xff_num_trusted_hops: 2 })]).allFindings();
    expect(findings.filter(f => /original_ip_detection_extensions|use_remote_address false/.test(f.message))).toEqual([]);
  });
});
