import { ApiObject, Testing } from 'cdk8s';
import {
  GATEWAY_API_CRDS, hasCrdBundles, hasGatewayApiCrdBundles, ISTIO_CRDS, loadBundles, loadFamily, requireBundlesInCi, synthAndValidate,
  validateEnvoyFilter, validateEnvoyMessage, validateManifest, validateWithKubernetesModels,
} from './harness';
import { IstioVersion } from '../src';
import { CrdFamily } from './harness/crd-schemas';

const HCM = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const PROXY_PROTOCOL = 'type.googleapis.com/envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol';

function envoyFilter(patch: any, applyTo = 'LISTENER_FILTER'): any {
  return {
    apiVersion: 'networking.istio.io/v1alpha3',
    kind: 'EnvoyFilter',
    metadata: { name: 'f', namespace: 'ns' },
    spec: { workloadSelector: { labels: { app: 'a' } }, configPatches: [{ applyTo, match: { context: 'GATEWAY' }, patch }] },
  };
}

const goodGateway = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'Gateway',
  metadata: { name: 'gw', namespace: 'ns' },
  spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['*'] }] },
};

describe('kubernetes-models validator', () => {
  test('accepts a valid Istio Gateway and a valid Service', () => {
    expect(validateWithKubernetesModels(goodGateway)).toEqual([]);
    expect(validateWithKubernetesModels({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's' },
      spec: { type: 'LoadBalancer', externalTrafficPolicy: 'Local', ports: [{ port: 80 }] },
    })).toEqual([]);
  });

  test('fails a Gateway whose port number is a string', () => {
    const bad = structuredClone(goodGateway) as any;
    bad.spec.servers[0].port.number = 'eighty';
    expect(validateWithKubernetesModels(bad).join()).toMatch(/number/);
  });

  test('fails a Service whose port is not an integer', () => {
    expect(validateWithKubernetesModels({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 'http' }] } }).join())
      .toMatch(/port/);
  });

  test('fails a kind it has no model for instead of passing it', () => {
    expect(validateWithKubernetesModels({ apiVersion: 'example.com/v1', kind: 'Nope', metadata: { name: 'x' } }).join()).toMatch(/no model/);
  });
});

// Under CI the suites never skip: without the bundles they fail (the harness fails closed, requireBundlesInCi).
const IN_CI = process.env.CI === 'true';
const describeWithCrds = hasCrdBundles() || IN_CI ? describe : describe.skip;

describe('the harness fails closed under CI', () => {
  const absent: CrdFamily = { name: 'absent', env: 'NO_SUCH_CRDS_DIR_FOR_THIS_TEST', sharedFolder: 'no-such-crd-folder', bundles: [{ bundle: 'x', minor: 24, files: ['crd-x.yaml'] }] };

  test('fails a CI run whose CRD bundles are missing, naming the variable to set', () => {
    expect(() => requireBundlesInCi([absent], true))
      .toThrow(/^CI=true, but the CRD bundles of absent \(NO_SUCH_CRDS_DIR_FOR_THIS_TEST, or \.\.\/shared\/no-such-crd-folder\) are missing: .*set NO_SUCH_CRDS_DIR_FOR_THIS_TEST to the folder holding crd-x\.yaml/);
  });

  test('outside CI a missing family is left to the SKIPPED report', () => {
    expect(() => requireBundlesInCi([absent], false)).not.toThrow();
  });

  (hasCrdBundles() && hasGatewayApiCrdBundles() ? test : test.skip)('a CI run with both bundles present passes the check', () => {
    expect(() => requireBundlesInCi([ISTIO_CRDS, GATEWAY_API_CRDS], true)).not.toThrow();
  });
});

describeWithCrds('Istio CRD schema validator', () => {
  test('loads all five bundles', () => {
    expect(loadBundles().map(b => b.name)).toEqual(['1.24.6', '1.28.10', '1.30.3', 'HEAD', '1.32.0']);
  });

  test('accepts a valid Gateway in every bundle', () => {
    for (const b of loadBundles()) expect(b.validate(goodGateway)).toEqual([]);
  });

  test('fails an unknown field (strict, like kubectl --validate=strict)', () => {
    const bad = structuredClone(goodGateway) as any;
    bad.spec.servers[0].hostz = ['*'];
    for (const b of loadBundles()) expect(b.validate(bad).join()).toMatch(/additional properties \(hostz\)/);
  });

  test('fails a bad enum value', () => {
    const ap = { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'p' }, spec: { action: 'PERMIT' } };
    expect(loadBundles()[3].validate(ap).join()).toMatch(/must be equal to one of the allowed values/);
  });

  test('knows which release has which enum: MERGE_AND_REPLACE_LIST only from 1.31', () => {
    const f = envoyFilter({ operation: 'MERGE_AND_REPLACE_LIST', value: {} }, 'CLUSTER');
    const [b124, , b130, head] = loadBundles();
    expect(b124.validate(f)).not.toEqual([]);
    expect(b130.validate(f)).not.toEqual([]);
    expect(head.validate(f)).toEqual([]);
  });

  test('allows anything under x-kubernetes-preserve-unknown-fields (EnvoyFilter patch values)', () => {
    const f = envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'x', anything: { goes: true } } });
    expect(loadBundles()[0].validate(f)).toEqual([]);
  });

  test('fails a kind the bundle does not serve', () => {
    expect(loadBundles()[0].validate({ apiVersion: 'extensions.istio.io/v1alpha1', kind: 'TrafficExtension', metadata: { name: 'x' } }).join())
      .toMatch(/does not serve/);
  });

  test('synthAndValidate checks the bundle of the given version and every newer one', () => {
    // GIVEN an EnvoyFilter using the WAYPOINT context, which the CRDs have from 1.29
    const chart = Testing.chart();
    const f = envoyFilter({ operation: 'MERGE', value: { name: 'c' } }, 'CLUSTER');
    f.spec.configPatches[0].match.context = 'WAYPOINT';
    new ApiObject(chart, 'f', f);
    // THEN it is valid for 1.30 (bundles 1.30.3 and HEAD) but not for 1.28 (bundle 1.28.10)
    expect(() => synthAndValidate(chart, { istioVersion: IstioVersion.V1_30 })).not.toThrow();
    expect(() => synthAndValidate(chart, { istioVersion: IstioVersion.V1_28 })).toThrow(/istio 1\.28\.10 CRD: EnvoyFilter\/f: \/spec\/configPatches\/0\/match\/context/);
  });
});

describe('Envoy proto validator', () => {
  test('accepts the PROXY protocol listener filter with snake_case and camelCase fields', () => {
    expect(validateEnvoyFilter(envoyFilter({
      operation: 'INSERT_FIRST',
      value: { name: 'envoy.filters.listener.proxy_protocol', typed_config: { '@type': PROXY_PROTOCOL, 'allow_requests_without_proxy_protocol': true } },
    }))).toEqual([]);
    expect(validateEnvoyFilter(envoyFilter({
      operation: 'INSERT_FIRST',
      value: { name: 'envoy.filters.listener.proxy_protocol', typedConfig: { '@type': PROXY_PROTOCOL, 'allowRequestsWithoutProxyProtocol': true } },
    }))).toEqual([]);
  });

  test('fails the legacy name-only listener filter without typed_config (istio/istio#49836)', () => {
    expect(validateEnvoyFilter(envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'envoy.listener.proxy_protocol' } })).join())
      .toMatch(/typed_config: required with "@type"/);
  });

  test('fails a typed_config without @type, or with an unknown one', () => {
    expect(validateEnvoyFilter(envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'x', typed_config: { allow_requests_without_proxy_protocol: true } } })).join())
      .toMatch(/missing or malformed "@type"/);
    expect(validateEnvoyFilter(envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'x', typed_config: { '@type': 'type.googleapis.com/envoy.Nope' } } })).join())
      .toMatch(/unknown type/);
  });

  test('fails unknown fields, wrong types and bad enum names', () => {
    const unknown = validateEnvoyFilter(envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'x', typed_config: { '@type': PROXY_PROTOCOL, 'allow_without': true } } }));
    expect(unknown.join()).toMatch(/allow_without: unknown field in envoy.extensions.filters.listener.proxy_protocol.v3.ProxyProtocol/);
    const wrongType = validateEnvoyFilter(envoyFilter({ operation: 'MERGE', value: { typed_config: { '@type': HCM, 'xff_num_trusted_hops': 'two' } } }, 'NETWORK_FILTER'));
    expect(wrongType.join()).toMatch(/xff_num_trusted_hops: "two" is not an integer/);
    const negative = validateEnvoyFilter(envoyFilter({ operation: 'MERGE', value: { typed_config: { '@type': HCM, 'xff_num_trusted_hops': -1 } } }, 'NETWORK_FILTER'));
    expect(negative.join()).toMatch(/not an integer in \[0/);
    const badEnum = validateEnvoyFilter(envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'x', typed_config: { '@type': PROXY_PROTOCOL, 'disallowed_versions': ['V3'] } } }));
    expect(badEnum.join()).toMatch(/"V3" is not a value of envoy.config.core.v3.ProxyProtocolConfig.Version/);
  });

  test('treats wrappers as plain values and checks Duration strings', () => {
    expect(validateEnvoyMessage('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      { use_remote_address: true, stream_idle_timeout: '5s' }, true)).toEqual([]);
    expect(validateEnvoyMessage('envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
      { use_remote_address: 'yes', stream_idle_timeout: 5 }, true).length).toBe(2);
  });

  test('a MERGE body may be partial, but a nested new message must be complete', () => {
    const ok = validateEnvoyFilter(envoyFilter({ operation: 'MERGE', value: { typed_config: { '@type': HCM, 'use_remote_address': true } } }, 'NETWORK_FILTER'));
    expect(ok).toEqual([]);
    const missingInner = validateEnvoyFilter(envoyFilter({
      operation: 'MERGE',
      value: {
        transport_socket: {
          name: 'envoy.transport_sockets.upstream_proxy_protocol',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport',
            'config': { version: 'V2' },
          },
        },
      },
    }, 'CLUSTER'));
    expect(missingInner.join()).toMatch(/transport_socket: required in envoy.extensions.transport_sockets.proxy_protocol.v3.ProxyProtocolUpstreamTransport/);
  });

  test('validates the xff original IP detection extension, including trusted CIDRs', () => {
    const ext = (cfg: any) => envoyFilter({
      operation: 'MERGE',
      value: {
        typed_config: {
          '@type': HCM,
          'original_ip_detection_extensions': [{ name: 'envoy.http.original_ip_detection.xff', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.http.original_ip_detection.xff.v3.XffConfig', ...cfg } }],
        },
      },
    }, 'NETWORK_FILTER');
    expect(validateEnvoyFilter(ext({ xff_trusted_cidrs: { cidrs: [{ address_prefix: '10.0.0.0', prefix_len: 8 }] }, skip_xff_append: false }))).toEqual([]);
    expect(validateEnvoyFilter(ext({ xff_trusted_cidrs: { cidrs: [{ address_prefix: '10.0.0.0', prefix_len: 200 }] } })).join()).toMatch(/prefix_len: 200 must be <= 128/);
    expect(validateEnvoyFilter(ext({ xff_trusted_cidrs: { cidrs: [{ address: '10.0.0.0' }] } })).join()).toMatch(/unknown field/);
  });
});

describe('validateManifest', () => {
  test('runs the Envoy validator on EnvoyFilters', () => {
    expect(validateManifest(envoyFilter({ operation: 'INSERT_FIRST', value: { name: 'envoy.listener.proxy_protocol' } })).join())
      .toMatch(/typed_config/);
  });
});

const describeWithGatewayApiCrds = hasGatewayApiCrdBundles() || IN_CI ? describe : describe.skip;

const gatewayApiGateway = {
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'Gateway',
  metadata: { name: 'ingress', namespace: 'istio-ingress' },
  spec: {
    gatewayClassName: 'istio',
    listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', hostname: 'shop.example.com', tls: { mode: 'Terminate', certificateRefs: [{ name: 'shop-cert' }] } }],
  },
};

const tcpRoute = (apiVersion: string) => ({
  apiVersion,
  kind: 'TCPRoute',
  metadata: { name: 'tcp', namespace: 'apps' },
  spec: { parentRefs: [{ name: 'ingress', namespace: 'istio-ingress', sectionName: 'tcp' }], rules: [{ backendRefs: [{ name: 'svc-b', port: 9000 }] }] },
});

describeWithGatewayApiCrds('Gateway API CRD schema validator', () => {
  test('loads both releases, v1.2.1 (Istio 1.24, 1.25) and v1.6.1', () => {
    expect(loadFamily(GATEWAY_API_CRDS).map(b => b.name)).toEqual(['v1.2.1', 'v1.6.1']);
  });

  test('accepts a valid Gateway in both releases, and through every validator of the harness', () => {
    for (const b of loadFamily(GATEWAY_API_CRDS)) expect(b.validate(gatewayApiGateway)).toEqual([]);
    expect(validateManifest(gatewayApiGateway, { istioVersion: IstioVersion.V1_24 })).toEqual([]);
  });

  test('fails an unknown field (strict) in every release', () => {
    const bad = structuredClone(gatewayApiGateway) as any;
    bad.spec.listeners[0].hostnames = ['shop.example.com'];
    for (const b of loadFamily(GATEWAY_API_CRDS)) expect(b.validate(bad).join()).toMatch(/additional properties \(hostnames\)/);
  });

  test('fails a bad enum value', () => {
    const bad = structuredClone(gatewayApiGateway) as any;
    bad.spec.listeners[0].tls.mode = 'Terminated';
    expect(loadFamily(GATEWAY_API_CRDS)[1].validate(bad).join()).toMatch(/must be equal to one of the allowed values/);
  });

  test('takes kinds the standard channel lacks from the experimental one: TCPRoute v1alpha2 in v1.2.1', () => {
    const [v121, v161] = loadFamily(GATEWAY_API_CRDS);
    expect(v121.validate(tcpRoute('gateway.networking.k8s.io/v1alpha2'))).toEqual([]);
    expect(v161.validate(tcpRoute('gateway.networking.k8s.io/v1alpha2'))).toEqual([]);
  });

  test('checks the release an Istio version uses and every newer one', () => {
    // GIVEN a TCPRoute at v1, which only Gateway API v1.6 serves
    const route = tcpRoute('gateway.networking.k8s.io/v1');
    // THEN it is rejected for Istio 1.24 (Gateway API v1.2.1) and passes the CRD check for 1.31 (v1.6.1)
    expect(validateManifest(route, { istioVersion: IstioVersion.V1_24 }).join()).toMatch(/gateway-api v1\.2\.1 does not serve gateway.networking.k8s.io\/v1\/TCPRoute/);
    expect(validateManifest(route, { istioVersion: IstioVersion.V1_31 }).join()).not.toMatch(/gateway-api v1\.6\.1/);
  });
});

describe('Gateway API models (@kubernetes-models/gateway-api)', () => {
  test('accept a valid Gateway and fail a Gateway without gatewayClassName', () => {
    expect(validateWithKubernetesModels(gatewayApiGateway)).toEqual([]);
    const bad = structuredClone(gatewayApiGateway) as any;
    delete bad.spec.gatewayClassName;
    expect(validateWithKubernetesModels(bad).join()).toMatch(/gatewayClassName/);
  });
});
