import { ApiObject, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  CdnOnlyPolicy, CidrList, CidrListPolicy, ClientIpField, InterceptionMode, MeshWorkload, PolicyAction, ProxyProtocolBackend,
  ProxyProtocolListenerFilter, SourceIpPolicy, TproxyWorkload, WorkloadSource, XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { manifestsOfKind, synthAndValidate } from '../harness';
import { FakeGateway, FakeWorkload } from '../policy/fake-targets';

/*
 * Issue 25: no policy, filter or workload selects more than the construct's pods by accident. An empty selector
 * makes Istio apply an AuthorizationPolicy or EnvoyFilter to every workload of its namespace; only an explicit
 * scope (XffFilterScope.NAMESPACE or MESH) writes a namespace-wide object.
 */

/** A Deployment as a plain ApiObject, with or without pod labels. */
function plainDeployment(scope: any, labels?: { [key: string]: string }): ApiObject {
  return new ApiObject(scope, 'Dep', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'httpbin' },
    spec: {
      ...(labels ? { selector: { matchLabels: labels } } : {}),
      template: {
        ...(labels ? { metadata: { labels } } : {}),
        spec: { containers: [{ name: 'httpbin', image: 'docker.io/citizenstig/httpbin' }] },
      },
    },
  });
}

describe('empty selectors are refused', () => {
  test('fails a TproxyWorkload over a plain ApiObject Deployment whose pod template has no labels (the issue\'s repro)', () => {
    // GIVEN
    const chart = Testing.chart();
    const dep = plainDeployment(chart);
    // WHEN / THEN the workload is refused before allowFrom could write `selector: {matchLabels: {}}`
    expect(() => new TproxyWorkload(chart, 'W', { source: WorkloadSource.fromWorkload(dep) }))
      .toThrow(/^source "Deployment httpbin" selects its pods with selector \{\}, which is not allowed: .* every workload in namespace "default".*spec\.template\.metadata\.labels/);
  });

  test('fails the same over WorkloadSource.fromApiObject', () => {
    const chart = Testing.chart();
    const dep = plainDeployment(chart);
    expect(() => new TproxyWorkload(chart, 'W', { source: WorkloadSource.fromApiObject(dep) })).toThrow(/selects its pods with selector \{\}/);
  });

  test('a cdk8s-plus Deployment with select false still selects only its own pods (cdk8s-plus labels every pod template)', () => {
    // GIVEN
    const chart = Testing.chart();
    const dep = new kplus.Deployment(chart, 'D', { select: false, containers: [{ image: 'httpbin', securityContext: { ensureNonRoot: false } }] });
    // WHEN
    new TproxyWorkload(chart, 'W', { source: WorkloadSource.fromWorkload(dep), interceptionMode: InterceptionMode.REDIRECT }).allowFrom(['203.0.113.0/24']);
    // THEN
    const [policy] = manifestsOfKind(Testing.synth(chart), 'AuthorizationPolicy');
    expect(Object.keys(policy.spec.selector.matchLabels)).toEqual(['cdk8s.io/metadata.addr']);
  });

  test('the same Deployment with pod labels is accepted, and allowFrom selects exactly those labels', () => {
    // GIVEN
    const chart = Testing.chart();
    const dep = plainDeployment(chart, { app: 'httpbin' });
    // WHEN
    const workload = new TproxyWorkload(chart, 'W', { source: WorkloadSource.fromWorkload(dep), interceptionMode: InterceptionMode.REDIRECT });
    workload.allowFrom(['203.0.113.0/24']);
    // THEN
    const [policy] = manifestsOfKind(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(policy.spec.selector).toEqual({ matchLabels: { app: 'httpbin' } });
  });

  test('fails a SourceIpPolicy, CidrListPolicy and CdnOnlyPolicy on a target whose selector is empty', () => {
    // GIVEN targets of the user's own making, with empty selectors
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'Workload', { selector: {} });
    const gateway = new FakeGateway(chart, 'Gateway', { selector: {} });
    // WHEN / THEN
    expect(() => new SourceIpPolicy(chart, 'Allow', { target: workload, cidrs: ['203.0.113.0/24'] }))
      .toThrow(/^target "test\/Workload" selects its pods with selector \{\}, which is not allowed: an ALLOW AuthorizationPolicy/);
    expect(() => new SourceIpPolicy(chart, 'Deny', { target: workload, cidrs: ['203.0.113.0/24'], action: PolicyAction.DENY }))
      .toThrow(/a DENY AuthorizationPolicy/);
    expect(() => new CidrListPolicy(chart, 'List', { target: workload, list: CidrList.fromCidrs(['203.0.113.0/24']) }))
      .toThrow(/selects its pods with selector \{\}/);
    expect(() => new CdnOnlyPolicy(chart, 'Cdn', { gateway, cdnCidrs: CidrList.fromCidrs(['198.51.100.0/24']) }))
      .toThrow(/selects its pods with selector \{\}/);
  });

  test('fails at synthesis when the target loses its labels after the policy was created', () => {
    // GIVEN
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'Workload');
    new SourceIpPolicy(chart, 'Allow', { target: workload, cidrs: ['203.0.113.0/24'], field: ClientIpField.IP_BLOCKS });
    // WHEN
    workload.model = { ...workload.model, selector: {} };
    // THEN
    expect(() => Testing.synth(chart)).toThrow(/selects its pods with selector \{\}, which is not allowed/);
  });

  test('fails EnvoyFilters with an empty selector unless a namespace or mesh scope is asked for', () => {
    const chart = Testing.chart();
    expect(() => new ProxyProtocolListenerFilter(chart, 'F', { namespace: 'default', selector: {}, ports: [8080] })).toThrow(/^selector is empty/);
    expect(() => new ProxyProtocolBackend(chart, 'B', { host: 'tcp-echo', port: 9000, selector: {} })).toThrow(/^selector is empty/);
    expect(() => new XffSidecarFilter(chart, 'X', { namespace: 'default', selector: {}, trust: XffTrust.trustedHops(1) })).toThrow(/^selector \{\} is not allowed/);
    // An explicit scope is the only way to a namespace-wide filter.
    const filter = new XffSidecarFilter(chart, 'Y', { namespace: 'default', scope: XffFilterScope.NAMESPACE, trust: XffTrust.trustedHops(1) });
    expect(filter.scope).toBe(XffFilterScope.NAMESPACE);
  });

  test('MeshWorkload and its policies keep the given labels', () => {
    const chart = Testing.chart();
    expect(() => MeshWorkload.fromLabels(chart, 'M', { labels: {} })).toThrow(/^labels is empty/);
  });
});
