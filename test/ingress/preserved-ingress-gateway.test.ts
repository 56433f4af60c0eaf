import { Chart, Testing } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  ExternalTrafficPolicy, ForwardClientCertDetails, GatewayFlavour, HttpsMode, IstioVersion, LoadBalancerProfile, PreservedIngressGateway,
  ProxyProtocolMode, ProxyRole, SourceIpWarnings,
} from '../../src';
import { IngressGatewayBase } from '../../src/ingress/ingress-gateway-base';
import { TrustChain, TrustHop } from '../../src/model/trust-chain';
import { findManifest, manifestsOfKind, releaseWarnings, synthAndValidate } from '../harness';

const BACKEND = 'httpbin.default.svc.cluster.local';

function warningsOf(construct: IConstruct): string[] {
  return SourceIpWarnings.messages(construct);
}

function topologyOf(manifests: any[]): any {
  const deployment = findManifest(manifests, 'Deployment');
  return JSON.parse(deployment.spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology;
}

/** The seed's plain HTTP scenario: httpbin behind the ingress gateway on port 80. */
function httpGateway(chart: Chart, props: ConstructorParameters<typeof PreservedIngressGateway>[2] = {}): PreservedIngressGateway {
  const gw = new PreservedIngressGateway(chart, 'Gateway', props);
  gw.addHttpServer({ hosts: ['httpbin.example.com'] });
  gw.addRoute({ host: 'httpbin.example.com', backendHost: BACKEND, backendPort: 8000 });
  return gw;
}

describe('seed scenarios (north-south)', () => {
  for (const istioVersion of IstioVersion.all()) {
    describe(`Istio ${istioVersion.label}`, () => {
      test('HTTP with externalTrafficPolicy Local (the default) keeps the client IP', () => {
        // GIVEN
        const chart = Testing.chart();
        // WHEN
        const gw = httpGateway(chart, { istioVersion });
        // THEN
        const manifests = synthAndValidate(chart, { istioVersion });
        const service = findManifest(manifests, 'Service');
        expect(service.spec.type).toBe('LoadBalancer');
        expect(service.spec.externalTrafficPolicy).toBe('Local');
        expect(topologyOf(manifests)).toEqual({ numTrustedProxies: 0, forwardClientCertDetails: 'SANITIZE_SET' });
        expect(gw._gatewayModel()!.externalTrafficPolicy).toBe(ExternalTrafficPolicy.LOCAL);
        expect(warningsOf(chart)).toEqual(releaseWarnings(istioVersion));
      });

      test('HTTP with externalTrafficPolicy Cluster is emitted with a warning that the app sees a node IP', () => {
        // GIVEN
        const chart = Testing.chart();
        // WHEN
        const gw = httpGateway(chart, { istioVersion, externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });
        // THEN
        const manifests = synthAndValidate(chart, { istioVersion });
        expect(findManifest(manifests, 'Service').spec.externalTrafficPolicy).toBe('Cluster');
        expect(warningsOf(gw).join('\n')).toMatch(/externalTrafficPolicy Cluster .* node IP/);
      });

      test('HTTPS (SIMPLE) with credentialName and an HTTP-to-HTTPS redirect', () => {
        // GIVEN
        const chart = Testing.chart();
        const gw = new PreservedIngressGateway(chart, 'Gateway', { istioVersion });
        // WHEN
        gw.addHttpsServer({ hosts: ['httpbin.example.com'], credentialName: 'httpbin-credential' });
        gw.addHttpsRedirect({ hosts: ['httpbin.example.com'] });
        gw.addRoute({ host: 'httpbin.example.com', backendHost: BACKEND, backendPort: 8000 });
        // THEN
        const manifests = synthAndValidate(chart, { istioVersion });
        const servers = findManifest(manifests, 'Gateway').spec.servers;
        expect(servers).toEqual([
          { port: { number: 443, name: 'https-443', protocol: 'HTTPS' }, hosts: ['httpbin.example.com'], tls: { mode: 'SIMPLE', credentialName: 'httpbin-credential' } },
          { port: { number: 80, name: 'http-80', protocol: 'HTTP' }, hosts: ['httpbin.example.com'], tls: { httpsRedirect: true } },
        ]);
        expect(findManifest(manifests, 'Service').spec.ports.map((p: any) => [p.port, p.targetPort])).toEqual([[15021, 15021], [443, 8443], [80, 8080]]);
      });

      for (const numTrustedProxies of [1, 2]) {
        test(`${numTrustedProxies} trusted proxies in front (L7 hops) are written to gatewayTopology as JSON`, () => {
          // GIVEN
          const chart = Testing.chart();
          // WHEN
          httpGateway(chart, { istioVersion, numTrustedProxies });
          // THEN
          const manifests = synthAndValidate(chart, { istioVersion });
          expect(topologyOf(manifests).numTrustedProxies).toBe(numTrustedProxies);
        });
      }
    });
  }

  test('snapshot of the default HTTP gateway', () => {
    const chart = Testing.chart();
    httpGateway(chart);
    expect(synthAndValidate(chart)).toMatchSnapshot();
  });
});

describe('gateway deployment', () => {
  test('is deployed by gateway injection with 2 replicas spread over nodes and zones, a PodDisruptionBudget and secret access', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    httpGateway(chart, { name: 'edge', namespace: 'ingress' });
    // THEN
    const manifests = synthAndValidate(chart);
    const deployment = findManifest(manifests, 'Deployment', 'edge');
    expect(deployment.metadata.namespace).toBe('ingress');
    expect(deployment.spec.replicas).toBe(2);
    const template = deployment.spec.template;
    expect(template.metadata.annotations['inject.istio.io/templates']).toBe('gateway');
    expect(template.metadata.labels['sidecar.istio.io/inject']).toBe('true');
    expect(template.spec.containers).toEqual([{ name: 'istio-proxy', image: 'auto' }]);
    expect(template.spec.serviceAccountName).toBe('edge');
    expect(template.spec.topologySpreadConstraints.map((c: any) => c.topologyKey)).toEqual(['kubernetes.io/hostname', 'topology.kubernetes.io/zone']);
    const selector = findManifest(manifests, 'Gateway', 'edge').spec.selector;
    expect(selector).toEqual({ app: 'edge', istio: 'edge' });
    for (const [key, value] of Object.entries(selector)) expect(template.metadata.labels[key]).toBe(value);
    expect(findManifest(manifests, 'Service', 'edge').spec.selector).toEqual(selector);
    expect(findManifest(manifests, 'PodDisruptionBudget', 'edge').spec).toEqual({ minAvailable: 1, selector: { matchLabels: selector } });
    expect(findManifest(manifests, 'Role', 'edge-sds').rules).toEqual([{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]);
    expect(findManifest(manifests, 'RoleBinding', 'edge-sds').subjects).toEqual([{ kind: 'ServiceAccount', name: 'edge', namespace: 'ingress' }]);
    expect(manifestsOfKind(manifests, 'HorizontalPodAutoscaler')).toEqual([]);
  });

  test('1 replica gives a warning and no PodDisruptionBudget', () => {
    const chart = Testing.chart();
    const gw = httpGateway(chart, { replicas: 1 });
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'Deployment').spec.replicas).toBe(1);
    expect(manifestsOfKind(manifests, 'PodDisruptionBudget')).toEqual([]);
    expect(warningsOf(gw).join('\n')).toMatch(/replicas 1: .*single point of failure.*Local/);
  });

  test('autoscaling adds a HorizontalPodAutoscaler and leaves the replica count to it', () => {
    const chart = Testing.chart();
    httpGateway(chart, { autoscaling: { minReplicas: 3, maxReplicas: 10, targetCpuUtilization: 60 } });
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'Deployment').spec.replicas).toBeUndefined();
    const hpa = findManifest(manifests, 'HorizontalPodAutoscaler').spec;
    expect(hpa).toMatchObject({ minReplicas: 3, maxReplicas: 10, scaleTargetRef: { kind: 'Deployment', name: 'ingressgateway' } });
    expect(hpa.metrics[0].resource.target.averageUtilization).toBe(60);
  });

  test('forwardClientCertDetails and a MUTUAL HTTPS server', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { forwardClientCertDetails: ForwardClientCertDetails.APPEND_FORWARD });
    gw.addHttpsServer({ credentialName: 'mtls-cred', mode: HttpsMode.MUTUAL });
    const manifests = synthAndValidate(chart);
    expect(topologyOf(manifests).forwardClientCertDetails).toBe('APPEND_FORWARD');
    expect(findManifest(manifests, 'Gateway').spec.servers[0].tls).toEqual({ mode: 'MUTUAL', credentialName: 'mtls-cred' });
  });

  test('routes of one host share a VirtualService, longest prefix first', () => {
    const chart = Testing.chart();
    const gw = httpGateway(chart);
    const vs = gw.addRoute({ host: 'httpbin.example.com', pathPrefix: '/api', backendHost: 'api.default.svc.cluster.local', backendPort: 9000 });
    const manifests = synthAndValidate(chart);
    const all = manifestsOfKind(manifests, 'VirtualService');
    expect(all).toHaveLength(1);
    expect(all[0].metadata.name).toBe(vs.name);
    expect(all[0].spec.gateways).toEqual(['istio-ingress/ingressgateway']);
    expect(all[0].spec.http.map((r: any) => r.match[0].uri.prefix)).toEqual(['/api', '/']);
    expect(all[0].spec.http[0].route[0].destination).toEqual({ host: 'api.default.svc.cluster.local', port: { number: 9000 } });
  });

  test('TCP and TLS passthrough servers get tcp and tls routes', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway');
    gw.addTcpServer({ port: 5432 });
    gw.addTlsPassthroughServer({ port: 8443, hosts: ['db.example.com'] });
    gw.addTcpRoute({ port: 5432, backendHost: 'pg.db.svc.cluster.local', backendPort: 5432 });
    gw.addTlsRoute({ port: 8443, sniHosts: ['db.example.com'], backendHost: 'tls.db.svc.cluster.local', backendPort: 443 });
    const manifests = synthAndValidate(chart);
    const [tcp, tls] = manifestsOfKind(manifests, 'VirtualService');
    expect(tcp.spec.tcp).toEqual([{ match: [{ port: 5432 }], route: [{ destination: { host: 'pg.db.svc.cluster.local', port: { number: 5432 } } }] }]);
    expect(tls.spec.hosts).toEqual(['db.example.com']);
    expect(tls.spec.tls[0].match).toEqual([{ port: 8443, sniHosts: ['db.example.com'] }]);
    expect(findManifest(manifests, 'Gateway').spec.servers[1]).toEqual({ port: { number: 8443, name: 'tls-8443', protocol: 'TLS' }, hosts: ['db.example.com'], tls: { mode: 'PASSTHROUGH' } });
    expect(gw._gatewayModel()!.servers.map(s => s.protocol)).toEqual(['TCP', 'TLS']);
  });

  test('load balancer profile annotations and class reach the Service; extra target group attributes are merged', () => {
    const chart = Testing.chart();
    httpGateway(chart, {
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
      serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'deregistration_delay.timeout_seconds=30' },
    });
    const service = findManifest(synthAndValidate(chart), 'Service');
    expect(service.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-nlb-target-type']).toBe('ip');
    expect(service.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-target-group-attributes'])
      .toBe('preserve_client_ip.enabled=true,deregistration_delay.timeout_seconds=30');

    const chart2 = Testing.chart();
    httpGateway(chart2, { loadBalancerProfile: LoadBalancerProfile.ALIBABA_NLB });
    expect(findManifest(synthAndValidate(chart2), 'Service').spec.loadBalancerClass).toBe('alibabacloud.com/nlb');
  });
});

describe('source-ip target', () => {
  test('exposes the gateway model built from the current servers', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { namespace: 'edge', loadBalancerProfile: LoadBalancerProfile.TENCENT_CLB_DIRECT_ACCESS, numTrustedProxies: 1 });
    expect(gw._gatewayModel()!.servers).toEqual([]);
    gw.addHttpsServer({ credentialName: 'cert' });
    expect(gw.targetRole).toBe(ProxyRole.GATEWAY);
    expect(gw.targetNamespace).toBe('edge');
    expect(gw.targetSelector).toEqual({ app: 'ingressgateway', istio: 'ingressgateway' });
    expect(gw._workloadModel()).toBeUndefined();
    expect(gw._gatewayModel()).toEqual({
      name: 'ingressgateway',
      namespace: 'edge',
      selector: { app: 'ingressgateway', istio: 'ingressgateway' },
      externalTrafficPolicy: ExternalTrafficPolicy.LOCAL,
      loadBalancerPreservesSource: true,
      numTrustedProxies: 1,
      proxyProtocol: ProxyProtocolMode.OFF,
      proxyProtocolPorts: [],
      servers: [{ port: 443, targetPort: 8443, protocol: 'HTTPS', hosts: ['*'], tlsMode: 'SIMPLE' }],
      serviceName: 'ingressgateway',
    });
  });
});

describe('trust chain', () => {
  test('derives numTrustedProxies and Cluster from a CDN and an L7 load balancer', () => {
    const chart = Testing.chart();
    const gw = httpGateway(chart, { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l7LoadBalancer()) });
    const manifests = synthAndValidate(chart);
    expect(topologyOf(manifests).numTrustedProxies).toBe(2);
    expect(findManifest(manifests, 'Service').spec.externalTrafficPolicy).toBe('Cluster');
    // The client travels in X-Forwarded-For, so Cluster costs nothing and is not warned about.
    expect(warningsOf(gw)).toEqual([]);
  });

  test('derives Local and no trusted proxies from an L4 pass-through hop', () => {
    const chart = Testing.chart();
    httpGateway(chart, { trustChain: TrustChain.of(TrustHop.l4PassThrough()), numTrustedProxies: 0 });
    const manifests = synthAndValidate(chart);
    expect(topologyOf(manifests).numTrustedProxies).toBe(0);
    expect(findManifest(manifests, 'Service').spec.externalTrafficPolicy).toBe('Local');
  });

  test('fails when numTrustedProxies contradicts the chain', () => {
    expect(() => httpGateway(Testing.chart(), { trustChain: TrustChain.of(TrustHop.cdn()), numTrustedProxies: 2 }))
      .toThrow(/numTrustedProxies 2 contradicts trustChain .*cdn.* which has 1 .*remove numTrustedProxies/);
  });

  test('fails when externalTrafficPolicy contradicts the chain', () => {
    expect(() => httpGateway(Testing.chart(), { trustChain: TrustChain.direct(), externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER }))
      .toThrow(/externalTrafficPolicy Cluster contradicts trustChain client -> gateway, which needs Local/);
  });

  test('fails for a chain with a PROXY protocol hop and points to ProxyProtocolGateway', () => {
    expect(() => httpGateway(Testing.chart(), { trustChain: TrustChain.of(TrustHop.l4ProxyProtocol()) }))
      .toThrow(/PROXY protocol .*use ProxyProtocolGateway/);
  });
});

describe('attach mode', () => {
  test('emits only the Gateway, VirtualServices and a partial Service for server-side apply', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const gw = PreservedIngressGateway.attach(chart, 'Existing');
    gw.addHttpServer({ hosts: ['httpbin.example.com'] });
    gw.addRoute({ host: 'httpbin.example.com', backendHost: BACKEND, backendPort: 8000 });
    // THEN
    for (const istioVersion of IstioVersion.all()) {
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(manifests.map(m => m.kind).sort()).toEqual(['Gateway', 'Service', 'VirtualService']);
      expect(findManifest(manifests, 'Service')).toEqual({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'istio-ingressgateway', namespace: 'istio-system' },
        spec: { externalTrafficPolicy: 'Local' },
      });
      expect(findManifest(manifests, 'Gateway').spec.selector).toEqual({ istio: 'ingressgateway' });
    }
    expect(gw.targetNamespace).toBe('istio-system');
    expect(gw._gatewayModel()!.serviceName).toBe('istio-ingressgateway');
  });

  test('a custom installation with Cluster emits no Service patch; trusted proxies give a warning with the annotation to set', () => {
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Existing', {
      existing: { selector: { app: 'edge-gw' }, namespace: 'edge', serviceName: 'edge-gw' },
      namespace: 'apps',
      numTrustedProxies: 1,
      externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER,
    });
    gw.addHttpServer();
    const manifests = synthAndValidate(chart);
    expect(manifestsOfKind(manifests, 'Service')).toEqual([]);
    expect(findManifest(manifests, 'Gateway').metadata.namespace).toBe('apps');
    expect(gw.targetSelector).toEqual({ app: 'edge-gw' });
    expect(warningsOf(gw).join('\n')).toMatch(/proxy\.istio\.io\/config to '\{"gatewayTopology":\{"numTrustedProxies":1,"forwardClientCertDetails":"SANITIZE_SET"\}\}'/);
  });
});

describe('bad input', () => {
  test('fails for replicas below 1', () => {
    expect(() => new PreservedIngressGateway(Testing.chart(), 'G', { replicas: 0 })).toThrow(/^replicas 0 is not allowed: use a whole number from 1/);
  });

  test('fails for negative or fractional numTrustedProxies', () => {
    expect(() => new PreservedIngressGateway(Testing.chart(), 'G', { numTrustedProxies: -1 })).toThrow(/^numTrustedProxies -1 is not allowed: .*X-Forwarded-For/);
    expect(() => new PreservedIngressGateway(Testing.chart(), 'G', { numTrustedProxies: 1.5 })).toThrow(/^numTrustedProxies 1.5 is not allowed/);
  });

  test('warns above 5 trusted proxies', () => {
    const chart = Testing.chart();
    const gw = httpGateway(chart, { numTrustedProxies: 6 });
    expect(warningsOf(gw).join('\n')).toMatch(/numTrustedProxies 6 is unusually high/);
  });

  test('fails for an invalid name or host', () => {
    expect(() => new PreservedIngressGateway(Testing.chart(), 'G', { name: 'Bad_Name' })).toThrow(/^name "Bad_Name" is not a valid DNS-1123 label/);
    const gw = new PreservedIngressGateway(Testing.chart(), 'G');
    expect(() => gw.addHttpServer({ hosts: ['bad host'] })).toThrow(/^hosts "bad host" is not a valid host/);
    expect(() => gw.addRoute({ host: 'exa mple.com', backendHost: BACKEND, backendPort: 80 })).toThrow(/^addRoute host "exa mple.com" is not a valid host/);
    expect(() => gw.addRoute({ backendHost: '*.svc', backendPort: 80 })).toThrow(/^addRoute backendHost "\*\.svc" is not allowed/);
  });

  test('fails for ports out of range', () => {
    const gw = new PreservedIngressGateway(Testing.chart(), 'G');
    expect(() => gw.addHttpServer({ port: 70000 })).toThrow(/^addHttpServer port 70000 is not a valid port: use a whole number from 1 to 65535/);
    expect(() => gw.addTcpServer({ port: 0 })).toThrow(/^addTcpServer port 0 is not a valid port/);
    expect(() => gw.addRoute({ backendHost: BACKEND, backendPort: 65536 })).toThrow(/^addRoute backendPort 65536 is not a valid port/);
    expect(() => gw.addHttpServer({ port: 15021 })).toThrow(/^addHttpServer port 15021 is not allowed: it is the gateway's status port/);
  });

  test('fails for two servers on one port with different protocols', () => {
    const gw = new PreservedIngressGateway(Testing.chart(), 'G');
    gw.addHttpServer({ port: 8080 });
    expect(() => gw.addHttpsServer({ port: 8080, credentialName: 'c' })).toThrow(/^addHttpsServer port 8080 already has a HTTP server: .*give the HTTPS server another port/);
  });

  test('fails for a host both served and redirected on one port', () => {
    const gw = new PreservedIngressGateway(Testing.chart(), 'G');
    gw.addHttpServer({ hosts: ['a.example.com'] });
    expect(() => gw.addHttpsRedirect({ hosts: ['a.example.com'] })).toThrow(/^addHttpsRedirect port 80 hosts \["a.example.com"\] already have a plain HTTP server/);
  });

  test('fails for HTTPS without credentialName', () => {
    const gw = new PreservedIngressGateway(Testing.chart(), 'G');
    expect(() => gw.addHttpsServer({ credentialName: '' })).toThrow(/^addHttpsServer credentialName "" is not allowed: give the name of a kubernetes.io\/tls secret in namespace "istio-ingress"/);
  });

  test('fails for a load balancer that cannot keep the client IP', () => {
    expect(() => new PreservedIngressGateway(Testing.chart(), 'G', { loadBalancerProfile: LoadBalancerProfile.AWS_CLB }))
      .toThrow(/^loadBalancerProfile aws-clb cannot keep the client IP: .*use ProxyProtocolGateway/);
    // Behind an L7 hop the client travels in X-Forwarded-For, which the CLB does not touch.
    const chart = Testing.chart();
    httpGateway(chart, { loadBalancerProfile: LoadBalancerProfile.AWS_CLB, numTrustedProxies: 1 });
    expect(() => synthAndValidate(chart)).not.toThrow();
  });

  test('fails at synth for a gateway without servers or a route without a matching server', () => {
    const chart = Testing.chart();
    new PreservedIngressGateway(chart, 'G');
    expect(() => Testing.synth(chart)).toThrow(/gateway "ingressgateway" has no servers/);
    const chart2 = Testing.chart();
    const gw = new PreservedIngressGateway(chart2, 'G');
    gw.addHttpServer({ hosts: ['a.example.com'] });
    gw.addRoute({ host: 'b.example.com', backendHost: BACKEND, backendPort: 80 });
    gw.addTcpRoute({ port: 3306, backendHost: BACKEND, backendPort: 3306 });
    expect(() => Testing.synth(chart2)).toThrow(/addRoute host "b.example.com" has no HTTP or HTTPS server[\s\S]*addTcpRoute port 3306 has no TCP server/);
  });

  test('fails for autoscaling maxReplicas below minReplicas', () => {
    expect(() => new PreservedIngressGateway(Testing.chart(), 'G', { autoscaling: { minReplicas: 3, maxReplicas: 2 } }))
      .toThrow(/^autoscaling.maxReplicas 2 is not allowed: use a whole number from 3/);
  });
});

describe('policy convenience methods', () => {
  test('allowFrom and denyFrom create AuthorizationPolicies on the gateway pods', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = httpGateway(chart, { numTrustedProxies: 1 });
    // WHEN
    gw.allowFrom(['203.0.113.0/24']);
    gw.denyFrom(['203.0.113.7/32']);
    // THEN
    const policies = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(policies.map(p => p.spec.action)).toEqual(['ALLOW', 'DENY']);
    for (const p of policies) {
      expect(p.metadata.namespace).toBe('istio-ingress');
      expect(p.spec.selector).toEqual({ matchLabels: { app: 'ingressgateway', istio: 'ingressgateway' } });
    }
    // Behind one XFF hop the client is the resolved remote address, not the peer.
    expect(policies[0].spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['203.0.113.0/24'] });
  });
});

describe('IngressGatewayBase for subclasses', () => {
  class StrictProxyGateway extends IngressGatewayBase {
    constructor(scope: Chart, id: string) {
      super(scope, id, {
        name: 'pp',
        namespace: 'edge',
        replicas: 2,
        numTrustedProxies: 0,
        forwardClientCertDetails: ForwardClientCertDetails.SANITIZE,
        proxyProtocolMode: ProxyProtocolMode.STRICT,
        proxyProtocolPorts: [],
        externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER,
        profile: LoadBalancerProfile.AWS_CLB,
        containerEnv: { ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL: 'true' },
        serviceAnnotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' },
        istioVersion: IstioVersion.V1_27,
        chain: {},
        flavour: GatewayFlavour.ISTIO,
      });
    }

    public listenerPorts(): number[] {
      return this.serverPorts().map(p => this.listenerPortOf(p));
    }
  }

  test('STRICT PROXY mode writes proxyProtocol: {}, and container env and Service annotations are passed through', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new StrictProxyGateway(chart, 'Pp');
    // WHEN
    gw.addTcpServer({ port: 5432 });
    gw.addHttpServer();
    // THEN
    const manifests = synthAndValidate(chart, { istioVersion: IstioVersion.V1_27 });
    expect(topologyOf(manifests)).toEqual({ numTrustedProxies: 0, forwardClientCertDetails: 'SANITIZE', proxyProtocol: {} });
    const container = findManifest(manifests, 'Deployment').spec.template.spec.containers[0];
    expect(container.env).toEqual([{ name: 'ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL', value: 'true' }]);
    expect(findManifest(manifests, 'Service').metadata.annotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' });
    expect(gw.listenerPorts()).toEqual([5432, 8080]);
    expect(gw._gatewayModel()!.proxyProtocol).toBe(ProxyProtocolMode.STRICT);
  });
});

test('snapshot of attach mode', () => {
  const chart = Testing.chart();
  const gw = PreservedIngressGateway.attach(chart, 'Existing');
  gw.addHttpsServer({ hosts: ['httpbin.example.com'], credentialName: 'httpbin-credential' });
  gw.addRoute({ host: 'httpbin.example.com', backendHost: BACKEND, backendPort: 8000 });
  expect(synthAndValidate(chart)).toMatchSnapshot();
});
