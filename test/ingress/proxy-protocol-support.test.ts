import { HealthCheckFix, LoadBalancerProfile, ProxyProtocolSupport, ProxyProtocolVersion } from '../../src';

const AWS_PP = 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol';
const ALIBABA_PP = 'service.beta.kubernetes.io/alibaba-cloud-loadbalancer-proxy-protocol';

describe('ProxyProtocolSupport.forProfile', () => {
  test('knows every preset', () => {
    // GIVEN every preset
    // WHEN the support of each is looked up
    const table = LoadBalancerProfile.all().map(p => {
      const s = ProxyProtocolSupport.forProfile(p);
      return { id: p.id, versions: s.versions, annotations: s.serviceAnnotations, healthCheck: s.healthCheckFix, manual: s.manualStep !== undefined };
    });
    // THEN it matches the reviewed facts
    expect(table).toMatchSnapshot();
  });

  test('AWS Load Balancer Controller NLBs send v2 with proxy-protocol "*"', () => {
    for (const profile of [LoadBalancerProfile.AWS_NLB_IP, LoadBalancerProfile.AWS_NLB_INSTANCE]) {
      const s = ProxyProtocolSupport.forProfile(profile);
      expect(s.versions).toEqual([ProxyProtocolVersion.V2]);
      expect(s.serviceAnnotations).toEqual({ [AWS_PP]: '*' });
      expect(s.healthCheckAnnotations).toEqual({
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol': 'tcp',
        'service.beta.kubernetes.io/aws-load-balancer-healthcheck-port': 'traffic-port',
      });
    }
    expect(ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_NLB_IP).healthCheckFix).toBe(HealthCheckFix.STATUS_PORT_OR_TCP_CHECK);
    // instance targets with Local are checked on kube-proxy's healthCheckNodePort, which never speaks PROXY
    expect(ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_NLB_INSTANCE).healthCheckFix).toBe(HealthCheckFix.TCP_CHECK);
  });

  test('the AWS Classic Load Balancer sends v1 only', () => {
    const s = ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_CLB);
    expect(s.versions).toEqual([ProxyProtocolVersion.V1]);
    expect(s.serviceAnnotations).toEqual({ [AWS_PP]: '*' });
  });

  test('Alibaba CLB and NLB send v2 with the "on" annotation and carry a live-switch caveat', () => {
    for (const profile of [LoadBalancerProfile.ALIBABA_CLB, LoadBalancerProfile.ALIBABA_NLB]) {
      const s = ProxyProtocolSupport.forProfile(profile);
      expect(s.versions).toEqual([ProxyProtocolVersion.V2]);
      expect(s.serviceAnnotations).toEqual({ [ALIBABA_PP]: 'on' });
      expect(s.caveat).toMatch(/live listener/);
    }
  });

  test('Tencent CLB sends v2 only and is switched on by hand', () => {
    for (const profile of [LoadBalancerProfile.TENCENT_CLB, LoadBalancerProfile.TENCENT_CLB_DIRECT_ACCESS]) {
      const s = ProxyProtocolSupport.forProfile(profile);
      expect(s.versions).toEqual([ProxyProtocolVersion.V2]);
      expect(s.serviceAnnotations).toEqual({});
      expect(s.manualStep).toMatch(/CLB layer-4 listeners/);
    }
  });

  test('a custom profile is treated as an unknown load balancer', () => {
    const s = ProxyProtocolSupport.forProfile(LoadBalancerProfile.custom({ id: 'metallb-l2' }));
    expect(s.profileId).toBe('metallb-l2');
    expect(s.versions).toEqual([ProxyProtocolVersion.V1, ProxyProtocolVersion.V2]);
    expect(s.manualStep).toBeDefined();
    expect(s.healthCheckFix).toBe(HealthCheckFix.UNKNOWN);
  });

  test('getters return copies', () => {
    const s = ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_NLB_IP);
    s.serviceAnnotations.x = 'y';
    expect(s.serviceAnnotations).toEqual({ [AWS_PP]: '*' });
  });
});

describe('ProxyProtocolSupport.check', () => {
  test('passes a capable profile with a version it sends, or none', () => {
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_NLB_IP).check('loadBalancerProfile', ProxyProtocolVersion.V2)).not.toThrow();
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.GENERIC).check('loadBalancerProfile')).not.toThrow();
  });

  test('fails the in-tree AWS NLB, which silently ignores the annotation', () => {
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_NLB_IN_TREE).check('loadBalancerProfile'))
      .toThrow(/loadBalancerProfile "aws-nlb-in-tree" cannot send PROXY protocol: .*cloud-provider-aws#234.*AWS_NLB_IP/);
  });

  test('fails GKE and AKS', () => {
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.GKE).check('loadBalancerProfile'))
      .toThrow(/"gke" cannot send PROXY protocol: Google Cloud passthrough/);
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.AKS).check('loadBalancerProfile'))
      .toThrow(/"aks" cannot send PROXY protocol: the Azure Standard Load Balancer/);
  });

  test('fails a version the load balancer does not send', () => {
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.TENCENT_CLB).check('loadBalancerProfile', ProxyProtocolVersion.V1))
      .toThrow(/proxyProtocolVersion V1 is not sent by loadBalancerProfile "tencent-clb": it sends only V2; set proxyProtocolVersion to V2/);
    expect(() => ProxyProtocolSupport.forProfile(LoadBalancerProfile.AWS_CLB).check('loadBalancerProfile', ProxyProtocolVersion.V2))
      .toThrow(/it sends only V1/);
  });

  test('ProxyProtocolSupport.custom describes a load balancer the library has no facts for', () => {
    const s = ProxyProtocolSupport.custom('haproxy', { versions: [ProxyProtocolVersion.V1], serviceAnnotations: { a: 'b' } });
    expect(s.serviceAnnotations).toEqual({ a: 'b' });
    expect(() => s.check('loadBalancerProfile', ProxyProtocolVersion.V2)).toThrow(/sends only V1/);
    expect(() => ProxyProtocolSupport.custom('none', { versions: [] }).check('loadBalancerProfile')).toThrow(/no PROXY support/);
  });
});
