import { App, Chart, Testing } from 'cdk8s';
import { FakeGateway, FakeWorkload } from './fake-targets';
import {
  ClientIpField, ExternalTrafficPolicy, ISTIO_VERSION_CONTEXT_KEY, IstioVersion, PolicyAction, ProxyProtocolMode, ProxyRole, SidecarXffMode,
  SourceIpPolicy,
} from '../../src';
import { recommendedFieldForGateway, recommendedFieldForWorkload } from '../../src/trace/field-choice';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

/** A chart whose constructs default to `istioVersion` through the context key. */
function chartFor(istioVersion: IstioVersion = IstioVersion.LATEST): Chart {
  const app = Testing.app();
  app.node.setContext(ISTIO_VERSION_CONTEXT_KEY, istioVersion.label);
  return new Chart(app, 'test');
}

function policies(chart: Chart, istioVersion: IstioVersion = IstioVersion.LATEST): any[] {
  return manifestsOfKind(synthAndValidate(chart, { istioVersion }), 'AuthorizationPolicy');
}

function onlyPolicy(chart: Chart, istioVersion?: IstioVersion): any {
  const all = policies(chart, istioVersion);
  expect(all).toHaveLength(1);
  return all[0];
}

function warningsOf(policy: SourceIpPolicy): string[] {
  return policy.node.metadata.filter(m => m.type === 'warning').map(m => m.data);
}

/** The gateway of the Tetrate article: three proxies in front, numTrustedProxies 2, Local. */
function tetrateGateway(chart: Chart): FakeGateway {
  return new FakeGateway(chart, 'IngressGateway', {
    name: 'istio-ingressgateway',
    namespace: 'istio-system',
    selector: { app: 'istio-ingressgateway' },
    externalTrafficPolicy: ExternalTrafficPolicy.LOCAL,
    numTrustedProxies: 2,
  });
}

describe('seed examples (Tetrate, "Use Case Examples")', () => {
  test.each(IstioVersion.all().map(v => [v.label, v] as const))('"Blocking Specific Source IP" with remoteIpBlocks validates for Istio %s', (_label, istioVersion) => {
    // GIVEN
    const chart = chartFor(istioVersion);
    const gateway = tetrateGateway(chart);
    // WHEN
    new SourceIpPolicy(chart, 'Block', { target: gateway, name: 'ingress-policy', action: PolicyAction.DENY, cidrs: ['2.2.2.0/24'] });
    // THEN
    const policy = onlyPolicy(chart, istioVersion);
    expect(policy).toEqual({
      apiVersion: 'security.istio.io/v1',
      kind: 'AuthorizationPolicy',
      metadata: { name: 'ingress-policy', namespace: 'istio-system' },
      spec: {
        selector: { matchLabels: { app: 'istio-ingressgateway' } },
        action: 'DENY',
        rules: [{ from: [{ source: { remoteIpBlocks: ['2.2.2.0/24'] } }] }],
      },
    });
  });

  test('fails the article\'s literal "2.2.2.2/24" with a suggestion', () => {
    const chart = chartFor();
    expect(() => new SourceIpPolicy(chart, 'Block', { target: tetrateGateway(chart), action: PolicyAction.DENY, cidrs: ['2.2.2.2/24'] }))
      .toThrow(/cidrs\[0\]: "2\.2\.2\.2\/24" has host bits set after the prefix; did you mean "2\.2\.2\.0\/24"\?/);
  });

  test.each(IstioVersion.all().map(v => [v.label, v] as const))('"Using the Ultimate Client IP" with ipBlocks validates for Istio %s', (_label, istioVersion) => {
    // GIVEN
    const chart = chartFor(istioVersion);
    const gateway = tetrateGateway(chart);
    // WHEN
    const p = new SourceIpPolicy(chart, 'Ultimate', {
      target: gateway, name: 'ingress-policy', action: PolicyAction.DENY, field: ClientIpField.IP_BLOCKS, cidrs: ['123.120.234.0/24'],
    });
    // THEN
    const policy = onlyPolicy(chart, istioVersion);
    expect(policy.spec).toEqual({
      selector: { matchLabels: { app: 'istio-ingressgateway' } },
      action: 'DENY',
      rules: [{ from: [{ source: { ipBlocks: ['123.120.234.0/24'] } }] }],
    });
    // matching the last proxy rather than the client is allowed, but said out loud
    expect(warningsOf(p).join('\n')).toMatch(/matches the direct peer \(the load balancer or the last proxy in front\).*X-Forwarded-For \(numTrustedProxies 2\).*use remoteIpBlocks/);
  });

  test('both seed policies as snapshots', () => {
    const chart = chartFor();
    const gateway = tetrateGateway(chart);
    SourceIpPolicy.denyFrom(gateway, ['2.2.2.0/24']);
    SourceIpPolicy.denyFrom(gateway, ['123.120.234.0/24'], { field: ClientIpField.IP_BLOCKS });
    expect(policies(chart)).toMatchSnapshot();
  });
});

describe('every variant validates for every Istio version', () => {
  test.each(IstioVersion.all().map(v => [v.label, v] as const))('Istio %s', (_label, istioVersion) => {
    // GIVEN one target of each kind and every shape of rule
    const chart = chartFor(istioVersion);
    const gateway = new FakeGateway(chart, 'Gw', { numTrustedProxies: 1 });
    const sidecar = new FakeWorkload(chart, 'Sidecar', { xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 1 });
    const ambient = new FakeWorkload(chart, 'Ambient', { role: ProxyRole.AMBIENT, name: 'ambient', selector: { app: 'ambient' } });
    SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24', '2001:db8::/32'], { ports: [80], paths: ['/api/*'], methods: ['GET'] });
    SourceIpPolicy.denyFrom(gateway, ['198.51.100.7'], { field: ClientIpField.IP_BLOCKS });
    SourceIpPolicy.denyFrom(gateway, ['10.0.0.0/8'], { negate: true });
    SourceIpPolicy.allowFrom(sidecar, ['::ffff:10.1.0.0/112']);
    SourceIpPolicy.denyFrom(sidecar, ['10.2.0.0/16'], { negate: true, field: ClientIpField.IP_BLOCKS });
    SourceIpPolicy.allowFrom(ambient, ['10.3.0.0/16'], { ports: [8080] });
    new SourceIpPolicy(chart, 'Nothing', { target: ambient, cidrs: [], allowNothing: true });
    // WHEN / THEN
    const all = policies(chart, istioVersion);
    expect(all).toHaveLength(7);
    expect(all.map(p => Object.keys(p.spec.rules?.[0].from[0].source ?? {})[0])).toEqual([
      'remoteIpBlocks', 'ipBlocks', 'notRemoteIpBlocks', 'remoteIpBlocks', 'notIpBlocks', 'ipBlocks', undefined,
    ]);
  });
});

describe('allowFrom and denyFrom', () => {
  test('create children of the target with unique ids and names that do not depend on call order', () => {
    // GIVEN
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    // WHEN
    const a1 = SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24']);
    const a2 = SourceIpPolicy.allowFrom(gateway, ['198.51.100.0/24']);
    const d1 = SourceIpPolicy.denyFrom(gateway, ['203.0.113.7']);
    const again = SourceIpPolicy.denyFrom(gateway, ['203.0.113.7']);
    // THEN
    expect([a1, a2, d1, again].map(p => p.node.id)).toEqual([
      expect.stringMatching(/^AllowFrom[0-9a-f]{8}$/), expect.stringMatching(/^AllowFrom[0-9a-f]{8}$/),
      expect.stringMatching(/^DenyFrom[0-9a-f]{8}$/), `${d1.node.id}-2`,
    ]);
    expect([a1, a2, d1].map(p => p.action)).toEqual([PolicyAction.ALLOW, PolicyAction.ALLOW, PolicyAction.DENY]);
    const names = policies(chart).map(m => m.metadata.name);
    expect(new Set(names).size).toBe(4);
    expect(names).toEqual([a1.name, a2.name, d1.name, again.name]);
    expect(a1.name).toMatch(/^test-gw-allowfrom[0-9a-f]{8}-[a-z0-9]+$/);

    // a call added before the others renames and repurposes nothing
    const other = chartFor();
    const gw2 = new FakeGateway(other, 'Gw');
    const first = SourceIpPolicy.allowFrom(gw2, ['192.0.2.0/24']);
    const b2 = SourceIpPolicy.allowFrom(gw2, ['198.51.100.0/24']);
    const b1 = SourceIpPolicy.allowFrom(gw2, ['203.0.113.0/24']);
    expect([b1.name, b2.name]).toEqual([a1.name, a2.name]);
    expect(first.name).not.toEqual(a1.name);
  });

  test('pass options through', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    SourceIpPolicy.allowFrom(gateway, ['10.0.0.0/8'], { name: 'office', negate: true, ports: [80], paths: ['/admin/*'], methods: ['GET'] });
    expect(findManifest(policies(chart), 'AuthorizationPolicy', 'office').spec.rules).toEqual([{
      from: [{ source: { notIpBlocks: ['10.0.0.0/8'] } }],
      to: [{ operation: { ports: ['80'], paths: ['/admin/*'], methods: ['GET'] } }],
    }]);
  });
});

describe('field choice from the topology', () => {
  const gatewayCases: Array<[string, object, ClientIpField]> = [
    ['Local, nothing in front', { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL }, ClientIpField.IP_BLOCKS],
    ['Cluster behind a source-preserving LB', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, loadBalancerPreservesSource: true }, ClientIpField.IP_BLOCKS],
    ['trusted XFF hops', { numTrustedProxies: 1 }, ClientIpField.REMOTE_IP_BLOCKS],
    ['strict PROXY', { proxyProtocol: ProxyProtocolMode.STRICT }, ClientIpField.REMOTE_IP_BLOCKS],
    ['optional PROXY', { proxyProtocol: ProxyProtocolMode.OPTIONAL }, ClientIpField.REMOTE_IP_BLOCKS],
    ['per-port PROXY', { proxyProtocol: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [80] }, ClientIpField.REMOTE_IP_BLOCKS],
  ];
  test.each(gatewayCases)('gateway, %s', (_name, model, field) => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw', model);
    const policy = SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24']);
    expect(recommendedFieldForGateway(gateway.model)).toBe(field);
    expect(SourceIpPolicy.recommendedField(gateway)).toBe(field);
    expect(Object.keys(onlyPolicy(chart).spec.rules[0].from[0].source)).toEqual([field]);
    expect(policy.field).toBe(field);
  });

  const workloadCases: Array<[string, object, ClientIpField]> = [
    ['sidecar, Istio defaults', {}, ClientIpField.IP_BLOCKS],
    ['sidecar, TPROXY', { interceptionMode: 'TPROXY' }, ClientIpField.IP_BLOCKS],
    ['sidecar, XffSidecarFilter with 1 trusted hop', { xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 1 }, ClientIpField.REMOTE_IP_BLOCKS],
    ['sidecar, trusted hops 0', { xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 0 }, ClientIpField.IP_BLOCKS],
    ['sidecar, trusted CIDRs', { xffMode: SidecarXffMode.TRUSTED_CIDRS, xffTrustedCidrs: ['10.0.0.0/8'] }, ClientIpField.REMOTE_IP_BLOCKS],
    ['sidecar, use_remote_address (the peer is the client)', { xffMode: SidecarXffMode.USE_REMOTE_ADDRESS }, ClientIpField.IP_BLOCKS],
    ['ambient', { role: ProxyRole.AMBIENT }, ClientIpField.IP_BLOCKS],
  ];
  test.each(workloadCases)('%s', (_name, model, field) => {
    const chart = chartFor();
    const workload = new FakeWorkload(chart, 'App', model);
    SourceIpPolicy.allowFrom(workload, ['10.0.0.0/8']);
    expect(recommendedFieldForWorkload(workload.model)).toBe(field);
    expect(Object.keys(onlyPolicy(chart).spec.rules[0].from[0].source)).toEqual([field]);
  });

  test('is decided at synth time, after the target changes', () => {
    // GIVEN a policy created while the gateway trusts no hop
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    const policy = SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24']);
    expect(policy.field).toBe(ClientIpField.IP_BLOCKS);
    // WHEN the gateway learns of an L7 load balancer in front
    gateway.model = { ...gateway.model, numTrustedProxies: 1 };
    // THEN
    expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['203.0.113.0/24'] });
    expect(policy._policyModel()).toEqual({
      name: policy.name,
      namespace: 'istio-system',
      selector: { app: 'istio-ingressgateway' },
      action: PolicyAction.DENY,
      field: ClientIpField.REMOTE_IP_BLOCKS,
      negated: false,
      cidrs: ['203.0.113.0/24'],
    });
  });

  test('a target without a model gets ipBlocks', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    gateway._gatewayModel = () => undefined;
    expect(SourceIpPolicy.recommendedField(gateway)).toBe(ClientIpField.IP_BLOCKS);
  });
});

describe('topology checks', () => {
  describe('ipBlocks on a gateway behind externalTrafficPolicy Cluster (istio/istio#21916)', () => {
    test('fails ipBlocks with Cluster', () => {
      const chart = chartFor();
      const gateway = new FakeGateway(chart, 'Gw', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });
      SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24']);
      expect(() => Testing.synth(chart)).toThrow(/field ipBlocks \(chosen from the target's topology\) cannot match clients on gateway "istio-system\/istio-ingressgateway": its Service uses externalTrafficPolicy Cluster.*istio\/istio#21916.*set externalTrafficPolicy Local/);
    });

    test('fails a forced ipBlocks with Cluster even when PROXY protocol is on', () => {
      const chart = chartFor();
      const gateway = new FakeGateway(chart, 'Gw', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, proxyProtocol: ProxyProtocolMode.STRICT });
      SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24'], { field: ClientIpField.IP_BLOCKS });
      expect(() => Testing.synth(chart)).toThrow(/field ipBlocks cannot match clients.*externalTrafficPolicy Cluster/);
    });

    test('passes with Local, or with Cluster behind a source-preserving load balancer', () => {
      const local = { externalTrafficPolicy: ExternalTrafficPolicy.LOCAL };
      const preserving = { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, loadBalancerPreservesSource: true };
      for (const model of [local, preserving]) {
        const chart = chartFor();
        const policy = SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', model), ['203.0.113.0/24']);
        expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ ipBlocks: ['203.0.113.0/24'] });
        expect(warningsOf(policy)).toEqual([]);
      }
    });
  });

  describe('remoteIpBlocks on a gateway that resolves no client', () => {
    test('fails with Cluster and no trusted hop or PROXY', () => {
      const chart = chartFor();
      const gateway = new FakeGateway(chart, 'Gw', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER });
      SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(() => Testing.synth(chart)).toThrow(/field remoteIpBlocks cannot match clients.*trusts no X-Forwarded-For hop \(numTrustedProxies 0\).*set numTrustedProxies/);
    });

    test('passes with a trusted hop', () => {
      const chart = chartFor();
      const gateway = new FakeGateway(chart, 'Gw', { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER, numTrustedProxies: 1 });
      const policy = SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['203.0.113.0/24'] });
      expect(warningsOf(policy)).toEqual([]);
    });

    test('warns with Local, where it equals ipBlocks', () => {
      const chart = chartFor();
      const policy = SourceIpPolicy.denyFrom(new FakeGateway(chart, 'Gw'), ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      policies(chart);
      expect(warningsOf(policy).join()).toMatch(/is the packet source because the gateway trusts no X-Forwarded-For hop.*use ipBlocks/);
    });
  });

  describe('remoteIpBlocks on TCP and TLS passthrough servers', () => {
    const servers = [
      { port: 80, protocol: 'HTTP', hosts: ['*'] },
      { port: 5432, protocol: 'TCP', hosts: ['*'] },
      { port: 443, protocol: 'TLS', hosts: ['*'], tlsMode: 'PASSTHROUGH' },
    ];

    test('fails when XFF is trusted but the TCP and TLS servers have no PROXY protocol', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { numTrustedProxies: 1, servers }), ['203.0.113.0/24']);
      expect(() => Testing.synth(chart)).toThrow(/port 5432 \(TCP\): TCP and TLS passthrough servers carry no X-Forwarded-For and PROXY protocol is off on that port[\s\S]*port 443 \(TLS PASSTHROUGH\)/);
    });

    test('fails when per-port PROXY protocol misses the TCP port', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { proxyProtocol: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [443], servers }), ['203.0.113.0/24']);
      expect(() => Testing.synth(chart)).toThrow(/port 5432 \(TCP\).*enable PROXY protocol on port 5432/);
    });

    test('passes with PROXY protocol on every listener', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { proxyProtocol: ProxyProtocolMode.STRICT, servers }), ['203.0.113.0/24']);
      expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['203.0.113.0/24'] });
    });

    test('passes when ports limit the policy to the HTTP server', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { numTrustedProxies: 1, servers }), ['203.0.113.0/24'], { ports: [80] });
      expect(onlyPolicy(chart).spec.rules[0].to).toEqual([{ operation: { ports: ['80'] } }]);
    });
  });

  describe('remoteIpBlocks on a sidecar (istio/istio#30166)', () => {
    test('fails without an XffSidecarFilter', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App'), ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(() => Testing.synth(chart)).toThrow(/field remoteIpBlocks cannot match clients on sidecar workload "default\/echo-server".*rightmost X-Forwarded-For entry.*istio\/istio#30166.*add an XffSidecarFilter/);
    });

    test('passes with an XffSidecarFilter trusting the gateway hop', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App', { xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 1 }), ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['203.0.113.0/24'] });
    });

    test('fails when the filter covers other ports than the policy', () => {
      const chart = chartFor();
      const workload = new FakeWorkload(chart, 'App', { xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 1, xffPorts: [8080] });
      SourceIpPolicy.allowFrom(workload, ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(() => Testing.synth(chart)).toThrow(/for every port \(no ports set\): the XffSidecarFilter covers only ports \[8080\]/);
    });

    test('passes when the policy ports are covered by the filter or by PROXY protocol', () => {
      const chart = chartFor();
      const workload = new FakeWorkload(chart, 'App', { xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 1, xffPorts: [8080], proxyProtocolPorts: [9000] });
      SourceIpPolicy.allowFrom(workload, ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS, ports: [8080, 9000] });
      expect(onlyPolicy(chart).spec.rules[0].to).toEqual([{ operation: { ports: ['8080', '9000'] } }]);
    });

    test('warns about remoteIpBlocks with use_remote_address, which is the socket peer', () => {
      const chart = chartFor();
      const policy = SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App', { xffMode: SidecarXffMode.USE_REMOTE_ADDRESS }), ['10.0.0.0/8'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ remoteIpBlocks: ['10.0.0.0/8'] });
      expect(warningsOf(policy).join()).toMatch(/is the socket peer because its XffSidecarFilter sets use_remote_address.*use ipBlocks/);
    });

    test('ipBlocks always passes on a sidecar', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App'), ['10.0.0.0/8']);
      expect(onlyPolicy(chart).spec.rules[0].from[0].source).toEqual({ ipBlocks: ['10.0.0.0/8'] });
    });
  });

  describe('ambient (ztunnel) targets', () => {
    test('fails remoteIpBlocks in an ALLOW: it never matches', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App', { role: ProxyRole.AMBIENT }), ['10.0.0.0/8'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(() => Testing.synth(chart)).toThrow(/is not supported on ambient workload "default\/echo-server".*this ALLOW never matches and denies every request; use ipBlocks/);
    });

    test('fails remoteIpBlocks in a DENY: istiod enforces it without them, on every caller', () => {
      const chart = chartFor();
      SourceIpPolicy.denyFrom(new FakeWorkload(chart, 'App', { role: ProxyRole.AMBIENT }), ['10.0.0.0/8'], { field: ClientIpField.REMOTE_IP_BLOCKS });
      expect(() => Testing.synth(chart)).toThrow(/istiod enforces this DENY without its HTTP attributes, so it denies every caller on its ports, whatever the request/);
    });

    test('fails paths or methods: ztunnel is L4 only', () => {
      const chart = chartFor();
      SourceIpPolicy.denyFrom(new FakeWorkload(chart, 'App', { role: ProxyRole.AMBIENT }), ['10.0.0.0/8'], { paths: ['/admin'] });
      expect(() => Testing.synth(chart)).toThrow(/paths and methods are not supported on ambient workload.*remove paths and methods \(ports are fine\)/);
    });

    test('passes ipBlocks with ports', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App', { role: ProxyRole.AMBIENT }), ['10.0.0.0/8'], { ports: [8080] });
      expect(onlyPolicy(chart).spec.rules).toEqual([{ from: [{ source: { ipBlocks: ['10.0.0.0/8'] } }], to: [{ operation: { ports: ['8080'] } }] }]);
    });
  });
});

describe('CIDR list checks', () => {
  test.each(['127.0.0.0/8', '127.0.0.6', '127.0.0.1/32', '::ffff:127.0.0.6', '::1'])('fails allow-listing loopback %s', cidr => {
    const chart = chartFor();
    expect(() => SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App'), ['10.0.0.0/8', cidr]))
      .toThrow(/cidrs\[1\] ".*" allow-lists loopback \(.*\), which is what iptables REDIRECT shows the app/);
  });

  test('passes denying loopback, negating it, or allowing a block that merely contains it', () => {
    const chart = chartFor();
    const workload = new FakeWorkload(chart, 'App');
    SourceIpPolicy.denyFrom(workload, ['127.0.0.0/8']);
    SourceIpPolicy.allowFrom(workload, ['127.0.0.6'], { negate: true });
    SourceIpPolicy.allowFrom(workload, ['0.0.0.0/0']);
    expect(policies(chart)).toHaveLength(3);
  });

  test('fails an empty ALLOW list', () => {
    const chart = chartFor();
    expect(() => SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw'), []))
      .toThrow(/cidrs \[\] is not allowed for an ALLOW policy: it would deny every request to the target;.*set allowNothing true/);
  });

  test('passes an empty ALLOW list with allowNothing, as an allow-nothing policy', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    new SourceIpPolicy(chart, 'Nothing', { target: gateway, cidrs: [], allowNothing: true, name: 'allow-nothing' });
    for (const istioVersion of IstioVersion.all()) {
      expect(policies(chart, istioVersion)[0].spec).toEqual({ selector: { matchLabels: { app: 'istio-ingressgateway' } }, action: 'ALLOW' });
    }
  });

  test('fails allowNothing with addresses, and empty DENY or negated lists', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    expect(() => new SourceIpPolicy(chart, 'A', { target: gateway, cidrs: ['10.0.0.0/8'], allowNothing: true })).toThrow(/allowNothing true is only allowed with action ALLOW, an empty cidrs list/);
    expect(() => SourceIpPolicy.denyFrom(gateway, [])).toThrow(/cidrs \[\] is not allowed for a DENY policy: it would match nothing/);
    expect(() => SourceIpPolicy.allowFrom(gateway, [], { negate: true })).toThrow(/cidrs \[\] is not allowed for a negated policy/);
  });

  test('fails an invalid entry, naming its index', () => {
    const chart = chartFor();
    expect(() => SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw'), ['10.0.0.0/8', '10.0.0.300'])).toThrow(/^cidrs\[1\]: "10\.0\.0\.300" is not an IPv4 or IPv6 address/);
  });

  test('normalises IPv6, single and IPv4-mapped addresses and drops duplicates with a warning', () => {
    const chart = chartFor();
    const policy = SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw'), ['2001:DB8::/32', '198.51.100.7', '::ffff:198.51.100.7', '2001:db8:1::/48']);
    expect(onlyPolicy(chart).spec.rules[0].from[0].source.ipBlocks).toEqual(['2001:db8::/32', '198.51.100.7/32', '2001:db8:1::/48']);
    expect(warningsOf(policy)).toEqual([
      'cidrs[2] "198.51.100.7/32" repeats cidrs[1]: remove the duplicate',
      'cidrs[3] "2001:db8:1::/48" lies inside cidrs[0] "2001:db8::/32": remove the narrower block',
    ]);
  });
});

describe('allow and deny on the same target', () => {
  test('fails the same CIDR in an ALLOW and a DENY', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24', '198.51.100.0/24']);
    SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24']);
    expect(() => Testing.synth(chart)).toThrow(/\[test\/Gw\/DenyFrom[0-9a-f]{8}\] cidrs "203\.0\.113\.0\/24" is both denied here and allowed by ALLOW policy "istio-system\/.*" \(test\/Gw\/AllowFrom[0-9a-f]{8}\): DENY is evaluated first/);
  });

  test('fails across charts and constructs when the selector and namespace match', () => {
    const app = Testing.app();
    const a = new Chart(app, 'a');
    const b = new Chart(app, 'b');
    SourceIpPolicy.allowFrom(new FakeGateway(a, 'Gw'), ['203.0.113.7']);
    SourceIpPolicy.denyFrom(new FakeGateway(b, 'SameGw'), ['203.0.113.7/32']);
    expect(() => Testing.synth(b)).toThrow(/is both denied here and allowed by/);
  });

  test('warns about an overlap', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24']);
    const deny = SourceIpPolicy.denyFrom(gateway, ['203.0.113.7']);
    expect(policies(chart)).toHaveLength(2);
    expect(warningsOf(deny).join()).toMatch(/cidrs "203\.0\.113\.7\/32" overlaps "203\.0\.113\.0\/24" allowed by ALLOW policy/);
    expect(deny.warnings()).toEqual(warningsOf(deny));
  });

  test('passes on different targets, different fields, or a DENY limited to some paths', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw');
    SourceIpPolicy.allowFrom(gateway, ['203.0.113.0/24']);
    SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24'], { paths: ['/admin/*'] });
    SourceIpPolicy.denyFrom(new FakeWorkload(chart, 'App'), ['203.0.113.0/24']);
    const deny = SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS, name: 'other-field' });
    expect(policies(chart)).toHaveLength(4);
    expect(warningsOf(deny).join()).not.toMatch(/overlaps|both denied/);
  });
});

describe('props', () => {
  test('renders ports as strings, paths, methods and the negated fields', () => {
    const chart = chartFor();
    const gateway = new FakeGateway(chart, 'Gw', { numTrustedProxies: 1, servers: [{ port: 80, protocol: 'HTTP', hosts: ['*'] }, { port: 8080, protocol: 'HTTP', hosts: ['*'] }] });
    SourceIpPolicy.denyFrom(gateway, ['203.0.113.0/24'], { negate: true, ports: [80, 80, 8080], paths: ['/a', '*.png'], methods: ['GET', 'POST'], name: 'not-remote' });
    const spec = findManifest(policies(chart), 'AuthorizationPolicy', 'not-remote').spec;
    expect(spec.rules).toEqual([{
      from: [{ source: { notRemoteIpBlocks: ['203.0.113.0/24'] } }],
      to: [{ operation: { ports: ['80', '8080'], paths: ['/a', '*.png'], methods: ['GET', 'POST'] } }],
    }]);
  });

  describe('ports on a gateway are the ports Envoy listens on in the pod', () => {
    const servers: any[] = [
      { port: 80, protocol: 'HTTP', hosts: ['*'], targetPort: 8080 },
      { port: 443, protocol: 'HTTPS', hosts: ['*'], tlsMode: 'SIMPLE', targetPort: 8443 },
      { port: 9000, protocol: 'HTTP', hosts: ['*'] },
    ];

    test('maps server ports to listener ports and keeps listener ports', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { servers }), ['10.0.0.0/8'], { ports: [443, 8080, 9000, 80] });
      expect(onlyPolicy(chart).spec.rules[0].to).toEqual([{ operation: { ports: ['8443', '8080', '9000'] } }]);
    });

    test('fails a port that matches no server', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { servers }), ['10.0.0.0/8'], { ports: [8081] });
      expect(() => Testing.synth(chart)).toThrow(/ports\[0\] 8081 matches no server of gateway "istio-system\/istio-ingressgateway": use one of its server ports \[80,443,9000\]/);
    });

    test('keeps ports as given while the gateway has no servers', () => {
      const chart = chartFor();
      SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw', { servers: [] }), ['10.0.0.0/8'], { ports: [8081] });
      expect(onlyPolicy(chart).spec.rules[0].to).toEqual([{ operation: { ports: ['8081'] } }]);
    });
  });

  test('uses the target namespace and selector, not the chart namespace', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'c', { namespace: 'elsewhere' });
    SourceIpPolicy.allowFrom(new FakeWorkload(chart, 'App', { namespace: 'shop', selector: { app: 'cart', version: 'v2' } }), ['10.0.0.0/8']);
    const policy = onlyPolicy(chart);
    expect(policy.metadata.namespace).toBe('shop');
    expect(policy.spec.selector).toEqual({ matchLabels: { app: 'cart', version: 'v2' } });
  });

  test.each([
    [{ ports: [0] }, /ports\[0\] 0 is not a valid port: use a whole number from 1 to 65535/],
    [{ ports: [80, 70000] }, /ports\[1\] 70000 is not a valid port/],
    [{ paths: ['admin'] }, /paths\[0\] "admin" is not allowed: use an absolute path/],
    [{ paths: ['/a/*/b'] }, /paths\[0\] "\/a\/\*\/b" is not allowed/],
    [{ paths: [''] }, /paths\[0\] "" is not allowed/],
    [{ methods: ['get'] }, /methods\[0\] "get" is not allowed: use an upper-case HTTP method/],
    [{ name: 'Bad_Name' }, /name "Bad_Name" is not a valid DNS-1123 label/],
    [{ field: 'sourceIp' }, /field "sourceIp" is not allowed: use one of "ipBlocks", "remoteIpBlocks"/],
  ])('fails bad options %j', (options, message) => {
    const chart = chartFor();
    expect(() => SourceIpPolicy.allowFrom(new FakeGateway(chart, 'Gw'), ['10.0.0.0/8'], options as any)).toThrow(message);
  });

  test('fails a bad action and a missing target', () => {
    const chart = chartFor();
    expect(() => new SourceIpPolicy(chart, 'P', { target: new FakeGateway(chart, 'Gw'), cidrs: ['10.0.0.0/8'], action: 'AUDIT' as any }))
      .toThrow(/action "AUDIT" is not allowed: use one of "ALLOW", "DENY"/);
    expect(() => new SourceIpPolicy(chart, 'Q', { cidrs: ['10.0.0.0/8'] } as any)).toThrow(/target is required/);
  });

  test('takes istioVersion from props, context or LATEST', () => {
    const chart = chartFor(IstioVersion.V1_24);
    const gateway = new FakeGateway(chart, 'Gw');
    expect(SourceIpPolicy.allowFrom(gateway, ['10.0.0.0/8']).istioVersion).toBe(IstioVersion.V1_24);
    expect(new SourceIpPolicy(chart, 'P', { target: gateway, cidrs: ['10.0.0.0/8'], istioVersion: IstioVersion.V1_28 }).istioVersion).toBe(IstioVersion.V1_28);
    expect(SourceIpPolicy.allowFrom(new FakeGateway(new Chart(new App(), 'x'), 'Gw'), ['10.0.0.0/8']).istioVersion).toBe(IstioVersion.LATEST);
  });
});
