import { Chart, Testing } from 'cdk8s';
import { IConstruct } from 'constructs';
import {
  ExternalTrafficPolicy, HealthCheckFix, IstioVersion, LoadBalancerProfile, ProxyProtocolGateway,
  ProxyProtocolGatewayProps, ProxyProtocolMode, ProxyProtocolSupport, ProxyProtocolVersion, ProxyRole,
  SourceIpWarnings, TrustChain, TrustHop,
} from '../../src';
import { PROXY_PROTOCOL_FILTER, PROXY_PROTOCOL_TYPE } from '../../src/envoy/names';
import { findManifest, manifestsOfKind, releaseWarnings, synthAndValidate } from '../harness';

const BACKEND = 'svc-b.apps.svc.cluster.local';
const STATUS_ENV = 'ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL';
const AWS_PP = 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol';
const AWS_HC_PROTOCOL = 'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol';

function warningsOf(construct: IConstruct): string[] {
  return SourceIpWarnings.messages(construct);
}

function topologyOf(manifests: any[]): any {
  const deployment = findManifest(manifests, 'Deployment');
  return JSON.parse(deployment.spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology;
}

function envOf(manifests: any[]): any[] {
  return findManifest(manifests, 'Deployment').spec.template.spec.containers[0].env ?? [];
}

/** Gateway-context EnvoyFilters that add the PROXY listener filter (the sidecar inbound one of a backend is not counted). */
function gatewayProxyFilters(manifests: any[]): any[] {
  return manifestsOfKind(manifests, 'EnvoyFilter').filter(f => f.spec.configPatches.some((p: any) =>
    p.match.context === 'GATEWAY' && p.patch.value?.name === PROXY_PROTOCOL_FILTER));
}

/** A TCP gateway on port 9000 routed to svc-b (the IstioCon "Preserve TCP Original Src Addr - ingress" design). */
function tcpGateway(chart: Chart, props: ProxyProtocolGatewayProps = {}): ProxyProtocolGateway {
  const gw = new ProxyProtocolGateway(chart, 'Gateway', { inClusterCallers: false, ...props });
  gw.addTcpServer({ port: 9000 });
  gw.addTcpRoute({ port: 9000, backendHost: BACKEND, backendPort: 9000 });
  return gw;
}

describe('IstioCon TCP ingress design: LB PROXY -> gateway -> PROXY -> backend sidecar', () => {
  for (const istioVersion of IstioVersion.all()) {
    test(`Istio ${istioVersion.label}: native strict PROXY on the gateway, DestinationRule and inbound filter for the backend`, () => {
      // GIVEN an AWS NLB (ip targets) that sends PROXY v2
      const chart = Testing.chart();
      const gw = tcpGateway(chart, {
        istioVersion, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, proxyProtocolVersion: ProxyProtocolVersion.V2,
      });
      // WHEN the gateway passes the client on to svc-b with PROXY v1 (the talk's upstream transport socket)
      const backend = gw.addProxyProtocolBackend('SvcB', { host: 'svc-b', namespace: 'apps', selector: { app: 'svc-b' }, port: 9000, version: ProxyProtocolVersion.V1 });
      // THEN
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(topologyOf(manifests)).toEqual({ numTrustedProxies: 0, forwardClientCertDetails: 'SANITIZE_SET', proxyProtocol: {} });
      expect(gatewayProxyFilters(manifests)).toEqual([]);
      const service = findManifest(manifests, 'Service');
      expect(service.metadata.annotations[AWS_PP]).toBe('*');
      expect(service.spec.externalTrafficPolicy).toBe('Cluster');
      if (istioVersion.supportsStatusPortProxyProtocol) {
        expect(envOf(manifests)).toEqual([{ name: STATUS_ENV, value: 'true' }]);
        expect(service.metadata.annotations[AWS_HC_PROTOCOL]).toBeUndefined();
      } else {
        expect(envOf(manifests)).toEqual([]);
        expect(service.metadata.annotations[AWS_HC_PROTOCOL]).toBe('tcp');
        expect(service.metadata.annotations['service.beta.kubernetes.io/aws-load-balancer-healthcheck-port']).toBe('traffic-port');
      }
      const gateway = findManifest(manifests, 'Gateway');
      expect(gateway.spec.servers).toEqual([{ port: { number: 9000, name: 'tcp-9000', protocol: 'TCP' }, hosts: ['*'] }]);
      const vs = findManifest(manifests, 'VirtualService');
      expect(vs.spec.tcp).toEqual([{ match: [{ port: 9000 }], route: [{ destination: { host: BACKEND, port: { number: 9000 } } }] }]);
      const dr = findManifest(manifests, 'DestinationRule', 'svc-b-proxy-protocol');
      expect(dr.apiVersion).toBe('networking.istio.io/v1');
      expect(dr.metadata.namespace).toBe('apps');
      expect(dr.spec).toEqual({ host: BACKEND, trafficPolicy: { proxyProtocol: { version: 'V1' } } });
      const inbound = findManifest(manifests, 'EnvoyFilter', 'svc-b-proxy-protocol-inbound');
      expect(inbound.spec.workloadSelector).toEqual({ labels: { app: 'svc-b' } });
      expect(inbound.spec.configPatches).toEqual([{
        applyTo: 'LISTENER_FILTER',
        match: { context: 'SIDECAR_INBOUND', listener: { portNumber: 15006 } },
        patch: { operation: 'INSERT_FIRST', value: { name: PROXY_PROTOCOL_FILTER, typed_config: { '@type': PROXY_PROTOCOL_TYPE } } },
      }]);
      // The inbound filter is on the sidecar's one inbound listener: every pod port accepts PROXY.
      expect(backend._workloadModel()).toMatchObject({ proxyProtocolOnEveryPort: true, proxyProtocolPorts: [] });
      expect(backend.istioVersion).toBe(istioVersion);
      expect(gw._gatewayModel()!.proxyProtocol).toBe(ProxyProtocolMode.STRICT);
      expect(warningsOf(chart)).toEqual(releaseWarnings(istioVersion));
    });
  }

  test('snapshot', () => {
    const chart = Testing.chart();
    const gw = tcpGateway(chart, { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    gw.addProxyProtocolBackend('SvcB', { host: 'svc-b', namespace: 'apps', selector: { app: 'svc-b' }, port: 9000 });
    expect(synthAndValidate(chart)).toMatchSnapshot();
  });
});

describe('TLS passthrough', () => {
  test('a TLS server with a tls route, PROXY stripped before the SNI is read', () => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { inClusterCallers: false, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_INSTANCE });
    // WHEN
    gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
    gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'db.data.svc.cluster.local', backendPort: 5432 });
    // THEN
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'Gateway').spec.servers[0]).toEqual({
      port: { number: 443, name: 'tls-443', protocol: 'TLS' }, hosts: ['db.example.com'], tls: { mode: 'PASSTHROUGH' },
    });
    expect(findManifest(manifests, 'VirtualService').spec.tls).toEqual([{
      match: [{ port: 443, sniHosts: ['db.example.com'] }], route: [{ destination: { host: 'db.data.svc.cluster.local', port: { number: 5432 } } }],
    }]);
    expect(topologyOf(manifests).proxyProtocol).toEqual({});
    // instance targets: kube-proxy's health check never speaks PROXY, so the TCP check is used on every release
    expect(findManifest(manifests, 'Service').metadata.annotations[AWS_HC_PROTOCOL]).toBe('tcp');
  });
});

describe('OPTIONAL and STRICT_PER_PORT use an EnvoyFilter instead of the native setting', () => {
  for (const istioVersion of IstioVersion.all()) {
    test(`Istio ${istioVersion.label}: OPTIONAL on every server port, at the listener (target) port`, () => {
      // GIVEN
      const chart = Testing.chart();
      const gw = new ProxyProtocolGateway(chart, 'Gateway', { istioVersion, proxyProtocolMode: ProxyProtocolMode.OPTIONAL });
      // WHEN servers are added after the gateway
      gw.addHttpServer();
      gw.addTcpServer({ port: 9000 });
      gw.addRoute({ backendHost: 'web.apps.svc.cluster.local', backendPort: 8080 });
      gw.addTcpRoute({ port: 9000, backendHost: BACKEND, backendPort: 9000 });
      // THEN
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(topologyOf(manifests).proxyProtocol).toBeUndefined();
      const [filter] = gatewayProxyFilters(manifests);
      expect(filter.metadata).toEqual({ name: 'proxy-protocol-gateway-proxy-protocol', namespace: 'istio-ingress' });
      expect(filter.spec.workloadSelector.labels).toEqual(gw.targetSelector);
      expect(filter.spec.configPatches.map((p: any) => p.match.listener.portNumber)).toEqual([8080, 9000]);
      for (const p of filter.spec.configPatches) {
        expect(p.patch).toEqual({
          operation: 'INSERT_FIRST',
          value: { name: PROXY_PROTOCOL_FILTER, typed_config: { '@type': PROXY_PROTOCOL_TYPE, 'allow_requests_without_proxy_protocol': true } },
        });
      }
      expect(gw.listenerFilter).toBeDefined();
      expect(gw._gatewayModel()!.proxyProtocol).toBe(ProxyProtocolMode.OPTIONAL);
      // optional PROXY keeps in-cluster callers working: no warning about them
      expect(warningsOf(gw).join('\n')).not.toMatch(/clients inside the cluster/);
    });

    test(`Istio ${istioVersion.label}: STRICT_PER_PORT only on the listed ports`, () => {
      // GIVEN a generic load balancer switched to PROXY per listener by hand
      const chart = Testing.chart();
      const gw = new ProxyProtocolGateway(chart, 'Gateway', {
        istioVersion, proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [443], inClusterCallers: true,
      });
      // WHEN
      gw.addTlsPassthroughServer({ hosts: ['db.example.com'] });
      gw.addTcpServer({ port: 9000 });
      gw.addTlsRoute({ sniHosts: ['db.example.com'], backendHost: 'db.data.svc.cluster.local', backendPort: 5432 });
      gw.addTcpRoute({ port: 9000, backendHost: BACKEND, backendPort: 9000 });
      // THEN
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(topologyOf(manifests).proxyProtocol).toBeUndefined();
      const [filter] = gatewayProxyFilters(manifests);
      expect(filter.spec.configPatches).toHaveLength(1);
      expect(filter.spec.configPatches[0].match.listener.portNumber).toBe(8443);
      expect(filter.spec.configPatches[0].patch.value.typed_config).toEqual({ '@type': PROXY_PROTOCOL_TYPE });
      expect(gw._gatewayModel()!.proxyProtocolPorts).toEqual([443]);
      expect(warningsOf(gw).join('\n')).toMatch(/in-cluster clients must use the ports without PROXY, not \[443\]/);
    });
  }

  test('never both the native setting and the EnvoyFilter on one gateway (istio/istio#49836)', () => {
    for (const proxyProtocolMode of [ProxyProtocolMode.STRICT, ProxyProtocolMode.OPTIONAL, ProxyProtocolMode.STRICT_PER_PORT]) {
      const chart = Testing.chart();
      const proxyProtocolPorts = proxyProtocolMode === ProxyProtocolMode.STRICT_PER_PORT ? [9000] : undefined;
      const gw = tcpGateway(chart, { proxyProtocolMode, proxyProtocolPorts });
      const manifests = synthAndValidate(chart);
      const native = topologyOf(manifests).proxyProtocol !== undefined;
      const filters = gatewayProxyFilters(manifests).length;
      expect(Number(native) + filters).toBe(1);
      expect(gw.listenerFilter === undefined).toBe(native);
    }
  });
});

describe('trust chain', () => {
  test('derives the version and the traffic policy from a chain with a PROXY hop', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const gw = tcpGateway(chart, {
      loadBalancerProfile: LoadBalancerProfile.TENCENT_CLB,
      trustChain: TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'clb', proxyProtocolVersion: ProxyProtocolVersion.V2 })),
    });
    // THEN
    synthAndValidate(chart);
    expect(gw.proxyProtocolVersion).toBe(ProxyProtocolVersion.V2);
    expect(gw._gatewayModel()!.externalTrafficPolicy).toBe(ExternalTrafficPolicy.CLUSTER);
    expect(gw.targetRole).toBe(ProxyRole.GATEWAY);
  });

  test('a CDN in front of the PROXY load balancer sets numTrustedProxies and warns that XFF wins for HTTP', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const gw = tcpGateway(chart, { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l4ProxyProtocol()) });
    // THEN
    const manifests = synthAndValidate(chart);
    expect(topologyOf(manifests)).toEqual({ numTrustedProxies: 1, forwardClientCertDetails: 'SANITIZE_SET', proxyProtocol: {} });
    expect(warningsOf(gw).join('\n')).toMatch(/numTrustedProxies 1 with PROXY protocol: for HTTP servers the X-Forwarded-For header takes precedence/);
  });

  test('fails a chain without a PROXY hop', () => {
    expect(() => tcpGateway(Testing.chart(), { trustChain: TrustChain.of(TrustHop.l4PassThrough()) }))
      .toThrow(/trustChain client -> l4-passthrough -> gateway has no PROXY protocol hop.*TrustHop.l4ProxyProtocol\(\)/);
  });

  test('fails explicit props that contradict the chain', () => {
    const trustChain = TrustChain.of(TrustHop.l4ProxyProtocol({ proxyProtocolVersion: ProxyProtocolVersion.V2 }));
    expect(() => tcpGateway(Testing.chart(), { trustChain, numTrustedProxies: 1 })).toThrow(/numTrustedProxies 1 contradicts trustChain/);
    expect(() => tcpGateway(Testing.chart(), { trustChain, proxyProtocolVersion: ProxyProtocolVersion.V1 })).toThrow(/proxyProtocolVersion V1 contradicts trustChain .* sends V2/);
    expect(() => tcpGateway(Testing.chart(), { trustChain, externalTrafficPolicy: ExternalTrafficPolicy.LOCAL })).toThrow(/externalTrafficPolicy Local contradicts trustChain/);
  });
});

describe('errors', () => {
  test('fails load balancers that cannot send PROXY', () => {
    expect(() => tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.GKE })).toThrow(/loadBalancerProfile "gke" cannot send PROXY protocol/);
    expect(() => tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.AKS })).toThrow(/loadBalancerProfile "aks" cannot send PROXY protocol/);
    expect(() => tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IN_TREE })).toThrow(/"aws-nlb-in-tree" cannot send PROXY protocol: .*silently ignores/);
  });

  test('fails a PROXY version the profile does not send', () => {
    expect(() => tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, proxyProtocolVersion: ProxyProtocolVersion.V1 }))
      .toThrow(/proxyProtocolVersion V1 is not sent by loadBalancerProfile "aws-nlb-ip": it sends only V2/);
  });

  test('fails mode OFF, ports with STRICT, and STRICT_PER_PORT without ports', () => {
    expect(() => tcpGateway(Testing.chart(), { proxyProtocolMode: ProxyProtocolMode.OFF })).toThrow(/proxyProtocolMode off is not allowed on a ProxyProtocolGateway: use PreservedIngressGateway/);
    expect(() => tcpGateway(Testing.chart(), { proxyProtocolPorts: [9000] })).toThrow(/proxyProtocolPorts \[9000\] is not allowed with proxyProtocolMode STRICT/);
    expect(() => tcpGateway(Testing.chart(), { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT })).toThrow(/proxyProtocolPorts is empty with proxyProtocolMode STRICT_PER_PORT/);
    expect(() => tcpGateway(Testing.chart(), { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [0] })).toThrow(/proxyProtocolPorts\[0\] 0 is not a valid port/);
  });

  test('fails in-cluster callers with strict PROXY on every port', () => {
    expect(() => tcpGateway(Testing.chart(), { inClusterCallers: true })).toThrow(/inClusterCallers true is not allowed with proxyProtocolMode STRICT: .*ProxyProtocolMode.OPTIONAL/);
  });

  test('fails PROXY ports without a server', () => {
    const chart = Testing.chart();
    tcpGateway(chart, { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [9000, 9100] });
    expect(() => Testing.synth(chart)).toThrow(/proxyProtocolPorts \[9100\] have no server on gateway "proxy-protocol-gateway" \(servers: \[9000\]\)/);
  });

  test('fails per-port PROXY when the load balancer sends PROXY on every port (PROXY on one side only)', () => {
    // GIVEN an AWS NLB whose annotation switches PROXY on for every target group
    const chart = Testing.chart();
    const gw = tcpGateway(chart, {
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [9000],
    });
    // WHEN a second port does not accept PROXY
    gw.addTcpServer({ port: 9100 });
    // THEN
    expect(() => Testing.synth(chart)).toThrow(/leave ports \[9100\] without PROXY, but the load balancer's Service annotations switch PROXY on for every port/);
  });

  test('per-port PROXY with the annotations turned off is allowed, with a warning to switch PROXY on by hand', () => {
    const chart = Testing.chart();
    const gw = tcpGateway(chart, {
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
      proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT,
      proxyProtocolPorts: [9000],
      loadBalancerProxyProtocolAnnotations: false,
    });
    gw.addTcpServer({ port: 9100 });
    const manifests = synthAndValidate(chart);
    expect(findManifest(manifests, 'Service').metadata.annotations[AWS_PP]).toBeUndefined();
    expect(warningsOf(gw).join('\n')).toMatch(/loadBalancerProxyProtocolAnnotations is false, so switch PROXY protocol on at the load balancer yourself/);
  });

  test('fails a PROXY backend the gateway does not route to', () => {
    const chart = Testing.chart();
    const gw = tcpGateway(chart);
    gw.addProxyProtocolBackend('Other', { host: 'other', namespace: 'apps', selector: { app: 'other' }, port: 9000 });
    expect(() => Testing.synth(chart)).toThrow(/addProxyProtocolBackend "Other" host "other.apps.svc.cluster.local" is not routed by gateway/);
  });
});

describe('custom load balancers', () => {
  test('proxyProtocolSupport describes a load balancer the library has no facts for', () => {
    // GIVEN a DigitalOcean load balancer, switched on by its own annotation
    const chart = Testing.chart();
    const proxyProtocolSupport = ProxyProtocolSupport.custom('do-lb', {
      versions: [ProxyProtocolVersion.V1, ProxyProtocolVersion.V2],
      serviceAnnotations: { 'service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol': 'true' },
      healthCheckFix: HealthCheckFix.NONE_NEEDED,
    });
    // WHEN
    const gw = tcpGateway(chart, { loadBalancerProfile: LoadBalancerProfile.custom({ id: 'do-lb' }), proxyProtocolSupport });
    // THEN
    const manifests = synthAndValidate(chart);
    // with the declared health-check fix written down for explain, which knows DigitalOcean's own facts
    expect(findManifest(manifests, 'Service').metadata.annotations).toEqual({
      'service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol': 'true',
      'source-ip.cdk8s.io/health-check-fix': 'none-needed',
    });
    expect(gw.proxyProtocolSupport).toBe(proxyProtocolSupport);
    expect(warningsOf(gw)).toEqual([]);
  });
});

describe('warnings', () => {
  test('strict PROXY warns about in-cluster callers unless told there are none', () => {
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway');
    gw.addTcpServer({ port: 9000 });
    expect(warningsOf(gw).join('\n')).toMatch(/proxyProtocolMode strict: clients inside the cluster that call the gateway Service send no PROXY header/);
  });

  test('numTrustedProxies with PROXY warns that X-Forwarded-For wins', () => {
    const gw = tcpGateway(Testing.chart(), { numTrustedProxies: 2 });
    expect(warningsOf(gw).join('\n')).toMatch(/numTrustedProxies 2 with PROXY protocol/);
  });

  test('a manual load balancer step and an Alibaba caveat are warnings', () => {
    expect(warningsOf(tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.TENCENT_CLB })).join('\n'))
      .toMatch(/loadBalancerProfile "tencent-clb": switch PROXY protocol \(v2\) on for the CLB layer-4 listeners/);
    const alibaba = tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.ALIBABA_NLB });
    expect(warningsOf(alibaba).join('\n')).toMatch(/cannot switch PROXY protocol on a live listener/);
  });

  test('an unknown health check before Istio 1.27 is a warning naming istio/istio#25875', () => {
    const old = tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.ALIBABA_CLB, istioVersion: IstioVersion.V1_26 });
    expect(warningsOf(old).join('\n')).toMatch(/istioVersion 1.26 .* the status port 15021 rejects them \(istio\/istio#25875\)/);
    const current = tcpGateway(Testing.chart(), { loadBalancerProfile: LoadBalancerProfile.ALIBABA_CLB, istioVersion: IstioVersion.V1_27 });
    expect(warningsOf(current).join('\n')).not.toMatch(/25875/);
  });
});
