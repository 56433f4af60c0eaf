import { Testing } from 'cdk8s';
import {
  ExternalTrafficPolicy, GatewayFlavour, HttpsMode, IstioVersion, LoadBalancerProfile, PreservedIngressGateway, ProxyProtocolGateway,
  ProxyProtocolMode, SourceIpWarnings, TrustChain, TrustHop,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

const BACKEND = 'httpbin.default.svc.cluster.local';
const GATEWAY_API = GatewayFlavour.GATEWAY_API;

function overlays(manifests: any[]): { [key: string]: any } {
  const configMap = findManifest(manifests, 'ConfigMap');
  return Object.fromEntries(Object.entries(configMap.data).map(([k, v]) => [k, JSON.parse(String(v))]));
}

function gatewayOf(manifests: any[]): any {
  return manifests.find(m => m.kind === 'Gateway' && m.apiVersion === 'gateway.networking.k8s.io/v1');
}

describe('PreservedIngressGateway with GatewayFlavour.GATEWAY_API', () => {
  for (const istioVersion of [IstioVersion.V1_26, IstioVersion.V1_31]) {
    test(`HTTP and HTTPS with Local on Istio ${istioVersion.label}: a Gateway of class istio, HTTPRoutes and the parametersRef ConfigMap`, () => {
      // GIVEN
      const chart = Testing.chart();
      // WHEN
      const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GATEWAY_API, istioVersion });
      gw.addHttpsRedirect({ hosts: ['httpbin.example.com'] });
      gw.addHttpsServer({ hosts: ['httpbin.example.com'], credentialName: 'httpbin-cert' });
      gw.addRoute({ host: 'httpbin.example.com', backendHost: BACKEND, backendPort: 8000 });
      // THEN
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(manifests).toMatchSnapshot();
      const gateway = gatewayOf(manifests);
      expect(gateway.spec.gatewayClassName).toBe('istio');
      expect(gateway.spec.infrastructure.parametersRef).toEqual({ group: '', kind: 'ConfigMap', name: 'ingressgateway-options' });
      expect(gateway.spec.listeners.map((l: any) => [l.name, l.port, l.protocol, l.hostname])).toEqual([
        ['http-80', 80, 'HTTP', 'httpbin.example.com'], ['https-443', 443, 'HTTPS', 'httpbin.example.com'],
      ]);
      expect(gateway.spec.listeners[1].tls).toEqual({ mode: 'Terminate', certificateRefs: [{ kind: 'Secret', name: 'httpbin-cert' }] });
      const topology = JSON.parse(gateway.spec.infrastructure.annotations['proxy.istio.io/config']);
      expect(topology.gatewayTopology.numTrustedProxies).toBe(0);
      expect(gateway.metadata.annotations['proxy.istio.io/config']).toBe(gateway.spec.infrastructure.annotations['proxy.istio.io/config']);
      const data = overlays(manifests);
      expect(data.service.spec.externalTrafficPolicy).toBe('Local');
      expect(data.deployment.spec.replicas).toBe(2);
      expect(data.podDisruptionBudget).toEqual({ spec: { minAvailable: 1 } });
      expect(data.horizontalPodAutoscaler).toBeUndefined();
      // Istio deploys the gateway: no Deployment or Service of ours.
      expect(manifestsOfKind(manifests, 'Deployment')).toEqual([]);
      expect(manifestsOfKind(manifests, 'Service')).toEqual([]);
      const [redirect, route] = manifestsOfKind(manifests, 'HTTPRoute');
      expect(redirect.spec.parentRefs.map((r: any) => r.sectionName)).toEqual(['http-80']);
      expect(redirect.spec.rules[0].filters[0].requestRedirect).toEqual({ scheme: 'https', statusCode: 301 });
      expect(route.spec.parentRefs.map((r: any) => r.sectionName)).toEqual(['https-443']);
      expect(route.spec.rules[0].backendRefs).toEqual([{ name: 'httpbin', namespace: 'default', port: 8000 }]);
      // The backend lives in another namespace: the routes are granted there.
      const grant = findManifest(manifests, 'ReferenceGrant');
      expect(grant.metadata.namespace).toBe('default');
      expect(grant.spec.from).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'istio-ingress' }]);
      expect(gw.serviceName).toBe('ingressgateway-istio');
      expect(gw._gatewayModel()?.servers.map(s => s.targetPort)).toEqual([80, 443]);
    });
  }

  test('two trusted proxies and an autoscaler go into the annotation and the overlays', () => {
    // GIVEN
    const chart = Testing.chart();
    const trustChain = TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer());
    // WHEN
    const gw = new PreservedIngressGateway(chart, 'Gateway', {
      flavour: GATEWAY_API, trustChain, autoscaling: { minReplicas: 3, maxReplicas: 6 }, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
    });
    gw.addHttpServer();
    gw.addRoute({ backendHost: 'web.istio-ingress.svc.cluster.local', backendPort: 80 });
    // THEN
    const manifests = synthAndValidate(chart);
    const gateway = gatewayOf(manifests);
    expect(JSON.parse(gateway.metadata.annotations['proxy.istio.io/config']).gatewayTopology.numTrustedProxies).toBe(2);
    expect(gateway.metadata.annotations['source-ip.cdk8s.io/trust-chain']).toBeDefined();
    const data = overlays(manifests);
    expect(data.deployment.spec.replicas).toBeUndefined();
    expect(data.horizontalPodAutoscaler.spec).toMatchObject({ minReplicas: 3, maxReplicas: 6 });
    expect(data.service.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type']).toBe('ip');
    // Same namespace: no ReferenceGrant.
    expect(manifestsOfKind(manifests, 'ReferenceGrant')).toEqual([]);
  });

  test('allowFrom attaches with targetRefs and warns that the Service is PreferDualStack', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GATEWAY_API });
    gw.addHttpServer();
    gw.addRoute({ backendHost: BACKEND, backendPort: 8000 });
    // WHEN
    const allow = gw.allowFrom(['203.0.113.0/24']);
    gw.denyFrom(['2001:db8::/32']);
    // THEN
    const manifests = synthAndValidate(chart);
    const [allowPolicy, denyPolicy] = manifestsOfKind(manifests, 'AuthorizationPolicy');
    expect(allowPolicy.spec.targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingressgateway' }]);
    expect(allowPolicy.spec.selector).toBeUndefined();
    expect(allowPolicy.spec.rules[0].from[0].source.ipBlocks).toEqual(['203.0.113.0/24']);
    expect(denyPolicy.spec.rules[0].from[0].source.ipBlocks).toEqual(['2001:db8::/32']);
    expect(allow._policyModel().targetRefs).toEqual([{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ingressgateway' }]);
    expect(allow._policyModel().selector).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'ingressgateway' });
    const warnings = SourceIpWarnings.messages(chart);
    expect(warnings.filter(w => w.includes('PreferDualStack'))).toHaveLength(1);
    expect(warnings.find(w => w.includes('PreferDualStack'))).toMatch(/every IPv6 client is denied/);
  });

  test('fails with Istio 1.24 and 1.25: no parametersRef, so the Service cannot be Local', () => {
    for (const istioVersion of [IstioVersion.V1_24, IstioVersion.V1_25]) {
      // GIVEN
      const chart = Testing.chart();
      // WHEN / THEN
      expect(() => new PreservedIngressGateway(chart, 'Gateway', { flavour: GATEWAY_API, istioVersion }))
        .toThrow(/flavour gateway-api is not allowed with istioVersion 1\.2[45]: .*use istioVersion 1\.26 or newer, or GatewayFlavour\.ISTIO/);
    }
  });

  test('fails with attach mode', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN / THEN
    expect(() => PreservedIngressGateway.attach(chart, 'Gateway', {}, { flavour: GATEWAY_API }))
      .toThrow(/flavour gateway-api is not allowed with existing/);
  });

  test('fails with mutual TLS, namespaced hosts and a backend that is not a Service', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GATEWAY_API });
    // WHEN / THEN
    expect(() => gw.addHttpsServer({ credentialName: 'cert', mode: HttpsMode.MUTUAL })).toThrow(/mode MUTUAL is not allowed with flavour gateway-api/);
    expect(() => gw.addHttpServer({ hosts: ['apps/app.example.com'] })).toThrow(/hosts "apps\/app.example.com" is not allowed with flavour gateway-api/);
    gw.addHttpServer();
    expect(() => gw.addRoute({ backendHost: 'api.example.org', backendPort: 443 })).toThrow(/backendHost "api.example.org" is not allowed with flavour gateway-api/);
    expect(() => gw.addHttpServer({ hosts: ['*'] })).toThrow(/overlap a server added before/);
    // Found by the property suite: Gateway API hostnames are lower case (DNS is not, and Istio's Gateway accepts it).
    expect(() => gw.addTlsPassthroughServer({ hosts: ['EXAMPLE.com'] })).toThrow(/addTlsPassthroughServer hosts "EXAMPLE.com" is not allowed with flavour gateway-api: .*write it as "example.com"/);
    expect(() => gw.addRoute({ host: 'App.example.com', backendHost: BACKEND, backendPort: 80 })).toThrow(/addRoute host "App.example.com" is not allowed with flavour gateway-api/);
  });

  test('fails with a name too long for the Service Istio generates', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN / THEN
    expect(() => new PreservedIngressGateway(chart, 'Gateway', { flavour: GATEWAY_API, name: 'g'.repeat(58) }))
      .toThrow(/name "g{58}" is too long for flavour gateway-api: .*use a name of at most 57 characters/);
    expect(() => new PreservedIngressGateway(chart, 'Gateway57', { flavour: GATEWAY_API, name: 'g'.repeat(57) })).not.toThrow();
  });

  test('fails with an unknown flavour', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN / THEN
    expect(() => new PreservedIngressGateway(chart, 'Gateway', { flavour: 'envoy-gateway' as GatewayFlavour }))
      .toThrow(/flavour "envoy-gateway" is not allowed: use GatewayFlavour.ISTIO or GatewayFlavour.GATEWAY_API/);
  });
});

describe('ProxyProtocolGateway with GatewayFlavour.GATEWAY_API', () => {
  test('PROXY for TCP on Istio 1.31: TCPRoute v1, gatewayTopology.proxyProtocol and the status-port variable in the deployment overlay', () => {
    // GIVEN
    const chart = Testing.chart();
    const istioVersion = IstioVersion.V1_31;
    // WHEN
    const gw = new ProxyProtocolGateway(chart, 'Gateway', {
      flavour: GATEWAY_API, istioVersion, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false,
    });
    gw.addTcpServer({ port: 5432 });
    gw.addTcpRoute({ port: 5432, backendHost: 'postgres.db.svc.cluster.local', backendPort: 5432 });
    gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'postgres.db.svc.cluster.local', backendPort: 5433 });
    // THEN
    const manifests = synthAndValidate(chart, { istioVersion });
    expect(manifests).toMatchSnapshot();
    const gateway = gatewayOf(manifests);
    expect(JSON.parse(gateway.spec.infrastructure.annotations['proxy.istio.io/config']).gatewayTopology.proxyProtocol).toEqual({});
    const data = overlays(manifests);
    expect(data.deployment.spec.template.spec.containers).toEqual([{ name: 'istio-proxy', env: [{ name: 'ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL', value: 'true' }] }]);
    expect(data.service.spec.externalTrafficPolicy).toBe(ExternalTrafficPolicy.CLUSTER);
    expect(data.service.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-proxy-protocol']).toBe('*');
    const tcp = findManifest(manifests, 'TCPRoute');
    expect(tcp.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(tcp.spec.parentRefs.map((r: any) => r.sectionName)).toEqual(['tcp-5432']);
    const tls = findManifest(manifests, 'TLSRoute');
    expect(tls.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(tls.spec.hostnames).toEqual(['db.example.com']);
    expect(findManifest(manifests, 'ReferenceGrant').spec.from.map((f: any) => f.kind)).toEqual(['TCPRoute', 'TLSRoute']);
  });

  test('per-port PROXY selects the generated pods by the gateway-name label and matches the listener port itself', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const gw = new ProxyProtocolGateway(chart, 'Gateway', {
      flavour: GATEWAY_API,
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
      proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT,
      proxyProtocolPorts: [443],
      inClusterCallers: false,
      loadBalancerProxyProtocolAnnotations: false,
    });
    gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'postgres.istio-ingress.svc.cluster.local', backendPort: 5432 });
    // THEN
    const manifests = synthAndValidate(chart);
    const filter = findManifest(manifests, 'EnvoyFilter');
    expect(filter.spec.workloadSelector.labels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'proxy-protocol-gateway' });
    expect(filter.spec.configPatches.map((p: any) => p.match.listener.portNumber)).toEqual([443]);
  });

  for (const [istioVersion, tcp, tls] of [[IstioVersion.V1_26, 'v1alpha2', 'v1alpha2'], [IstioVersion.V1_30, 'v1alpha2', 'v1']] as const) {
    test(`TCPRoute ${tcp} and TLSRoute ${tls} on Istio ${istioVersion.label}, validated against the Gateway API release it reads`, () => {
      // GIVEN
      const chart = Testing.chart();
      // WHEN
      const gw = new ProxyProtocolGateway(chart, 'Gateway', {
        flavour: GATEWAY_API, istioVersion, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false,
      });
      gw.addTcpServer({ port: 9000 });
      gw.addTcpRoute({ port: 9000, backendHost: 'tcp-echo.istio-ingress.svc.cluster.local', backendPort: 9000 });
      gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
      gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'db.istio-ingress.svc.cluster.local', backendPort: 5432 });
      // THEN
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(findManifest(manifests, 'TCPRoute').apiVersion).toBe(`gateway.networking.k8s.io/${tcp}`);
      expect(findManifest(manifests, 'TLSRoute').apiVersion).toBe(`gateway.networking.k8s.io/${tls}`);
      // The status port accepts PROXY from 1.27 when the agent is told so.
      const containers = overlays(manifests).deployment.spec.template.spec.containers;
      expect(containers?.[0].env.map((e: any) => e.name)).toEqual(istioVersion.supportsStatusPortProxyProtocol ? ['ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL'] : undefined);
    });
  }

  test('TCPRoute and TLSRoute use v1alpha2 before Istio 1.31 and 1.30', () => {
    expect(IstioVersion.V1_30.tcpRouteApiVersion).toBe('gateway.networking.k8s.io/v1alpha2');
    expect(IstioVersion.V1_30.tlsRouteApiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(IstioVersion.V1_29.tlsRouteApiVersion).toBe('gateway.networking.k8s.io/v1alpha2');
    expect(IstioVersion.V1_31.tcpRouteApiVersion).toBe('gateway.networking.k8s.io/v1');
  });
});

describe('addTlsRoute sniHosts "*"', () => {
  // Found by the property suite (seed 6161): the TLSRoute was written with hostnames ["*"], which the Gateway API
  // rejects (and TLSRoute v1 requires at least one name, so no route can say "every SNI name").
  for (const flavour of [GatewayFlavour.ISTIO, GATEWAY_API]) {
    const gateways = {
      PreservedIngressGateway: (chart: any) => new PreservedIngressGateway(chart, 'Gateway', { flavour }),
      ProxyProtocolGateway: (chart: any) => new ProxyProtocolGateway(chart, 'Gateway', { flavour, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false }),
    };
    for (const [construct, make] of Object.entries(gateways)) {
      const title = flavour === GATEWAY_API
        ? `fails on a ${construct} with flavour gateway-api, naming the fix`
        : `routes every SNI name on a ${construct} with flavour istio`;
      test(title, () => {
        // GIVEN
        const chart = Testing.chart();
        const gw = make(chart);
        gw.addTlsPassthroughServer({ hosts: ['*'] });
        // WHEN
        const add = () => gw.addTlsRoute({ sniHosts: ['*'], backendHost: 'db.data.svc.cluster.local', backendPort: 5432 });
        // THEN
        if (flavour === GATEWAY_API) {
          expect(add).toThrow(/^addTlsRoute sniHosts "\*" is not allowed with flavour gateway-api: .*; list the names, such as \["db.example.com"\] or \["\*.example.com"\], or pass every connection on the port through with addTcpServer\(\) and addTcpRoute\(\)/);
          return;
        }
        add();
        const route = findManifest(synthAndValidate(chart), 'VirtualService');
        expect(route.spec.tls).toEqual([{ match: [{ port: 443, sniHosts: ['*'] }], route: [{ destination: { host: 'db.data.svc.cluster.local', port: { number: 5432 } } }] }]);
      });
    }
  }

  test('a wildcard name such as "*.example.com" still gives a valid TLSRoute on both TLSRoute versions', () => {
    for (const istioVersion of [IstioVersion.V1_29, IstioVersion.V1_31]) {
      // GIVEN
      const chart = Testing.chart();
      const gw = new PreservedIngressGateway(chart, 'Gateway', { flavour: GATEWAY_API, istioVersion });
      gw.addTlsPassthroughServer({ hosts: ['*'] });
      // WHEN
      gw.addTlsRoute({ sniHosts: ['*.example.com'], backendHost: 'db.data.svc.cluster.local', backendPort: 5432 });
      // THEN
      const route = findManifest(synthAndValidate(chart, { istioVersion }), 'TLSRoute');
      expect(route.apiVersion).toBe(istioVersion.tlsRouteApiVersion);
      expect(route.spec.hostnames).toEqual(['*.example.com']);
    }
  });
});
