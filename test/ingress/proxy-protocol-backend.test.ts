import { Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { ISourceIpTarget, InterceptionMode, IstioVersion, ProxyProtocolBackend, ProxyProtocolVersion, ProxyRole, SidecarXffMode } from '../../src';
import { GatewayModel, WorkloadModel } from '../../src/model/model';
import { findManifest, synthAndValidate } from '../harness';

class FakeWorkload extends Construct implements ISourceIpTarget {
  public readonly targetNamespace = 'apps';
  public readonly targetSelector = { app: 'svc-b' };
  constructor(scope: Construct, id: string, public readonly targetRole: ProxyRole, private readonly mode = InterceptionMode.TPROXY) {
    super(scope, id);
  }
  public _gatewayModel(): GatewayModel | undefined { return undefined; }
  public _workloadModel(): WorkloadModel | undefined {
    return { name: 'svc-b', namespace: 'apps', selector: { app: 'svc-b' }, role: this.targetRole, interceptionMode: this.mode, xffMode: SidecarXffMode.DEFAULT };
  }
}

describe('ProxyProtocolBackend', () => {
  for (const istioVersion of IstioVersion.all()) {
    test(`DestinationRule V2 by default and the inbound filter, valid for Istio ${istioVersion.label}`, () => {
      // GIVEN
      const chart = Testing.chart();
      // WHEN
      const backend = new ProxyProtocolBackend(chart, 'B', { host: 'tcp-echo', namespace: 'apps', selector: { app: 'tcp-echo' }, port: 9000, targetPort: 9001, istioVersion });
      // THEN
      const manifests = synthAndValidate(chart, { istioVersion });
      expect(findManifest(manifests, 'DestinationRule').spec).toEqual({ host: 'tcp-echo.apps.svc.cluster.local', trafficPolicy: { proxyProtocol: { version: 'V2' } } });
      expect(findManifest(manifests, 'EnvoyFilter').spec.configPatches[0].match).toEqual({ context: 'SIDECAR_INBOUND', listener: { portNumber: 15006 } });
      expect(backend._workloadModel()).toEqual({
        name: 'tcp-echo',
        namespace: 'apps',
        selector: { app: 'tcp-echo' },
        role: ProxyRole.SIDECAR,
        interceptionMode: InterceptionMode.REDIRECT,
        xffMode: SidecarXffMode.DEFAULT,
        // The inbound filter sits on the sidecar's one inbound listener, so every pod port accepts PROXY.
        proxyProtocolPorts: [],
        proxyProtocolOnEveryPort: true,
      });
      expect(backend._gatewayModel()).toBeUndefined();
    });
  }

  test('takes namespace, selector and interception mode from a workload construct (TPROXY, as in the IstioCon talk)', () => {
    // GIVEN
    const chart = Testing.chart();
    const workload = new FakeWorkload(chart, 'W', ProxyRole.SIDECAR);
    // WHEN
    const backend = new ProxyProtocolBackend(chart, 'B', { host: 'svc-b.apps.svc.cluster.local', workload, port: 9000, version: ProxyProtocolVersion.V1, allowRequestsWithoutProxyProtocol: true });
    // THEN
    const manifests = synthAndValidate(chart);
    expect(backend.targetNamespace).toBe('apps');
    expect(backend._workloadModel()!.interceptionMode).toBe(InterceptionMode.TPROXY);
    expect(findManifest(manifests, 'DestinationRule').spec.trafficPolicy.proxyProtocol.version).toBe('V1');
    expect(findManifest(manifests, 'EnvoyFilter').spec.configPatches[0].patch.value.typed_config.allow_requests_without_proxy_protocol).toBe(true);
  });

  test('warns when the workload has no inbound interception', () => {
    const chart = Testing.chart();
    const backend = new ProxyProtocolBackend(chart, 'B', { host: 'svc-b', workload: new FakeWorkload(chart, 'W', ProxyRole.SIDECAR, InterceptionMode.NONE), port: 9000 });
    expect(backend.node.metadata.map(m => m.data).join('\n')).toMatch(/interceptionMode NONE: no inbound listener strips the PROXY header/);
  });

  test('fails an ambient workload (ztunnel has no listener filters)', () => {
    const chart = Testing.chart();
    expect(() => new ProxyProtocolBackend(chart, 'B', { host: 'svc-b', workload: new FakeWorkload(chart, 'W', ProxyRole.AMBIENT), port: 9000 }))
      .toThrow(/is an ambient workload: ztunnel has no listener filters/);
  });

  test('fails a gateway as the workload', () => {
    const chart = Testing.chart();
    expect(() => new ProxyProtocolBackend(chart, 'B', { host: 'svc-b', workload: new FakeWorkload(chart, 'W', ProxyRole.GATEWAY), port: 9000 }))
      .toThrow(/is a gateway: .*ProxyProtocolGateway/);
  });

  test('fails without selector or workload, with a wildcard host, a bad port, or a contradicting namespace', () => {
    const chart = Testing.chart();
    expect(() => new ProxyProtocolBackend(chart, 'A', { host: 'svc-b', port: 9000 })).toThrow(/selector is missing/);
    expect(() => new ProxyProtocolBackend(chart, 'B', { host: '*.apps.svc.cluster.local', selector: { app: 'a' }, port: 9000 })).toThrow(/host "\*.apps.svc.cluster.local" is not allowed/);
    expect(() => new ProxyProtocolBackend(chart, 'C', { host: 'svc-b', selector: { app: 'a' }, port: 0 })).toThrow(/port 0 is not a valid port/);
    expect(() => new ProxyProtocolBackend(chart, 'D', { host: 'svc-b', namespace: 'other', workload: new FakeWorkload(chart, 'W', ProxyRole.SIDECAR), port: 9000 }))
      .toThrow(/namespace "other" contradicts workload namespace "apps"/);
  });
});
