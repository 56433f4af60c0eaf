import { Testing } from 'cdk8s';
import { ISTIO_VERSION_CONTEXT_KEY, IstioVersion, PreservedIngressGateway } from '../../src';

describe('IstioVersion', () => {
  test('parses minor and patch releases to the same instance', () => {
    expect(IstioVersion.of('1.27')).toBe(IstioVersion.V1_27);
    expect(IstioVersion.of('1.27.3')).toBe(IstioVersion.V1_27);
    expect(IstioVersion.of('1.31.0-rc.0')).toBe(IstioVersion.V1_31);
    expect(IstioVersion.of('1.32.0')).toBe(IstioVersion.V1_32);
    expect(IstioVersion.all().map(v => v.label)).toEqual(['1.24', '1.25', '1.26', '1.27', '1.28', '1.29', '1.30', '1.31', '1.32']);
    expect(IstioVersion.LATEST).toBe(IstioVersion.V1_32);
  });

  test.each(['1.23', '1.33', '2.0', 'latest', ''])('fails on unsupported release %p', v => {
    expect(() => IstioVersion.of(v)).toThrow(/istioVersion ".*" is not supported: use a release from 1\.24 to 1\.32/);
  });

  test('gates features by release', () => {
    expect(IstioVersion.V1_26.supportsStatusPortProxyProtocol).toBe(false);
    expect(IstioVersion.V1_27.supportsStatusPortProxyProtocol).toBe(true);
    expect(IstioVersion.V1_28.supportsWaypointContext).toBe(false);
    expect(IstioVersion.V1_29.supportsWaypointContext).toBe(true);
    expect(IstioVersion.V1_30.supportsMergeAndReplaceList).toBe(false);
    expect(IstioVersion.V1_24.noInternalAddressesByDefault).toBe(false);
    expect(IstioVersion.V1_25.noInternalAddressesByDefault).toBe(true);
    expect(IstioVersion.V1_30.gatewayApiTcpWithoutAlphaFlag).toBe(false);
    expect(IstioVersion.V1_31.gatewayApiTcpWithoutAlphaFlag).toBe(true);
    expect(IstioVersion.all().filter(v => v.supportedUpstream).map(v => v.label)).toEqual(['1.30', '1.31', '1.32']);
  });

  test('a construct without istioVersion takes the context value, else the newest', () => {
    // GIVEN one app with the context set, one without
    const withContext = Testing.chart();
    withContext.node.setContext(ISTIO_VERSION_CONTEXT_KEY, '1.26');
    const plain = Testing.chart();
    // WHEN
    const a = new PreservedIngressGateway(withContext, 'Gw');
    const b = new PreservedIngressGateway(plain, 'Gw');
    const c = new PreservedIngressGateway(plain, 'Pinned', { name: 'pinned', istioVersion: IstioVersion.V1_24 });
    // THEN
    expect(a.istioVersion).toBe(IstioVersion.V1_26);
    expect(b.istioVersion).toBe(IstioVersion.LATEST);
    expect(c.istioVersion).toBe(IstioVersion.V1_24);
  });

  test('fails on a bad context value, naming it', () => {
    const chart = Testing.chart();
    chart.node.setContext(ISTIO_VERSION_CONTEXT_KEY, '1.9');
    expect(() => new PreservedIngressGateway(chart, 'Gw')).toThrow(/istioVersion "1.9" is not supported/);
  });
});
