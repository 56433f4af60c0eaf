import { Duration, Testing } from 'cdk8s';
import {
  Explainer, ExternalTrafficPolicy, GatewayFlavour, InterceptionMode, IstioVersion, LoadBalancerProfile,
  MeshWorkload,
  PreservedIngressGateway, ProxyProtocolGateway, SourceIpWarnings, TproxyWorkload, TrustChain, TrustHop, WorkloadSource,
} from '../../src';
import { LOCAL_RATE_LIMIT_FILTER, LOCAL_RATE_LIMIT_TYPE, REMOTE_ADDRESS_DESCRIPTOR_KEY, ROUTER_FILTER } from '../../src/envoy/names';
import { parseManifests } from '../../src/explain/manifest-parser';
import { ProxyRole } from '../../src/model/model';
import { findManifest, manifestsOfKind, synthAndValidate, validateEnvoyFilter } from '../harness';
import { assertRoundTrip } from '../property/round-trip';

/*
 * rateLimitPerClient() on gateways and sidecar workloads: the EnvoyFilter it writes, the props it refuses,
 * the releases it needs, and what the model and explain read back.
 */

const perSecond = { requests: 10, per: Duration.seconds(1) };
const deployment = () => WorkloadSource.newDeployment({ image: 'example/app', name: 'app', namespace: 'web', port: 8080, labels: { app: 'app' } });

function gateway(chart = Testing.chart(), props: object = {}) {
  const gw = new PreservedIngressGateway(chart, 'Gateway', props);
  gw.addHttpServer();
  return { chart, gw };
}

describe('rateLimitPerClient on a gateway', () => {
  test('writes the local rate limit before the router and the remote_address action on every virtual host', () => {
    // GIVEN a gateway that sees the client (externalTrafficPolicy Local, the default)
    const { chart, gw } = gateway();
    // WHEN it limits each client to 10 requests per second with a burst of 20
    const filter = gw.rateLimitPerClient({ ...perSecond, burst: 20 });
    const manifests = synthAndValidate(chart);
    // THEN one EnvoyFilter, returned, selects the gateway pods only
    const ef = findManifest(manifests, 'EnvoyFilter', 'ingressgateway-rate-limit-per-client');
    expect(filter.name).toBe('ingressgateway-rate-limit-per-client');
    expect(ef.metadata.namespace).toBe(gw.targetNamespace);
    expect(ef.spec.workloadSelector.labels).toEqual(gw.targetSelector);
    const [http, vhost] = ef.spec.configPatches;
    // and inserts the filter before the router of every connection manager on the gateway
    expect(http.applyTo).toBe('HTTP_FILTER');
    expect(http.match).toEqual({ context: 'GATEWAY', listener: { filterChain: { filter: { name: 'envoy.filters.network.http_connection_manager', subFilter: { name: ROUTER_FILTER } } } } });
    expect(http.patch.operation).toBe('INSERT_BEFORE');
    expect(http.patch.value.name).toBe(LOCAL_RATE_LIMIT_FILTER);
    const config = http.patch.value.typed_config;
    expect(config['@type']).toBe(LOCAL_RATE_LIMIT_TYPE);
    // with a wildcard remote_address descriptor (one bucket per address) and 10000 buckets
    expect(config.descriptors).toEqual([{ entries: [{ key: REMOTE_ADDRESS_DESCRIPTOR_KEY }], token_bucket: { max_tokens: 20, tokens_per_fill: 10, fill_interval: '1s' } }]);
    expect(config.max_dynamic_descriptors).toBe(10000);
    expect(config.always_consume_default_token_bucket).toBe(false);
    expect(config.filter_enforced.default_value).toEqual({ numerator: 100, denominator: 'HUNDRED' });
    // enabled for every request, with the virtual host's actions making the descriptor, and a default bucket of the
    // same size for a request that makes none
    expect(config.filter_enabled.default_value).toEqual({ numerator: 100, denominator: 'HUNDRED' });
    expect(config.vh_rate_limits).toBe('INCLUDE');
    expect(config.token_bucket).toEqual({ max_tokens: 20, tokens_per_fill: 10, fill_interval: '1s' });
    expect(config.stat_prefix).toBe('rate_limit_per_client');
    // and the action that makes the descriptor from the resolved client address
    expect(vhost).toEqual({ applyTo: 'VIRTUAL_HOST', match: { context: 'GATEWAY' }, patch: { operation: 'MERGE', value: { rate_limits: [{ actions: [{ remote_address: {} }] }] } } });
    expect(ef).toMatchSnapshot();
    // and Envoy's protos accept every patch
    expect(validateEnvoyFilter(ef)).toEqual([]);
  });

  test('the Gateway API flavour selects the pods Istio deploys for the Gateway', () => {
    // GIVEN a Gateway API gateway
    const { chart, gw } = gateway(Testing.chart(), { flavour: GatewayFlavour.GATEWAY_API, name: 'edge' });
    // WHEN it limits each client
    gw.rateLimitPerClient(perSecond);
    const ef = findManifest(synthAndValidate(chart), 'EnvoyFilter', 'edge-rate-limit-per-client');
    // THEN the filter selects the gateway-name label of those pods, in the gateway context
    expect(ef.spec.workloadSelector.labels).toEqual({ 'gateway.networking.k8s.io/gateway-name': 'edge' });
    expect(ef.spec.configPatches.map((p: any) => p.match.context)).toEqual(['GATEWAY', 'GATEWAY']);
    // and explain reads it back onto the same gateway
    assertRoundTrip(chart, synthAndValidate(chart));
    expect(Explainer.fromChart(chart).paths[0].hops.find(h => h.hop.startsWith('gateway'))!.rateLimits!.map(l => l.key)).toEqual(['203.0.113.10']);
  });

  test('attach mode selects the installation\'s pods in its namespace', () => {
    // GIVEN the Helm-installed gateway, patched to externalTrafficPolicy Local
    const chart = Testing.chart();
    const gw = PreservedIngressGateway.attach(chart, 'Gateway');
    gw.addHttpServer({ hosts: ['app.example.com'] });
    // WHEN it limits each client
    const filter = gw.rateLimitPerClient(perSecond);
    const manifests = synthAndValidate(chart);
    // THEN the filter selects the installation's pods, and the round trip holds
    const ef = findManifest(manifests, 'EnvoyFilter', filter.name);
    expect(ef.metadata.namespace).toBe(gw.targetNamespace);
    expect(ef.spec.workloadSelector.labels).toEqual(gw.targetSelector);
    assertRoundTrip(chart, manifests);
  });

  test('a PROXY protocol gateway keys on the PROXY source: accepted, and explain shows the limit at the gateway', () => {
    // GIVEN a gateway behind an NLB that sends PROXY protocol
    const chart = Testing.chart();
    const gw = new ProxyProtocolGateway(chart, 'Pp', { name: 'pp', loadBalancerProfile: LoadBalancerProfile.AWS_NLB_INSTANCE });
    gw.addHttpServer();
    // WHEN it limits each client
    gw.rateLimitPerClient(perSecond);
    const manifests = synthAndValidate(chart);
    // THEN the model read back from the output has the limit, and the round trip holds
    const parsed = parseManifests(manifests);
    expect(parsed.rateLimits).toEqual([{ name: 'pp-rate-limit-per-client', namespace: 'istio-ingress', proxy: ProxyRole.GATEWAY, selector: gw.targetSelector, requests: 10, fillIntervalMillis: 1000, burst: 10, maxClients: 10000 }]);
    assertRoundTrip(chart, manifests);
  });

  test('a second call on the same gateway is refused, whatever the order of other calls', () => {
    // GIVEN a gateway with a per-client limit
    const { gw } = gateway();
    gw.rateLimitPerClient(perSecond);
    // WHEN it is asked for a second one
    // THEN it is refused, naming the gateway
    expect(() => gw.rateLimitPerClient({ requests: 5, per: Duration.minutes(1) })).toThrow(/rateLimitPerClient\(\) is already called on "test\/Gateway": a proxy gets one per-client limit/);
  });

  test('the child id does not depend on call order', () => {
    // GIVEN two gateways that add a server and a limit in different orders
    const a = gateway().gw;
    const chart = Testing.chart();
    const b = new PreservedIngressGateway(chart, 'Gateway');
    b.rateLimitPerClient(perSecond);
    b.addHttpServer();
    // WHEN each adds its limit
    a.rateLimitPerClient(perSecond);
    // THEN both EnvoyFilters sit at the same path
    expect(a.node.findChild('RateLimitPerClient').node.path).toBe(b.node.findChild('RateLimitPerClient').node.path);
  });

  test.each([
    [{ requests: 0, per: Duration.seconds(1) }, /requests 0 is not allowed: use a whole number from 1 to 4294967295/],
    [{ requests: 1.5, per: Duration.seconds(1) }, /requests 1.5 is not allowed/],
    [{ requests: 10, per: Duration.millis(20) }, /per 20 millis is not allowed: Envoy's local rate limit refills at most every 50ms/],
    [{ requests: 10, per: 1000 }, /per 1000 is not allowed: give a cdk8s Duration of at least 50ms/],
    [{ requests: 10, per: Duration.seconds(1), burst: 5 }, /burst 5 is not allowed: use a whole number from 10 to 4294967295; a bucket smaller than requests/],
    [{ requests: 10, per: Duration.seconds(1), maxClients: 0 }, /maxClients 0 is not allowed: use a whole number from 1 to 4294967295/],
    [{ requests: 10, per: Duration.seconds(1), name: 'Bad_Name' }, /name "Bad_Name"/],
  ])('fails on bad props %#', (props, message) => {
    // GIVEN a gateway
    const { gw } = gateway();
    // WHEN the props are out of range
    // THEN it is refused with a message naming the prop and what is allowed
    expect(() => gw.rateLimitPerClient(props as any)).toThrow(message);
  });

  test.each(IstioVersion.all().filter(v => !v.supportsPerClientRateLimit).map(v => [v.label, v]))('fails on Istio %s, whose Envoy has no per-value buckets', (_label, istioVersion) => {
    // GIVEN a gateway for a release before 1.26
    const { gw } = gateway(Testing.chart(), { istioVersion });
    // WHEN it limits each client
    // THEN it is refused, naming the first release that can
    expect(() => gw.rateLimitPerClient(perSecond)).toThrow(/not supported with istioVersion 1\.2[45]: Envoy keeps a token bucket per client address only from Envoy 1\.34 \(Istio 1\.26\)/);
  });

  test('fails at synthesis where the gateway sees the node: every client would share its bucket', () => {
    // GIVEN a gateway that chose externalTrafficPolicy Cluster without PROXY (its own lost client is only a warning)
    const { chart, gw } = gateway(Testing.chart(), { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });
    // WHEN it limits each client
    gw.rateLimitPerClient(perSecond);
    // THEN the trace's ERROR is the gateway's validation error
    expect(() => Testing.synth(chart)).toThrow(/rate limit istio-ingress\/ingressgateway-rate-limit-per-client is per client in name only: the gateway keys its buckets on 10\.0\.0\.4 \(node\)/);
  });

  test('explain refuses a limit where a client can pick its bucket with X-Forwarded-For', () => {
    // GIVEN a gateway behind one L7 load balancer, with a per-client limit
    const chart = Testing.chart();
    const gw = new PreservedIngressGateway(chart, 'Gateway', { trustChain: TrustChain.of(TrustHop.l7LoadBalancer({ name: 'alb', cidrs: ['198.51.100.0/24'] })) });
    gw.addHttpServer();
    gw.rateLimitPerClient(perSecond);
    const manifests = synthAndValidate(chart);
    // WHEN someone raises numTrustedProxies in the output to 2 (the constructs refuse that contradiction)
    const deploymentOf = findManifest(manifests, 'Deployment');
    const annotations = deploymentOf.spec.template.metadata.annotations;
    annotations['proxy.istio.io/config'] = annotations['proxy.istio.io/config'].replace('"numTrustedProxies":1', '"numTrustedProxies":2');
    const report = Explainer.fromManifests(manifests);
    // THEN explain refuses the limit: the client's own X-Forwarded-For entry becomes its key
    const messages = report.allFindings().filter(f => f.severity === 'error').map(f => f.message).join('\n');
    expect(messages).toMatch(/rate limit istio-ingress\/ingressgateway-rate-limit-per-client is spoofable: a client that sends X-Forwarded-For picks its bucket \(got 192\.0\.2\.\d+\)/);
  });
});

describe('explain reads per-client rate limits', () => {
  test('the table shows the limit and its key at the gateway', () => {
    // GIVEN a gateway with a per-client limit
    const { chart, gw } = gateway();
    gw.rateLimitPerClient({ ...perSecond, burst: 20 });
    // WHEN explain prints its table
    const table = Explainer.fromManifests(synthAndValidate(chart)).toTable();
    // THEN the gateway hop shows the limit, its key and that a forged header keeps it
    expect(table).toContain('rate limit (gateway istio-ingress/ingressgateway): istio-ingress/ingressgateway-rate-limit-per-client 10 requests per 1s (burst 20, up to 10000 clients), bucket per client keyed on 203.0.113.10 (a forged X-Forwarded-For keeps it)');
  });

  test('a hand-written filter without the remote_address action limits no client on its own: a warning', () => {
    // GIVEN the library's filter with the virtual-host patch removed
    const { chart, gw } = gateway();
    gw.rateLimitPerClient(perSecond);
    const manifests = synthAndValidate(chart);
    const ef = findManifest(manifests, 'EnvoyFilter');
    ef.spec.configPatches = ef.spec.configPatches.slice(0, 1);
    // WHEN explain reads it
    const report = Explainer.fromManifests(manifests);
    // THEN it is not a per-client limit, and explain says why
    expect(parseManifests(manifests).rateLimits).toEqual([]);
    expect(report.allFindings().map(f => f.message)).toContain('the local rate limit has a remote_address descriptor, but no rate_limits action remote_address produces it: no request matches the descriptor, and no client is limited on its own');
  });
});

describe('rateLimitPerClient on workloads', () => {
  test('a TPROXY workload gets a SIDECAR_INBOUND filter on its pods', () => {
    // GIVEN a TPROXY workload
    const chart = Testing.chart();
    const wl = new TproxyWorkload(chart, 'App', { source: deployment() });
    // WHEN it limits each client
    wl.rateLimitPerClient(perSecond);
    const manifests = synthAndValidate(chart);
    // THEN the filter selects the workload's pods in the inbound context
    const ef = manifestsOfKind(manifests, 'EnvoyFilter')[0];
    expect(ef.metadata).toEqual({ name: 'app-rate-limit-per-client', namespace: 'web' });
    expect(ef.spec.workloadSelector.labels).toEqual(wl.targetSelector);
    expect(ef.spec.configPatches.map((p: any) => p.match.context)).toEqual(['SIDECAR_INBOUND', 'SIDECAR_INBOUND']);
    // and in-mesh callers that write X-Forwarded-For pick their bucket: a warning on the workload
    expect(SourceIpWarnings.messages(chart).join('\n')).toMatch(/rate limit web\/app-rate-limit-per-client is forgeable from inside the mesh/);
    assertRoundTrip(chart, manifests);
  });

  test('fails on a workload whose sidecar does not intercept', () => {
    // GIVEN a workload with interceptionMode NONE
    const chart = Testing.chart();
    const wl = MeshWorkload.fromLabels(chart, 'App', { name: 'app', namespace: 'web', labels: { app: 'app' }, interceptionMode: InterceptionMode.NONE });
    // WHEN it limits each client
    // THEN it is refused: the limit would never apply
    expect(() => wl.rateLimitPerClient(perSecond)).toThrow(/interceptionMode NONE sends inbound traffic past the sidecar/);
  });

  test('explain warns that a WAYPOINT-context limit is never applied, and traces none', () => {
    // GIVEN a hand-written waypoint filter: the library's gateway filter moved to the WAYPOINT context
    const { chart, gw } = gateway();
    gw.rateLimitPerClient(perSecond);
    const manifests = synthAndValidate(chart);
    const ef = findManifest(manifests, 'EnvoyFilter');
    for (const p of ef.spec.configPatches) p.match.context = 'WAYPOINT';
    // WHEN explain reads it
    const parsed = parseManifests(manifests);
    // THEN it is no rate limit of the model, with a warning that says why
    expect(parsed.rateLimits).toEqual([]);
    expect(parsed.findings.map(f => f.message)).toContain('a per-client rate limit in match.context WAYPOINT is never applied: istiod patches a waypoint\'s listeners in the SIDECAR_INBOUND context, and no patch matches WAYPOINT');
  });
});
