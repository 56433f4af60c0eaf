import { Testing } from 'cdk8s';
import { Explainer, FindingSeverity, PreservedIngressGateway, ProxyProtocolVersion } from '../../src';
import { checkLoadBalancerAnnotations } from '../../src/model/gateway-checks';
import { loadBalancerProviders, recogniseLoadBalancer, unreadProxyProtocolAnnotations } from '../../src/model/load-balancers';

/*
 * The provider rows of the load-balancer table (src/model/load-balancers.ts), each checked against the Service
 * annotations its provider's documentation or cloud controller manager shows (cited on the row), and the warning for
 * a PROXY switch the table cannot read, which the constructs and explain report alike.
 */

describe('provider rows (annotations as each provider documents them)', () => {
  test('the table covers the providers users run', () => {
    expect(loadBalancerProviders()).toEqual(expect.arrayContaining([
      'AWS', 'Google Cloud', 'Azure', 'Alibaba Cloud', 'Tencent Cloud', 'Huawei Cloud', 'Oracle Cloud', 'IBM Cloud', 'DigitalOcean',
      'Linode/Akamai', 'Hetzner', 'OVHcloud', 'Scaleway', 'Exoscale', 'Civo', 'MetalLB',
    ]));
  });

  // [provider, annotations from its docs, sends PROXY, version, ports, keeps the client address]
  const cases: Array<[string, { [key: string]: string }, boolean, ProxyProtocolVersion | undefined, number[] | undefined, boolean | undefined]> = [
    // AWS Load Balancer Controller annotations guide
    ['AWS', { 'service.beta.kubernetes.io/aws-load-balancer-type': 'external', 'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip', 'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true,proxy_protocol_v2.enabled=true' }, true, ProxyProtocolVersion.V2, undefined, undefined],
    // "*" alone: v1 on a Classic Load Balancer, v2 on an NLB of the controller: the version is not known
    ['AWS', { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' }, true, undefined, undefined, undefined],
    // GKE: no PROXY annotation
    ['Google Cloud', { 'cloud.google.com/l4-rbs': 'enabled' }, false, undefined, undefined, true],
    // cloud-provider-azure: Private Link Service
    ['Azure', { 'service.beta.kubernetes.io/azure-pls-create': 'true', 'service.beta.kubernetes.io/azure-pls-proxy-protocol': 'true' }, true, ProxyProtocolVersion.V2, undefined, true],
    // Alibaba Cloud CCM
    ['Alibaba Cloud', { 'service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol': 'on' }, true, ProxyProtocolVersion.V2, undefined, true],
    // Tencent TKE: no PROXY annotation
    ['Tencent Cloud', { 'service.cloud.tencent.com/direct-access': 'true' }, false, undefined, undefined, true],
    // Huawei CCE cce_10_0916
    ['Huawei Cloud', { 'kubernetes.io/elb.class': 'union', 'kubernetes.io/elb.transparent-client-ip': 'true' }, false, undefined, undefined, true],
    // Oracle OKE
    ['Oracle Cloud', { 'oci.oraclecloud.com/load-balancer-type': 'lb', 'service.beta.kubernetes.io/oci-load-balancer-backend-protocol': 'TCP', 'service.beta.kubernetes.io/oci-load-balancer-connection-proxy-protocol-version': '2' }, true, ProxyProtocolVersion.V2, undefined, false],
    ['Oracle Cloud', { 'oci.oraclecloud.com/load-balancer-type': 'nlb', 'oci-network-load-balancer.oraclecloud.com/is-preserve-source': 'true' }, false, undefined, undefined, false],
    // IBM Cloud VPC load balancers
    ['IBM Cloud', { 'service.kubernetes.io/ibm-load-balancer-cloud-provider-enable-features': 'proxy-protocol' }, true, undefined, undefined, false],
    ['IBM Cloud', { 'service.kubernetes.io/ibm-load-balancer-cloud-provider-enable-features': 'nlb' }, false, undefined, undefined, false],
    // DigitalOcean
    ['DigitalOcean', { 'service.beta.kubernetes.io/do-loadbalancer-enable-proxy-protocol': 'true' }, true, undefined, undefined, false],
    // Linode CCM annotations.md
    ['Linode/Akamai', { 'service.beta.kubernetes.io/linode-loadbalancer-default-proxy-protocol': 'v2' }, true, ProxyProtocolVersion.V2, undefined, false],
    ['Linode/Akamai', { 'service.beta.kubernetes.io/linode-loadbalancer-port-443': '{ "protocol": "https", "tls-secret-name": "my-tls-secret", "proxy-protocol": "v2" }' }, true, ProxyProtocolVersion.V2, [443], false],
    ['Linode/Akamai', { 'service.beta.kubernetes.io/linode-loadbalancer-default-proxy-protocol': 'none' }, false, undefined, undefined, false],
    // Hetzner hcloud CCM
    ['Hetzner', { 'load-balancer.hetzner.cloud/location': 'nbg1', 'load-balancer.hetzner.cloud/uses-proxyprotocol': 'true' }, true, undefined, undefined, false],
    // OVHcloud
    ['OVHcloud', { 'loadbalancer.openstack.org/proxy-protocol': 'v2' }, true, ProxyProtocolVersion.V2, undefined, false],
    ['OVHcloud', { 'service.beta.kubernetes.io/ovh-loadbalancer-proxy-protocol': 'v1' }, true, ProxyProtocolVersion.V1, undefined, false],
    // Scaleway CCM loadbalancer-annotations.md
    ['Scaleway', { 'service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v2': 'true' }, true, ProxyProtocolVersion.V2, undefined, false],
    ['Scaleway', { 'service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v1': '80,443' }, true, ProxyProtocolVersion.V1, [80, 443], false],
    // Exoscale CCM: no PROXY annotation
    ['Exoscale', { 'service.beta.kubernetes.io/exoscale-loadbalancer-zone': 'ch-gva-2' }, false, undefined, undefined, true],
    // Civo CCM README
    ['Civo', { 'kubernetes.civo.com/loadbalancer-enable-proxy-protocol': 'send-proxy-v2' }, true, ProxyProtocolVersion.V2, undefined, false],
    // MetalLB usage
    ['MetalLB', { 'metallb.universe.tf/address-pool': 'production' }, false, undefined, undefined, true],
  ];
  test.each(cases)('%s: %j', (provider, annotations, sends, version, ports, keeps) => {
    // WHEN
    const lb = recogniseLoadBalancer(annotations);
    // THEN
    expect(lb.provider).toBe(provider);
    expect(lb.sendsProxyProtocol).toBe(sends);
    expect(lb.proxyProtocolVersion).toBe(version);
    expect(lb.proxyProtocolPorts).toEqual(ports);
    expect(lb.keepsClientAddress).toBe(keeps);
    // Every documented annotation is read: no warning
    expect(unreadProxyProtocolAnnotations(annotations)).toEqual([]);
  });
});

describe('a PROXY switch the table cannot read is a warning, never a silent guess', () => {
  test('an unknown key that mentions proxy protocol, in any case or spelling', () => {
    for (const key of ['service.beta.kubernetes.io/osc-load-balancer-proxy-protocol', 'example.com/ProxyProtocol', 'lb.example.com/enable_proxy_protocol']) {
      const findings = checkLoadBalancerAnnotations({ namespace: 'istio-system', name: 'gw' }, { [key]: 'true' });
      expect(findings).toEqual([expect.objectContaining({
        severity: FindingSeverity.WARNING,
        where: 'gateway istio-system/gw',
        message: expect.stringContaining(`"${key}: true" looks like a load balancer's PROXY protocol switch, but the load-balancer table knows no provider with this annotation`),
      })]);
    }
  });

  test('a known key with a value its controller does not read', () => {
    const findings = checkLoadBalancerAnnotations({ namespace: 'istio-system', name: 'gw' }, { 'kubernetes.civo.com/loadbalancer-enable-proxy-protocol': 'yes' });
    expect(findings.map(f => f.message)).toEqual([expect.stringContaining("is Civo's PROXY protocol switch, but its controller does not read this value")]);
  });

  test('the constructs and explain report the same warning for the same Service', () => {
    // GIVEN a gateway whose Service carries an annotation of a provider the table does not know
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { serviceAnnotations: { 'service.beta.kubernetes.io/osc-load-balancer-proxy-protocol': '80' } });
    gw.addHttpServer({ hosts: ['app.example.com'] });
    // WHEN
    const manifests = Testing.synth(chart);
    const explained = Explainer.fromManifests(manifests).allFindings().filter(f => f.message.includes('osc-load-balancer-proxy-protocol'));
    const warned = gw.node.metadata.filter(m => m.type === 'warning').map(m => String(m.data)).filter(m => m.includes('osc-load-balancer-proxy-protocol'));
    // THEN
    expect(explained).toHaveLength(1);
    expect(explained[0].severity).toBe(FindingSeverity.WARNING);
    expect(warned).toEqual([`${explained[0].message}; ${explained[0].fix}`]);
  });
});

describe('explain with a Scaleway Service', () => {
  test('scw-loadbalancer-proxy-protocol-v2 is read as a load balancer that sends PROXY v2, not an SNAT hop', () => {
    // GIVEN a gateway that accepts PROXY behind a Scaleway load balancer (externalTrafficPolicy Cluster)
    const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: { name: istio-ingressgateway, namespace: istio-system }
spec:
  template:
    metadata:
      labels: { app: istio-ingressgateway, istio: ingressgateway }
      annotations:
        proxy.istio.io/config: '{"gatewayTopology":{"proxyProtocol":{}}}'
---
apiVersion: v1
kind: Service
metadata:
  name: istio-ingressgateway
  namespace: istio-system
  annotations:
    service.beta.kubernetes.io/scw-loadbalancer-proxy-protocol-v2: "true"
spec:
  type: LoadBalancer
  selector: { istio: ingressgateway }
  ports: [{ port: 80, targetPort: 8080 }]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: { name: gw, namespace: istio-system }
spec:
  selector: { istio: ingressgateway }
  servers: [{ port: { number: 80, protocol: HTTP, name: http }, hosts: ['*'] }]
`;
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN the load balancer hop sends PROXY, and the gateway resolves the client from it (the node address stays out of X-Forwarded-For)
    const path = report.paths[0];
    expect(path.hops.map(h => h.hop)).toContain('l4-proxy-protocol cloud-lb');
    expect(path.hops.find(h => h.hop.startsWith('gateway'))).toEqual(expect.objectContaining({ proxyProtocolSource: path.clientAddress, clientAddress: path.clientAddress }));
    expect(path.appHeaderClient).toBe(path.clientAddress);
    expect(report.allFindings().filter(f => /SNAT|client IP lost/.test(f.message))).toEqual([]);
    expect(report.allFindings().filter(f => /PROXY protocol switch/.test(f.message))).toEqual([]);
  });
});
