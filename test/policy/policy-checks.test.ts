import { ClientIpField, ExternalTrafficPolicy, InterceptionMode, PolicyAction, ProxyProtocolMode, ProxyRole, SidecarXffMode } from '../../src';
import { GatewayModel, PolicyModel, WorkloadModel } from '../../src/model/model';
import { listenerPortOf } from '../../src/model/servers';
import { parseCidr } from '../../src/net/cidr';
import {
  gatewayResolvesClient, gatewaySeesPacketSource, recommendedFieldFor, recommendedFieldForGateway, recommendedFieldForWorkload,
} from '../../src/trace/field-choice';
import {
  checkAllowDenyConflicts, checkCidrList, checkPolicyAgainstTarget, gatewayPolicyPorts, LOOPBACK_BLOCKS, PolicyCheckInput,
} from '../../src/trace/policy-checks';

/*
 * The pure functions behind SourceIpPolicy, on plain models (as `explain` uses them on parsed manifests).
 */

const gateway: GatewayModel = {
  name: 'gw',
  namespace: 'ingress',
  selector: { istio: 'ingressgateway' },
  externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER,
  loadBalancerPreservesSource: false,
  numTrustedProxies: 0,
  proxyProtocol: ProxyProtocolMode.OFF,
  proxyProtocolPorts: [],
  servers: [],
};

const workload: WorkloadModel = {
  name: 'app',
  namespace: 'shop',
  selector: { app: 'app' },
  role: ProxyRole.SIDECAR,
  interceptionMode: InterceptionMode.TPROXY,
  xffMode: SidecarXffMode.DEFAULT,
};

function policy(overrides: Partial<PolicyModel> = {}): PolicyModel {
  return {
    name: 'p',
    namespace: 'ingress',
    selector: { istio: 'ingressgateway' },
    action: PolicyAction.ALLOW,
    field: ClientIpField.IP_BLOCKS,
    negated: false,
    cidrs: ['203.0.113.0/24'],
    ...overrides,
  };
}

function input(overrides: Partial<PolicyCheckInput>): PolicyCheckInput {
  return { policy: policy(), role: ProxyRole.GATEWAY, ports: [], matchesHttpAttributes: false, fieldForced: true, ...overrides };
}

describe('loopback blocks', () => {
  test('are written as parseCidr reads them', () => {
    // GIVEN the loopback blocks the CIDR checks compare with
    // WHEN parseCidr reads their text
    // THEN it gives the same blocks
    expect(LOOPBACK_BLOCKS.map(b => parseCidr(b.text))).toEqual(LOOPBACK_BLOCKS);
    expect(LOOPBACK_BLOCKS.map(b => b.text)).toEqual(['127.0.0.0/8', '::1/128']);
  });
});

describe('field choice', () => {
  test('gateway predicates', () => {
    expect(gatewayResolvesClient(gateway)).toBe(false);
    expect(gatewayResolvesClient({ ...gateway, proxyProtocol: ProxyProtocolMode.OPTIONAL })).toBe(true);
    expect(gatewaySeesPacketSource(gateway)).toBe(false);
    expect(gatewaySeesPacketSource({ ...gateway, loadBalancerPreservesSource: true })).toBe(true);
  });

  test('recommends per model and role', () => {
    expect(recommendedFieldForGateway({ ...gateway, numTrustedProxies: 2 })).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    expect(recommendedFieldForWorkload({ ...workload, xffMode: SidecarXffMode.TRUSTED_CIDRS, xffTrustedCidrs: [] })).toBe(ClientIpField.IP_BLOCKS);
    expect(recommendedFieldFor(ProxyRole.GATEWAY, undefined, workload)).toBe(ClientIpField.IP_BLOCKS);
    const hops = { ...workload, xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 2 };
    expect(recommendedFieldFor(ProxyRole.SIDECAR, gateway, hops)).toBe(ClientIpField.REMOTE_IP_BLOCKS);
    const remoteAddress = { ...workload, xffMode: SidecarXffMode.USE_REMOTE_ADDRESS };
    expect(recommendedFieldFor(ProxyRole.SIDECAR, gateway, remoteAddress)).toBe(ClientIpField.IP_BLOCKS);
  });
});

describe('checkPolicyAgainstTarget', () => {
  test('finds nothing to check without a model', () => {
    expect(checkPolicyAgainstTarget(input({}))).toEqual({ errors: [], warnings: [] });
    const remote = policy({ field: ClientIpField.REMOTE_IP_BLOCKS });
    expect(checkPolicyAgainstTarget(input({ role: ProxyRole.SIDECAR, policy: remote }))).toEqual({ errors: [], warnings: [] });
  });

  test('reports the Cluster gateway for a parsed policy', () => {
    const found = checkPolicyAgainstTarget(input({ gateway }));
    expect(found.errors).toHaveLength(1);
    expect(found.errors[0]).toMatch(/^field ipBlocks cannot match clients on gateway "ingress\/gw"/);
  });

  test('accepts a PROXY gateway with remoteIpBlocks on a TLS server', () => {
    const model = { ...gateway, proxyProtocol: ProxyProtocolMode.STRICT, servers: [{ port: 443, protocol: 'TLS', hosts: ['*'], tlsMode: 'PASSTHROUGH' }] };
    const remote = policy({ field: ClientIpField.REMOTE_IP_BLOCKS });
    expect(checkPolicyAgainstTarget(input({ gateway: model, policy: remote }))).toEqual({ errors: [], warnings: [] });
  });

  test('names ambient targets without a model', () => {
    const found = checkPolicyAgainstTarget(input({ role: ProxyRole.AMBIENT, policy: policy({ field: ClientIpField.REMOTE_IP_BLOCKS }) }));
    expect(found.errors[0]).toMatch(/not supported on an ambient workload/);
  });
});

describe('gateway ports', () => {
  test('listener port defaults to the Service port', () => {
    expect(listenerPortOf({ port: 80, protocol: 'HTTP', hosts: ['*'] })).toBe(80);
    expect(listenerPortOf({ port: 80, protocol: 'HTTP', hosts: ['*'], targetPort: 8080 } as any)).toBe(8080);
  });

  test('maps, keeps and rejects', () => {
    const model = { ...gateway, servers: [{ port: 80, protocol: 'HTTP', hosts: ['*'], targetPort: 8080 } as any] };
    expect(gatewayPolicyPorts(model, [80, 8080])).toEqual({ ports: [8080], errors: [] });
    expect(gatewayPolicyPorts(model, [81]).errors[0]).toMatch(/ports\[0\] 81 matches no server/);
  });
});

describe('checkCidrList', () => {
  test('loopback is an error only in a plain ALLOW', () => {
    const cidrs = [parseCidr('127.0.0.6')];
    expect(checkCidrList(cidrs, PolicyAction.ALLOW, false).errors).toHaveLength(1);
    expect(checkCidrList(cidrs, PolicyAction.ALLOW, true).errors).toEqual([]);
    expect(checkCidrList(cidrs, PolicyAction.DENY, false).errors).toEqual([]);
  });

  test('reports a wider block after a narrower one', () => {
    expect(checkCidrList([parseCidr('10.1.0.0/16'), parseCidr('10.0.0.0/8')], PolicyAction.DENY, false).warnings)
      .toEqual(['cidrs[0] "10.1.0.0/16" lies inside cidrs[1] "10.0.0.0/8": remove the narrower block']);
  });
});

describe('checkAllowDenyConflicts', () => {
  const deny = { policy: policy({ action: PolicyAction.DENY, cidrs: ['203.0.113.0/24'] }), limited: false, where: 'deny' };
  const allow = { policy: policy(), limited: false, where: 'allow "a"' };

  test('only from the DENY side', () => {
    expect(checkAllowDenyConflicts(deny, [allow]).errors).toHaveLength(1);
    expect(checkAllowDenyConflicts(allow, [deny])).toEqual({ errors: [], warnings: [] });
  });

  test('ignores other namespaces, selectors, fields and negated policies', () => {
    const others = [
      { ...allow, policy: policy({ namespace: 'other' }) },
      { ...allow, policy: policy({ selector: { istio: 'other' } }) },
      { ...allow, policy: policy({ field: ClientIpField.REMOTE_IP_BLOCKS }) },
      { ...allow, policy: policy({ negated: true }) },
    ];
    expect(checkAllowDenyConflicts(deny, others)).toEqual({ errors: [], warnings: [] });
  });

  test('treats selectors with the same labels in another order as the same target', () => {
    const d = { ...deny, policy: policy({ action: PolicyAction.DENY, selector: { a: '1', b: '2' } }) };
    const a = { ...allow, policy: policy({ selector: { b: '2', a: '1' } }) };
    expect(checkAllowDenyConflicts(d, [a]).errors).toHaveLength(1);
  });
});
