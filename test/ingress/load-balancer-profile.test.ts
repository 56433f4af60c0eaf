import { Testing } from 'cdk8s';
import { LoadBalancerProfile, PreservedIngressGateway } from '../../src';
import { findManifest, synthAndValidate } from '../harness';

describe('LoadBalancerProfile', () => {
  test('presets have stable, unique kebab-case ids', () => {
    const ids = LoadBalancerProfile.all().map(p => p.id);
    expect(ids).toEqual([
      'generic', 'aws-nlb-instance', 'aws-nlb-ip', 'aws-nlb-in-tree', 'aws-clb', 'gke', 'aks',
      'alibaba-clb', 'alibaba-nlb', 'tencent-clb', 'tencent-clb-direct-access', 'huawei-elb',
    ]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('only ip targets and direct access keep the client IP without Local; the CLB never keeps it', () => {
    const withoutLocal = LoadBalancerProfile.all().filter(p => !p.requiresLocalTrafficPolicy).map(p => p.id);
    expect(withoutLocal).toEqual(['aws-nlb-ip', 'aws-clb', 'tencent-clb-direct-access']);
    expect(LoadBalancerProfile.all().filter(p => p.preservesSourceWithoutLocal).map(p => p.id)).toEqual(['aws-nlb-ip', 'tencent-clb-direct-access']);
    expect(LoadBalancerProfile.all().filter(p => !p.keepsClientAddress).map(p => p.id)).toEqual(['aws-clb']);
  });

  test('AWS NLB ip targets turn on client IP preservation, which is off by default for ip targets', () => {
    expect(LoadBalancerProfile.AWS_NLB_IP.serviceAnnotations).toEqual({
      'service.beta.kubernetes.io/aws-load-balancer-type': 'external',
      'service.beta.kubernetes.io/aws-load-balancer-nlb-target-type': 'ip',
      'service.beta.kubernetes.io/aws-load-balancer-scheme': 'internet-facing',
      'service.beta.kubernetes.io/aws-load-balancer-target-group-attributes': 'preserve_client_ip.enabled=true',
    });
    expect(LoadBalancerProfile.AWS_NLB_IN_TREE.serviceAnnotations).toEqual({ 'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb' });
    expect(LoadBalancerProfile.TENCENT_CLB_DIRECT_ACCESS.serviceAnnotations).toEqual({ 'service.cloud.tencent.com/direct-access': 'true' });
    expect(LoadBalancerProfile.ALIBABA_NLB.loadBalancerClass).toBe('alibabacloud.com/nlb');
  });

  test('serviceAnnotations is a copy', () => {
    const a = LoadBalancerProfile.AWS_NLB_IP.serviceAnnotations;
    a['service.beta.kubernetes.io/aws-load-balancer-type'] = 'nlb';
    expect(LoadBalancerProfile.AWS_NLB_IP.serviceAnnotations['service.beta.kubernetes.io/aws-load-balancer-type']).toBe('external');
  });

  test('every preset that keeps the client IP renders a valid gateway Service', () => {
    for (const profile of LoadBalancerProfile.all().filter(p => p.keepsClientAddress)) {
      // GIVEN
      const chart = Testing.chart();
      const gw = new PreservedIngressGateway(chart, 'Gateway', { loadBalancerProfile: profile });
      // WHEN
      gw.addHttpServer();
      // THEN
      const service = findManifest(synthAndValidate(chart), 'Service');
      expect(service.metadata.annotations ?? {}).toEqual(profile.serviceAnnotations);
      expect(service.spec.externalTrafficPolicy).toBe('Local');
      expect(gw._gatewayModel()!.loadBalancerPreservesSource).toBe(profile.preservesSourceWithoutLocal);
    }
  });

  test('custom profiles', () => {
    const p = LoadBalancerProfile.custom({ id: 'metallb-l2', serviceAnnotations: { 'metallb.universe.tf/address-pool': 'public' } });
    expect(p.id).toBe('metallb-l2');
    expect(p.requiresLocalTrafficPolicy).toBe(true);
    expect(p.keepsClientAddress).toBe(true);
    expect(p.description).toBe('metallb-l2');
    expect(p.serviceAnnotations).toEqual({ 'metallb.universe.tf/address-pool': 'public' });
  });

  test('fails for a custom id that is not kebab-case or is taken by a preset', () => {
    expect(() => LoadBalancerProfile.custom({ id: 'My LB' })).toThrow(/^loadBalancerProfile id "My LB" is not allowed: use kebab-case/);
    expect(() => LoadBalancerProfile.custom({ id: 'aws-nlb-ip' })).toThrow(/^loadBalancerProfile id "aws-nlb-ip" is taken by a preset: use LoadBalancerProfile.AWS_NLB_IP/);
  });
});
