import { ApiObject, Chart, Testing } from 'cdk8s';
import { InterceptionMode, TproxyWorkload, WorkloadSource, XffFilterScope, XffSidecarFilter, XffTrust } from '../../src';
import { parseManifests } from '../../src/explain/manifest-parser';
import { WorkloadModel } from '../../src/model/model';
import { synthAndValidate } from '../harness';

/** The fields `explain` must read back exactly as the construct modelled them. */
function essentials(model: WorkloadModel): object {
  return {
    name: model.name,
    namespace: model.namespace,
    role: model.role,
    interceptionMode: model.interceptionMode,
    xffMode: model.xffMode,
    xffTrustedHops: model.xffTrustedHops,
    xffTrustedCidrs: model.xffTrustedCidrs,
    xffPorts: model.xffPorts ?? [],
  };
}

function httpbin(chart: Chart, mode: InterceptionMode): TproxyWorkload {
  const deployment = new ApiObject(chart, 'Httpbin', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'httpbin', namespace: 'default' },
    spec: {
      selector: { matchLabels: { app: 'httpbin' } },
      template: { metadata: { labels: { app: 'httpbin', version: 'v1' } }, spec: { containers: [{ name: 'httpbin', image: 'docker.io/citizenstig/httpbin' }] } },
    },
  });
  return new TproxyWorkload(chart, 'Mode', { source: WorkloadSource.fromApiObject(deployment), interceptionMode: mode });
}

describe('render then parse (explain) gives the same workload model', () => {
  test.each([
    ['TPROXY, no filter', InterceptionMode.TPROXY, undefined, undefined],
    ['REDIRECT, use_remote_address on port 8000', InterceptionMode.REDIRECT, () => XffTrust.useRemoteAddress(), 8000],
    ['TPROXY, trusted hops 2', InterceptionMode.TPROXY, () => XffTrust.trustedHops(2), undefined],
    ['NONE, trusted CIDRs on port 8000', InterceptionMode.NONE, () => XffTrust.trustedCidrs(['10.32.0.0/14', 'fc00::/7']), 8000],
  ])('%s', (_name, mode, trust, portNumber) => {
    // GIVEN
    const chart = Testing.chart();
    const workload = httpbin(chart, mode);
    if (trust) new XffSidecarFilter(chart, 'Xff', { workload, trust: trust(), portNumber });
    // WHEN
    const parsed = parseManifests(synthAndValidate(chart));
    // THEN
    expect(parsed.workloads).toHaveLength(1);
    expect(essentials(parsed.workloads[0])).toEqual(essentials(workload._workloadModel()!));
  });

  test('a mesh-wide filter in istio-system is read back for a workload in another namespace', () => {
    const chart = Testing.chart();
    const workload = httpbin(chart, InterceptionMode.TPROXY);
    new XffSidecarFilter(chart, 'Mesh', { scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress() });
    const parsed = parseManifests(synthAndValidate(chart));
    expect(essentials(parsed.workloads[0])).toEqual(essentials(workload._workloadModel()!));
  });
});
