import { ApiObject, Chart, Testing } from 'cdk8s';
import {
  Explainer, Finding, FindingSeverity, GatewayFlavour, IstioVersion, LoadBalancerProfile, ProxyProtocolGateway,
} from '../../src';
import { synthAndValidate } from '../harness';

/*
 * The status port 15021 and PROXY protocol: a load balancer that health-checks the status port with a PROXY header
 * needs ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL on the gateway's istio-proxy (Istio 1.27+), from a ProxyConfig, the
 * pod template's container env or a Gateway API deployment overlay, or the TCP health-check annotations.
 */

const ENV = 'ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL';
const AWS_NLB_IP_WITH_PROXY = {
  'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
  'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
  'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true',
  'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*',
};
const TCP_HEALTH_CHECK = {
  'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'tcp',
  'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': 'traffic-port',
};

interface ClassicGatewayOptions {
  readonly containerEnv?: Array<{ name: string; value: string }>;
  readonly proxyMetadata?: { [key: string]: string };
  readonly serviceAnnotations?: { [key: string]: string };
}

/** A hand-written classic gateway that requires PROXY, behind an AWS NLB (ip targets) that sends it. */
function classicGateway(chart: Chart, o: ClassicGatewayOptions = {}): void {
  const labels = { istio: 'ingressgateway' };
  const podProxyConfig = JSON.stringify({ gatewayTopology: { proxyProtocol: {} }, ...(o.proxyMetadata ? { proxyMetadata: o.proxyMetadata } : {}) });
  new ApiObject(chart, 'gateway', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'ingressgateway', namespace: 'istio-ingress' },
    spec: {
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { 'inject.istio.io/templates': 'gateway', 'proxy.istio.io/config': podProxyConfig } },
        spec: { containers: [{ name: 'istio-proxy', image: 'auto', ...(o.containerEnv ? { env: o.containerEnv } : {}) }] },
      },
    },
  });
  new ApiObject(chart, 'gateway-service', {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 'ingressgateway', namespace: 'istio-ingress', annotations: { ...AWS_NLB_IP_WITH_PROXY, ...o.serviceAnnotations } },
    spec: { type: 'LoadBalancer', selector: labels, ports: [{ name: 'https', port: 443 }] },
  });
}

function proxyConfig(chart: Chart, id: string, namespace: string, value: string,
  matchLabels?: { [key: string]: string }, extra: { [key: string]: any } = {}): void {
  new ApiObject(chart, `proxy-config-${id}`, {
    apiVersion: 'networking.istio.io/v1beta1',
    kind: 'ProxyConfig',
    metadata: { name: id, namespace, ...extra },
    spec: { ...(matchLabels ? { selector: { matchLabels } } : {}), environmentVariables: { [ENV]: value } },
  });
}

function statusPortFindings(chart: Chart, istioVersion: IstioVersion): Finding[] {
  const manifests = synthAndValidate(chart, { istioVersion });
  return Explainer.fromManifests(manifests, { istioVersion }).findings.filter(f => /status port 15021/.test(f.message));
}

describe('classic gateway: the status port and PROXY health checks', () => {
  test('without the variable or TCP health checks, the status port rejects the PROXY health checks: an error with both fixes', () => {
    // GIVEN
    const chart = Testing.chart();
    classicGateway(chart);
    // WHEN
    const findings = statusPortFindings(chart, IstioVersion.V1_27);
    // THEN
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchSnapshot();
    expect(findings[0].severity).toBe(FindingSeverity.ERROR);
    expect(findings[0].where).toBe('gateway istio-ingress/ingressgateway');
    expect(findings[0].message).toMatch(/load balancer "aws-nlb-ip" sends PROXY protocol on its health checks of the status port 15021, which does not accept PROXY/);
    expect(findings[0].fix).toMatch(new RegExp(`set ${ENV}: "true" for the gateway's istio-proxy \\(a ProxyConfig selecting its pods`));
    expect(findings[0].fix).toMatch(/service.beta.kubernetes.io\/aws-load-balancer-healthcheck-protocol: "tcp"/);
    expect(findings[0].fix).toMatch(/aws-load-balancer-healthcheck-port: "traffic-port" on Service ingressgateway \(a TCP check of the traffic port\)$/);
  });

  test('a mesh-wide ProxyConfig in the root namespace sets the variable: no finding on Istio 1.27', () => {
    // GIVEN
    const chart = Testing.chart();
    classicGateway(chart);
    proxyConfig(chart, 'status-port', 'istio-system', 'true');
    // WHEN
    const findings = statusPortFindings(chart, IstioVersion.V1_27);
    // THEN
    expect(findings).toEqual([]);
  });

  test('the same ProxyConfig on Istio 1.26 is ignored: an error that says so and gives only the health-check fix', () => {
    // GIVEN
    const chart = Testing.chart();
    classicGateway(chart);
    proxyConfig(chart, 'status-port', 'istio-system', 'true');
    // WHEN
    const findings = statusPortFindings(chart, IstioVersion.V1_26);
    // THEN
    expect(findings).toHaveLength(1);
    expect(findings[0].severity).toBe(FindingSeverity.ERROR);
    expect(findings[0].message).toMatch(/ProxyConfig istio-system\/status-port .*environmentVariables\) is ignored before Istio 1.27 \(running 1.26\)/);
    expect(findings[0].fix).toMatch(/aws-load-balancer-healthcheck-port: "traffic-port" on Service ingressgateway.*or upgrade to Istio 1.27\+/);
  });

  test('a ProxyConfig with a selector applies in its own namespace only, and to the pods it selects', () => {
    // GIVEN
    const selected = Testing.chart();
    classicGateway(selected);
    proxyConfig(selected, 'gateway-env', 'istio-ingress', 'true', { istio: 'ingressgateway' });
    const otherLabels = Testing.chart();
    classicGateway(otherLabels);
    proxyConfig(otherLabels, 'gateway-env', 'istio-ingress', 'true', { app: 'other' });
    const rootNamespace = Testing.chart();
    classicGateway(rootNamespace);
    proxyConfig(rootNamespace, 'gateway-env', 'istio-system', 'true', { istio: 'ingressgateway' });
    // WHEN / THEN
    expect(statusPortFindings(selected, IstioVersion.V1_27)).toEqual([]);
    expect(statusPortFindings(otherLabels, IstioVersion.V1_27).map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
    expect(statusPortFindings(rootNamespace, IstioVersion.V1_27).map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
  });

  test('precedence: the selecting ProxyConfig over the namespace one over the mesh-wide one, and the container env over all', () => {
    // GIVEN a mesh-wide "true" that the gateway's own ProxyConfig turns off
    const off = Testing.chart();
    classicGateway(off);
    proxyConfig(off, 'mesh', 'istio-system', 'true');
    proxyConfig(off, 'namespace', 'istio-ingress', 'true');
    proxyConfig(off, 'gateway', 'istio-ingress', 'false', { istio: 'ingressgateway' });
    // AND the container env turning it on again
    const on = Testing.chart();
    classicGateway(on, { containerEnv: [{ name: ENV, value: 'true' }] });
    proxyConfig(on, 'gateway', 'istio-ingress', 'false', { istio: 'ingressgateway' });
    // WHEN
    const offFindings = statusPortFindings(off, IstioVersion.V1_27);
    // THEN
    expect(offFindings).toHaveLength(1);
    expect(offFindings[0].message).toMatch(/\(ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL is "false" from ProxyConfig istio-ingress\/gateway/);
    expect(statusPortFindings(on, IstioVersion.V1_27)).toEqual([]);
  });

  test('the pod annotation\'s proxyMetadata is injected as env; a selecting ProxyConfig wins over it', () => {
    // GIVEN
    const annotation = Testing.chart();
    classicGateway(annotation, { proxyMetadata: { [ENV]: 'true' } });
    const overridden = Testing.chart();
    classicGateway(overridden, { proxyMetadata: { [ENV]: 'true' } });
    proxyConfig(overridden, 'gateway', 'istio-ingress', 'false', { istio: 'ingressgateway' });
    // WHEN / THEN
    expect(statusPortFindings(annotation, IstioVersion.V1_27)).toEqual([]);
    expect(statusPortFindings(overridden, IstioVersion.V1_27).map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
  });

  test('of two ProxyConfigs without selector in one namespace only the oldest applies, with a warning', () => {
    // GIVEN the newer one sets the variable, the older one does not
    const chart = Testing.chart();
    classicGateway(chart);
    new ApiObject(chart, 'older', {
      apiVersion: 'networking.istio.io/v1beta1',
      kind: 'ProxyConfig',
      metadata: { name: 'older', namespace: 'istio-system', creationTimestamp: '2026-01-01T00:00:00Z' },
      spec: { concurrency: 2 },
    });
    proxyConfig(chart, 'a-newer', 'istio-system', 'true', undefined, { creationTimestamp: '2026-02-01T00:00:00Z' });
    // WHEN
    const report = Explainer.fromManifests(synthAndValidate(chart, { istioVersion: IstioVersion.V1_27 }), { istioVersion: IstioVersion.V1_27 });
    // THEN
    expect(report.findings).toContainEqual(expect.objectContaining({
      severity: FindingSeverity.WARNING,
      where: expect.stringMatching(/^ProxyConfig istio-system\/a-newer/),
      message: expect.stringMatching(/istiod applies only the oldest one \(ProxyConfig istio-system\/older/),
    }));
    expect(report.findings.filter(f => /status port 15021/.test(f.message)).map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
  });

  test('meshConfig defaultConfig.proxyMetadata in the istio ConfigMap sets the variable for every proxy', () => {
    // GIVEN
    const chart = Testing.chart();
    classicGateway(chart);
    new ApiObject(chart, 'mesh', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: `defaultConfig:\n  proxyMetadata:\n    ${ENV}: "true"\n` },
    });
    // WHEN / THEN
    expect(statusPortFindings(chart, IstioVersion.V1_27)).toEqual([]);
  });

  test('the TCP health-check annotations need no variable, on any release', () => {
    // GIVEN
    const chart = Testing.chart();
    classicGateway(chart, { serviceAnnotations: TCP_HEALTH_CHECK });
    // WHEN / THEN
    expect(statusPortFindings(chart, IstioVersion.V1_24)).toEqual([]);
    expect(statusPortFindings(chart, IstioVersion.V1_31)).toEqual([]);
  });
});

describe('what explain cannot see of the environment', () => {
  test('an env value from a Secret or ConfigMap (valueFrom) is a warning, not an error', () => {
    // GIVEN
    const chart = Testing.chart();
    classicGateway(chart, { containerEnv: [{ name: ENV, valueFrom: { configMapKeyRef: { name: 'gateway-env', key: 'status-port' } } } as any] });
    // WHEN
    const findings = statusPortFindings(chart, IstioVersion.V1_27);
    // THEN
    expect(findings).toHaveLength(1);
    expect(findings[0].severity).toBe(FindingSeverity.WARNING);
    expect(findings[0].message).toMatch(/comes from Deployment istio-ingress\/ingressgateway istio-proxy env \(valueFrom\), which explain cannot read/);
  });

  test('an installed gateway whose pods are not in the input gets an INFO finding, not an error', () => {
    // GIVEN an Istio Gateway selecting pods the input does not hold, PROXY on mesh-wide, and the gateway's Service
    const chart = Testing.chart();
    new ApiObject(chart, 'mesh', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'istio', namespace: 'istio-system' },
      data: { mesh: 'defaultConfig:\n  gatewayTopology:\n    proxyProtocol: {}\n' },
    });
    new ApiObject(chart, 'gateway', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'db', namespace: 'istio-system' },
      spec: { selector: { istio: 'ingressgateway' }, servers: [{ port: { number: 5432, name: 'tcp', protocol: 'TCP' }, hosts: ['*'] }] },
    });
    new ApiObject(chart, 'gateway-service', {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'istio-ingressgateway', namespace: 'istio-system', annotations: AWS_NLB_IP_WITH_PROXY },
      spec: { type: 'LoadBalancer', selector: { istio: 'ingressgateway' }, ports: [{ name: 'tcp', port: 5432 }] },
    });
    // WHEN
    const findings = statusPortFindings(chart, IstioVersion.V1_27);
    // THEN
    expect(findings.map(f => f.severity)).toEqual([FindingSeverity.INFO]);
    expect(findings[0].message).toMatch(/the gateway's pods are not in the input, so explain cannot tell whether ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL is set/);
  });
});

describe('Gateway API gateway: the status port and PROXY health checks', () => {
  function gatewayApiGateway(chart: Chart, deployment?: string, annotations: { [key: string]: string } = {}): void {
    new ApiObject(chart, 'gateway', {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'edge', namespace: 'ingress', annotations: { 'proxy.istio.io/config': '{"gatewayTopology":{"proxyProtocol":{}}}', ...annotations } },
      spec: {
        gatewayClassName: 'istio',
        infrastructure: { parametersRef: { group: '', kind: 'ConfigMap', name: 'edge-options' } },
        listeners: [{ name: 'tcp', port: 5432, protocol: 'TCP' }],
      },
    });
    new ApiObject(chart, 'options', {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'edge-options', namespace: 'ingress' },
      data: {
        service: JSON.stringify({ metadata: { annotations: AWS_NLB_IP_WITH_PROXY } }),
        ...(deployment ? { deployment } : {}),
      },
    });
  }

  test('the deployment overlay\'s istio-proxy env sets the variable', () => {
    // GIVEN
    const chart = Testing.chart();
    gatewayApiGateway(chart, `spec:\n  template:\n    spec:\n      containers:\n      - name: istio-proxy\n        env:\n        - { name: ${ENV}, value: "true" }\n`);
    // WHEN / THEN
    expect(statusPortFindings(chart, IstioVersion.V1_27)).toEqual([]);
  });

  test('a ProxyConfig selects the generated pods by the gateway-name label only', () => {
    // GIVEN
    const byName = Testing.chart();
    gatewayApiGateway(byName);
    proxyConfig(byName, 'edge-env', 'ingress', 'true', { 'gateway.networking.k8s.io/gateway-name': 'edge' });
    const byOtherLabel = Testing.chart();
    gatewayApiGateway(byOtherLabel);
    proxyConfig(byOtherLabel, 'edge-env', 'ingress', 'true', { istio: 'ingressgateway' });
    // WHEN
    const findings = statusPortFindings(byOtherLabel, IstioVersion.V1_27);
    // THEN
    expect(statusPortFindings(byName, IstioVersion.V1_27)).toEqual([]);
    expect(findings.map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
    expect(findings[0].fix).toMatch(/a ProxyConfig in namespace ingress selecting gateway.networking.k8s.io\/gateway-name: edge .*or the istio-proxy env in the deployment overlay/);
    expect(findings[0].fix).toMatch(/traffic-port" on Service edge-istio \(the service overlay of the parametersRef ConfigMap\)/);
  });

  test('proxyMetadata in the Gateway\'s annotations does not reach the generated pods: a warning, and the error stays', () => {
    // GIVEN
    const chart = Testing.chart();
    gatewayApiGateway(chart, undefined, { 'proxy.istio.io/config': JSON.stringify({ gatewayTopology: { proxyProtocol: {} }, proxyMetadata: { [ENV]: 'true' } }) });
    // WHEN
    const report = Explainer.fromManifests(synthAndValidate(chart, { istioVersion: IstioVersion.V1_27 }), { istioVersion: IstioVersion.V1_27 });
    // THEN
    expect(report.findings).toContainEqual(expect.objectContaining({
      severity: FindingSeverity.WARNING,
      where: 'gateway ingress/edge',
      message: expect.stringMatching(/proxyMetadata sets ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL, but Istio renders a Gateway API gateway's Deployment without reading pod annotations/),
    }));
    expect(report.findings.filter(f => /status port 15021/.test(f.message)).map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
  });
});

describe('ProxyConfig objects explain cannot use are skipped', () => {
  test.each([
    ['networking.istio.io/v1alpha3', { environmentVariables: { [ENV]: 'true' } }, /apiVersion "networking.istio.io\/v1alpha3" is not served for ProxyConfig/],
    ['networking.istio.io/v1beta1', { environmentVariables: { [ENV]: true } }, /spec.environmentVariables .* is not a map of strings/],
    ['networking.istio.io/v1beta1', { selector: { matchLabels: ['istio'] } }, /spec.selector.matchLabels .* is not a map of strings/],
  ])('fails %s %j', (apiVersion, spec, reason) => {
    // GIVEN a ProxyConfig the API server refuses
    const objects = [{ apiVersion, kind: 'ProxyConfig', metadata: { name: 'bad', namespace: 'istio-system' }, spec }];
    // WHEN
    const report = Explainer.fromManifests(objects);
    // THEN
    expect(report.skipped).toEqual([expect.objectContaining({ object: 'ProxyConfig istio-system/bad', reason: expect.stringMatching(reason) })]);
  });
});

describe('round trip: what ProxyProtocolGateway renders for the status port is recognised', () => {
  test.each([
    [GatewayFlavour.ISTIO, IstioVersion.V1_26],
    [GatewayFlavour.ISTIO, IstioVersion.V1_27],
    [GatewayFlavour.GATEWAY_API, IstioVersion.V1_26],
    [GatewayFlavour.GATEWAY_API, IstioVersion.V1_31],
  ])('%s on Istio %s behind an AWS NLB (ip targets): no status-port finding', (flavour, istioVersion) => {
    // GIVEN
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Gateway', { flavour, istioVersion, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false });
    gw.addTcpServer({ port: 5432 });
    // WHEN
    const manifests = synthAndValidate(chart, { istioVersion });
    const report = Explainer.fromManifests(manifests, { istioVersion });
    // THEN
    expect(report.findings.filter(f => /status port 15021/.test(f.message))).toEqual([]);
    expect(report.findings.filter(f => f.severity === FindingSeverity.ERROR)).toEqual([]);
  });
});
