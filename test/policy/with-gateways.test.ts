import { Testing } from 'cdk8s';
import {
  ClientIpField, ExternalTrafficPolicy, IstioVersion, PreservedIngressGateway, SourceIpPolicy,
} from '../../src';
import { manifestsOfKind, synthAndValidate } from '../harness';

/*
 * SourceIpPolicy on the real gateway constructs (issues 3/4): the field follows the gateway's props and
 * servers, and every object of the chart passes the harness.
 */

describe('SourceIpPolicy on PreservedIngressGateway', () => {
  test.each(IstioVersion.all().map(v => [v.label, v] as const))('allowFrom on a Local gateway uses ipBlocks (Istio %s)', (_label, istioVersion) => {
    // GIVEN
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gw', { istioVersion });
    gateway.addHttpServer();
    // WHEN
    const policy = gateway.allowFrom(['203.0.113.0/24', '2001:db8::/32']);
    // THEN
    const [ap] = manifestsOfKind(synthAndValidate(chart, { istioVersion }), 'AuthorizationPolicy');
    expect(policy).toBeInstanceOf(SourceIpPolicy);
    expect(ap.metadata.namespace).toBe('istio-ingress');
    expect(ap.spec.selector.matchLabels).toEqual(gateway.targetSelector);
    expect(ap.spec.rules[0].from[0].source).toEqual({ ipBlocks: ['203.0.113.0/24', '2001:db8::/32'] });
  });

  test('denyFrom behind a CDN (trusted hops) uses remoteIpBlocks, with the servers added after the policy', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gw', { numTrustedProxies: 1 });
    const policy = gateway.denyFrom(['198.51.100.7']);
    gateway.addHttpServer();
    const [ap] = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(policy.field).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    expect(ap.spec).toMatchObject({ action: 'DENY', rules: [{ from: [{ source: { remoteIpBlocks: ['198.51.100.7/32'] } }] }] });
  });

  test('fails a forced ipBlocks on a Cluster gateway', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gw', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, numTrustedProxies: 1 });
    gateway.addHttpServer();
    gateway.allowFrom(['203.0.113.0/24'], { field: ClientIpField.IP_BLOCKS });
    expect(() => Testing.synth(chart)).toThrow(/field ipBlocks cannot match clients on gateway .*externalTrafficPolicy Cluster/);
  });

  test('fails remoteIpBlocks on a TCP server without PROXY protocol', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gw', { numTrustedProxies: 1 });
    gateway.addTcpServer({ port: 5432 });
    gateway.allowFrom(['203.0.113.0/24']);
    expect(() => Testing.synth(chart)).toThrow(/port 5432 \(TCP\).*carry no X-Forwarded-For/);
  });

  // The gateway pods listen on 8080 for server port 80, and Istio matches policy ports against that listener port.
  test('maps server port 80 to the gateway pod\'s listener port 8080', () => {
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gw');
    gateway.addHttpServer();
    gateway.allowFrom(['203.0.113.0/24'], { ports: [80] });
    const [ap] = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(ap.spec.rules[0].to).toEqual([{ operation: { ports: ['8080'] } }]);
  });
});
