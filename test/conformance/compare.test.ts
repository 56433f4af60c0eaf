import { disagreements, expectedProxyProtocol, gatewayApiDisagreements, IstioProxyReport, notCompared, xffModeOf } from './compare';
import type { ExpectedGatewayApiGateway } from './fixtures';
import { Prediction } from './model-prediction';

/*
 * The comparison must fail on each kind of disagreement: a report that agrees with a prediction, then one field
 * changed on either side.
 */

function hcm(hops = 0, useRemoteAddress = false) {
  return { useRemoteAddress, xffNumTrustedHops: hops, skipXffAppend: false, originalIpDetectionExtensions: [] };
}

function gatewayReport(): IstioProxyReport {
  return {
    set: 's',
    proxy: { name: 'gw', namespace: 'istio-ingress', type: 'Router', source: 'Deployment istio-ingress/gw', labels: { istio: 'gw' }, interceptionMode: '' },
    listeners: [
      {
        name: '0.0.0.0_8080',
        port: 8080,
        proxyProtocol: null,
        originalSrc: false,
        transparent: false,
        chains: [{ name: 'http', destinationPort: 0, hcm: hcm(2, true), rbac: [{ filter: 'http', action: 'DENY', policy: 'ns[istio-ingress]-policy[deny]-rule[0]', field: 'remote_ip', cidr: '2.2.2.0/24', negated: false }] }],
      },
      {
        name: '0.0.0.0_8443',
        port: 8443,
        proxyProtocol: { allowRequestsWithoutProxyProtocol: false },
        originalSrc: false,
        transparent: false,
        chains: [{ name: 'tcp', destinationPort: 0, hcm: null, rbac: [{ filter: 'network', action: 'DENY', policy: 'ns[istio-ingress]-policy[deny]-rule[0]', field: 'remote_ip', cidr: '2.2.2.0/24', negated: false }] }],
      },
    ],
    clusters: [],
    statusPort: { port: 15021, proxyProtocol: { allowRequestsWithoutProxyProtocol: true } },
  };
}

function sidecarReport(): IstioProxyReport {
  return {
    set: 's',
    proxy: { name: 'httpbin', namespace: 'web', type: 'Sidecar', source: 'Deployment web/httpbin', labels: { app: 'httpbin' }, interceptionMode: 'TPROXY' },
    listeners: [{
      name: 'virtualInbound',
      port: 15006,
      proxyProtocol: null,
      originalSrc: true,
      transparent: true,
      chains: [
        { name: 'inbound|8000||', destinationPort: 8000, hcm: hcm(1), rbac: [] },
        { name: 'inbound|9090||', destinationPort: 9090, hcm: hcm(), rbac: [] },
      ],
    }],
    clusters: [],
    statusPort: null,
  };
}

function prediction(): Prediction {
  return {
    proxies: [
      { namespace: 'istio-ingress', name: 'gw', labels: { istio: 'gw' }, role: 'gateway', trustedHops: 2, proxyProtocol: { mode: 'strict-per-port', ports: [8443] } },
      {
        namespace: 'web',
        name: 'httpbin',
        labels: { app: 'httpbin' },
        role: 'sidecar',
        interceptionMode: 'TPROXY',
        xff: { mode: 'trusted-hops', hops: 1, cidrs: [], ports: [8000] },
        inboundProxyProtocol: false,
      },
    ],
    policies: [{ name: 'deny', namespace: 'istio-ingress', selector: { istio: 'gw' }, action: 'DENY', field: 'remoteIpBlocks', negated: false, cidrs: ['2.2.2.0/24'] }],
  };
}

describe('disagreements', () => {
  test('none when the model and istiod agree', () => {
    expect(disagreements(prediction(), [gatewayReport(), sidecarReport()])).toEqual([]);
  });

  test('fails when a policy lands on the other address field', () => {
    // GIVEN istiod matching the DENY on direct_remote_ip
    const report = gatewayReport();
    (report.listeners[0].chains[0].rbac[0] as any).field = 'direct_remote_ip';
    // THEN both the missing and the wrong field are reported
    const found = disagreements(prediction(), [report, sidecarReport()]);
    expect(found).toEqual([
      expect.stringMatching(/listener 0.0.0.0_8080: policy deny DENY remote_ip 2.2.2.0\/24 \(negated false\) is not in istiod's RBAC/),
      expect.stringMatching(/listener 0.0.0.0_8080: policy deny 2.2.2.0\/24 lands on direct_remote_ip in istiod, the model says remote_ip/),
      expect.stringMatching(/istiod has DENY direct_remote_ip 2.2.2.0\/24 .* which the model does not predict/),
    ]);
  });

  test('fails when PROXY protocol is on a listener the model does not cover', () => {
    const report = gatewayReport();
    (report.listeners[0] as any).proxyProtocol = { allowRequestsWithoutProxyProtocol: false };
    expect(disagreements(prediction(), [report, sidecarReport()])).toEqual([
      expect.stringMatching(/listener 0.0.0.0_8080: PROXY protocol strict, the model says none/),
    ]);
  });

  test('fails when PROXY protocol is only on one side (the model expects it on the backend)', () => {
    const p = prediction();
    (p.proxies[1] as any).inboundProxyProtocol = true;
    expect(disagreements(p, [gatewayReport(), sidecarReport()])).toEqual([expect.stringMatching(/virtualInbound: PROXY protocol false, the model says true/)]);
  });

  test('fails when a PROXY gateway\'s status port does not accept PROXY', () => {
    // GIVEN pilot-agent's bootstrap without the PROXY filter on 15021 THEN health checks through the LB would fail
    const report = { ...gatewayReport(), statusPort: { port: 15021, proxyProtocol: null } };
    expect(disagreements(prediction(), [report, sidecarReport()])).toEqual([expect.stringMatching(/status port 15021: PROXY protocol none .* health checks need optional/)]);
  });

  test('fails when the gateway trusts a different number of hops', () => {
    const p = prediction();
    (p.proxies[0] as any).trustedHops = 1;
    expect(disagreements(p, [gatewayReport(), sidecarReport()])).toEqual([expect.stringMatching(/xff_num_trusted_hops 2, the model trusts 1/)]);
  });

  test('fails when the sidecar XFF setting reaches a port the model does not cover', () => {
    const report = sidecarReport();
    (report.listeners[0].chains[1] as any).hcm = hcm(1);
    expect(disagreements(prediction(), [gatewayReport(), report])).toEqual([expect.stringMatching(/port 9090\): XFF trusted-hops 1, the model says default/)]);
  });

  test('fails when the sidecar is not transparent as the model says', () => {
    const report = sidecarReport();
    (report.listeners[0] as any).originalSrc = false;
    expect(disagreements(prediction(), [gatewayReport(), report])).toEqual([expect.stringMatching(/original_src false, the model's interception is TPROXY/)]);
  });

  test('fails when a policy reaches only some listeners of a gateway', () => {
    const report = gatewayReport();
    (report.listeners[1].chains[0] as any).rbac = [];
    expect(disagreements(prediction(), [report, sidecarReport()])).toEqual([expect.stringMatching(/listener 0.0.0.0_8443: policy deny DENY remote_ip 2.2.2.0\/24 .* is not in istiod's RBAC/)]);
  });

  test('fails when istiod has an RBAC rule the model does not predict, or a proxy is missing', () => {
    const report = gatewayReport();
    report.listeners[0].chains[0].rbac.push({ filter: 'http', action: 'ALLOW', policy: 'x', field: 'direct_remote_ip', cidr: '10.0.0.0/8', negated: false });
    const found = disagreements(prediction(), [report]);
    expect(found).toEqual(expect.arrayContaining([
      expect.stringMatching(/istiod has ALLOW direct_remote_ip 10.0.0.0\/8 .* which the model does not predict/),
      expect.stringMatching(/web\/httpbin: the model has a sidecar, istiod configured no proxy/),
    ]));
  });

  test('fails when a construct declared a policy its manifests do not say', () => {
    const policies = [{ name: 'deny', namespace: 'istio-ingress', action: 'DENY', field: 'ipBlocks', negated: false, cidrs: ['2.2.2.0/24'] }] as any;
    expect(disagreements(prediction(), [gatewayReport(), sidecarReport()], { policies, proxies: [] }))
      .toEqual([expect.stringMatching(/the construct declared DENY ipBlocks/)]);
  });

  test('fails when a construct meant a setting its manifests do not carry to istiod', () => {
    // GIVEN manifests that agree with istiod, but a gateway construct that meant 3 trusted hops
    const proxies = [{ ...prediction().proxies[0], trustedHops: 3 }];
    // THEN the difference shows, attributed to the construct
    expect(disagreements(prediction(), [gatewayReport(), sidecarReport()], { policies: [], proxies }))
      .toEqual([expect.stringMatching(/istio-ingress\/gw \(as the construct declared it\) listener 0.0.0.0_8080: xff_num_trusted_hops 2, the model trusts 3/)]);
  });

  test('PROXY expectations per mode and XFF modes in the model\'s words', () => {
    expect(['strict', 'optional', 'strict-per-port', 'off'].map(m => expectedProxyProtocol(m, [9000], 9100))).toEqual(['strict', 'none', 'none', 'none']);
    expect(expectedProxyProtocol('optional', [], 9100)).toBe('optional');
    expect(xffModeOf({ ...hcm(), originalIpDetectionExtensions: [{ name: 'envoy.http.original_ip_detection.xff', xffNumTrustedHops: 0, trustedCidrs: ['10.0.0.0/8'], skipXffAppend: false }] }))
      .toBe('trusted-cidrs 10.0.0.0/8');
    expect(xffModeOf(hcm(0, true))).toBe('use-remote-address');
    expect(xffModeOf({ ...hcm(), originalIpDetectionExtensions: [{ name: 'envoy.http.original_ip_detection.custom_header', xffNumTrustedHops: 0, trustedCidrs: [], skipXffAppend: true }] }))
      .toBe('custom-header');
  });

  test('an installed gateway is the model\'s gateway with the same namespace and labels, whatever its name', () => {
    // GIVEN istiod names an installed gateway after its selector, the model after the Service attach mode names
    const installed = { ...gatewayReport(), proxy: { ...gatewayReport().proxy, name: 'gw-selector', source: 'installed gateway selected by Gateway istio-ingress/gw' } };
    // THEN they are one proxy, and the hop count (which the set does not configure for installed pods) is not compared
    const p = prediction();
    const gatewayOnly = { proxies: [{ ...p.proxies[0], trustedHops: 5 }], policies: p.policies };
    expect(disagreements(gatewayOnly, [installed])).toEqual([]);
    // AND a different label set is a different proxy
    const other = { ...installed, proxy: { ...installed.proxy, labels: { istio: 'other' } } };
    expect(disagreements(gatewayOnly, [other])).toEqual(expect.arrayContaining([expect.stringMatching(/istiod configured no proxy of that name/)]));
  });
});

/** istiod's report for the pod of a Gateway API Gateway ingress/web: Local, two hops, an ALLOW on remote_ip. */
function gatewayApiReport(): IstioProxyReport {
  const listener = (port: number) => ({
    name: `0.0.0.0_${port}`,
    port,
    proxyProtocol: null,
    originalSrc: false,
    transparent: false,
    chains: [{ name: '', destinationPort: 0, hcm: hcm(2, true), rbac: [{ filter: 'http', action: 'ALLOW', policy: 'ns[ingress]-policy[allow]-rule[0]', field: 'remote_ip', cidr: '198.51.100.0/24', negated: false }] }],
  });
  return {
    set: 's',
    proxy: {
      name: 'web-istio',
      namespace: 'ingress',
      type: 'Router',
      source: 'Gateway API Gateway ingress/web (automated deployment rendered by istiod)',
      labels: { 'gateway.networking.k8s.io/gateway-name': 'web' },
      interceptionMode: '',
    },
    listeners: [listener(80), listener(443)],
    clusters: [],
    statusPort: { port: 15021, proxyProtocol: null },
    gatewayApi: {
      gateway: 'Gateway ingress/web',
      service: {
        name: 'web-istio',
        type: 'LoadBalancer',
        externalTrafficPolicy: 'Local',
        ipFamilyPolicy: 'PreferDualStack',
        annotations: {},
        ports: [{ name: 'status-port', port: 15021, appProtocol: 'tcp' }, { name: 'http', port: 80, appProtocol: 'http' }, { name: 'https', port: 443, appProtocol: 'https' }],
      },
      renderedKinds: ['Deployment', 'Service', 'ServiceAccount'],
      proxyConfig: { gatewayTopology: { numTrustedProxies: 2 } },
    },
  };
}

function expectedWeb(): ExpectedGatewayApiGateway {
  return {
    namespace: 'ingress',
    gateway: 'web',
    serviceType: 'LoadBalancer',
    externalTrafficPolicy: 'Local',
    ipFamilyPolicy: 'PreferDualStack',
    trustedHops: 2,
    proxyProtocol: 'none',
    statusPortProxyProtocol: 'none',
    listenerPorts: [80, 443],
    rbac: ['ALLOW remote_ip 198.51.100.0/24'],
  };
}

describe('Gateway API gateways', () => {
  test('are listed as not compared with the model, and are no disagreement, while the model has no proxy for them', () => {
    // GIVEN a Gateway API gateway pod istiod configured and a model (explain) that does not read Gateway API objects
    const reports = [gatewayReport(), sidecarReport(), gatewayApiReport()];
    // THEN the comparison says so for that proxy, and compares the others as before
    expect(notCompared(prediction(), reports)).toEqual([
      'ingress/web-istio: Gateway API gateway (Gateway ingress/web) not compared with the model: explain does not read Gateway API gateways yet',
    ]);
    expect(disagreements(prediction(), reports)).toEqual([]);
    // AND a classic gateway the model does not know is still a disagreement, not "not compared"
    expect(notCompared({ proxies: [], policies: [] }, [gatewayReport()])).toEqual([]);
  });

  test('are compared with the model once it has a gateway of that name or gateway-name label', () => {
    // GIVEN a model gateway for the same pod that trusts 1 hop
    const model = { namespace: 'ingress', name: 'web', labels: { 'gateway.networking.k8s.io/gateway-name': 'web' }, role: 'gateway', trustedHops: 1, proxyProtocol: { mode: 'off', ports: [] } };
    const p = { proxies: [model], policies: [] };
    // THEN it is compared (no longer listed), and the hop count and the unpredicted RBAC rule are disagreements
    expect(notCompared(p, [gatewayApiReport()])).toEqual([]);
    expect(disagreements(p, [gatewayApiReport()])).toEqual(expect.arrayContaining([
      expect.stringMatching(/ingress\/web listener 0.0.0.0_80: xff_num_trusted_hops 2, the model trusts 1/),
      expect.stringMatching(/istiod has ALLOW remote_ip 198.51.100.0\/24 .* which the model does not predict/),
    ]));
  });

  test('agree with the scenario\'s expectation', () => {
    expect(gatewayApiDisagreements([expectedWeb()], [gatewayApiReport()])).toEqual([]);
    // AND the expectation goes through disagreements() from declared.json
    const declared = { policies: [], proxies: [], gatewayApi: [expectedWeb()] };
    expect(disagreements(prediction(), [gatewayReport(), sidecarReport(), gatewayApiReport()], declared)).toEqual([]);
    // AND a missing Gateway API gateway from declared.json is a disagreement there too
    expect(disagreements(prediction(), [gatewayReport(), sidecarReport()], declared)).toEqual(['Gateway ingress/web: istiod rendered no automated deployment for it']);
  });

  test('fails when the ConfigMap did not make the Service Local', () => {
    const report = gatewayApiReport();
    (report.gatewayApi!.service as any).externalTrafficPolicy = 'Cluster';
    expect(gatewayApiDisagreements([expectedWeb()], [report])).toEqual([
      'Gateway ingress/web (ingress/web-istio) Service web-istio: externalTrafficPolicy Cluster, expected Local (the parametersRef ConfigMap\'s service patch)',
    ]);
  });

  test('fails when a targetRefs policy does not reach a listener, or lands on the other field', () => {
    const report = gatewayApiReport();
    (report.listeners[1].chains[0] as any).rbac = [];
    (report.listeners[0].chains[0].rbac[0] as any).field = 'direct_remote_ip';
    expect(gatewayApiDisagreements([expectedWeb()], [report])).toEqual([
      'Gateway ingress/web (ingress/web-istio) listener 0.0.0.0_80: RBAC [ALLOW direct_remote_ip 198.51.100.0/24], expected [ALLOW remote_ip 198.51.100.0/24]',
      'Gateway ingress/web (ingress/web-istio) listener 0.0.0.0_443: RBAC [], expected [ALLOW remote_ip 198.51.100.0/24]',
    ]);
  });

  test('fails on the hop count, PROXY, listener ports, the status port and a missing deployment', () => {
    const report = gatewayApiReport();
    (report.listeners[0].chains[0] as any).hcm = hcm(0, true);
    (report.listeners[0] as any).proxyProtocol = { allowRequestsWithoutProxyProtocol: false };
    report.listeners.pop();
    (report as any).statusPort = { port: 15021, proxyProtocol: { allowRequestsWithoutProxyProtocol: true } };
    expect(gatewayApiDisagreements([expectedWeb(), { ...expectedWeb(), gateway: 'api' }], [report])).toEqual([
      'Gateway ingress/web (ingress/web-istio) listener ports [80], expected [80,443]',
      'Gateway ingress/web (ingress/web-istio) listener 0.0.0.0_80: PROXY protocol strict, expected none',
      'Gateway ingress/web (ingress/web-istio) listener 0.0.0.0_80: xff_num_trusted_hops 0, expected 2',
      'Gateway ingress/web (ingress/web-istio) status port: PROXY protocol optional, expected none',
      'Gateway ingress/api: istiod rendered no automated deployment for it',
    ]);
  });
});
