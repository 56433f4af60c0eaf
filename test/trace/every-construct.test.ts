import { ApiObject, Chart, Duration, Testing } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import * as lib from '../../src';
import {
  AmbientNamespace, AmbientWorkload, CdnOnlyPolicy, ClientAddressAccessLog, GatewayFlavour,
  CidrList, CidrListPolicy, MeshWorkload, PreservedIngressGateway, ProxyProtocolBackend,
  ProxyProtocolFilterContext, ProxyProtocolGateway, ProxyProtocolListenerFilter, SourceIpPolicy, TproxyWorkload, TrustChain, TrustHop, Waypoint,
  WorkloadSource, XffSidecarFilter, XffTrust, PolicyAction,
} from '../../src';
import { Topology } from '../../src/model/topology';

/*
 * Every construct the package exports either joins the model and the trace itself, or renders nothing that changes a
 * proxy except through constructs that do. A new exported construct without a row here fails the first test; one
 * that renders a proxy-changing object outside the model fails the second.
 */

/** Kinds whose objects change what a proxy does with the client address (or which proxy there is). */
const PROXY_CHANGING = new Set(['EnvoyFilter', 'AuthorizationPolicy', 'DestinationRule', 'Gateway', 'Sidecar', 'PeerAuthentication',
  'Telemetry', 'VirtualService', 'HTTPRoute', 'TCPRoute', 'TLSRoute', 'Namespace', 'Deployment', 'Service', 'ConfigMap']);

const gatewayIn = (chart: Chart) => {
  const gw = new PreservedIngressGateway(chart, 'Gw', { trustChain: TrustChain.of(TrustHop.cdn({ name: 'cdn', cidrs: ['198.51.100.0/24'], clientHeader: 'CF-Connecting-IP' })) });
  gw.addHttpServer();
  return gw;
};
const deployment = () => WorkloadSource.newDeployment({ image: 'example/app', name: 'app', namespace: 'web', port: 8080, labels: { app: 'app' } });

/** A minimal, valid instance of each exported construct, made in `chart`. */
const FACTORIES: { [name: string]: (chart: Chart) => IConstruct } = {
  PreservedIngressGateway: c => gatewayIn(c),
  ProxyProtocolGateway: c => { const g = new ProxyProtocolGateway(c, 'Pp'); g.addTcpServer({ port: 5432 }); return g; },
  ProxyProtocolBackend: c => new ProxyProtocolBackend(c, 'Backend', { host: 'db', namespace: 'web', selector: { app: 'db' }, port: 5432 }),
  ProxyProtocolListenerFilter: c => new ProxyProtocolListenerFilter(c, 'Filter', { namespace: 'web', selector: { app: 'app' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND }),
  TproxyWorkload: c => new TproxyWorkload(c, 'Tproxy', { source: deployment() }),
  MeshWorkload: c => MeshWorkload.fromLabels(c, 'Mesh', { name: 'app', namespace: 'web', labels: { app: 'app' } }),
  XffSidecarFilter: c => new XffSidecarFilter(c, 'Xff', { selector: { app: 'app' }, namespace: 'web', trust: XffTrust.trustedHops(1) }),
  SourceIpPolicy: c => new SourceIpPolicy(c, 'Policy', { target: MeshWorkload.fromLabels(c, 'Target', { name: 'app', namespace: 'web', labels: { app: 'app' } }), cidrs: ['10.0.0.0/8'], action: PolicyAction.ALLOW }),
  CdnOnlyPolicy: c => new CdnOnlyPolicy(c, 'CdnOnly', { gateway: gatewayIn(c) }),
  CidrListPolicy: c => new CidrListPolicy(c, 'List', { target: gatewayIn(c), list: CidrList.fromCidrs(['203.0.113.0/24'], { name: 'office' }), action: PolicyAction.ALLOW }),
  Waypoint: c => new Waypoint(c, 'Waypoint', { namespace: 'web' }),
  AmbientNamespace: c => new AmbientNamespace(c, 'Ns', { name: 'web' }),
  AmbientWorkload: c => AmbientWorkload.fromLabels(c, 'Ambient', { name: 'app', namespace: 'web', labels: { app: 'app' } }),
  // Renders nothing: its policies attach to the waypoint, which is in the model.
  // Made by a gateway or workload (clientAddressHeader()), which is in the model with the header.
  ClientAddressHeader: c => {
    const gw = new PreservedIngressGateway(c, 'Api', { flavour: GatewayFlavour.GATEWAY_API });
    gw.addHttpServer();
    return gw.clientAddressHeader();
  },
  ClientAddressAccessLog: c => new ClientAddressAccessLog(c, 'Log', { targets: [gatewayIn(c)] }),
  WaypointServiceTarget: c => {
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'web' });
    waypoint.forService('httpbin').allowFrom(['10.0.0.0/8']);
    return waypoint;
  },
};

/**
 * Constructs that render only objects which change what a proxy logs, never which address it resolves or forwards:
 * each with the kinds it may render.
 */
const NOT_ADDRESS_CHANGING: { [name: string]: string[] } = {
  ClientAddressAccessLog: ['Telemetry'],
};

function exportedConstructs(): string[] {
  return Object.entries(lib).filter(([, v]) => typeof v === 'function' && v.prototype instanceof Construct).map(([k]) => k).sort();
}

describe('every exported construct joins the model and the trace', () => {
  test('each exported construct has a row', () => {
    expect(exportedConstructs()).toEqual(Object.keys(FACTORIES).sort());
  });

  test.each(Object.keys(FACTORIES))('%s: every proxy-changing object it renders belongs to a construct in the model', name => {
    // GIVEN a minimal instance in a chart of its own app
    const chart = Testing.chart();
    const construct = FACTORIES[name](chart);
    const topology = Topology.of(chart);
    // WHEN we look at every object it renders
    const objects = construct.node.findAll().filter(ApiObject.isApiObject).filter(o => PROXY_CHANGING.has(o.kind));
    const logsOnly = NOT_ADDRESS_CHANGING[name];
    if (logsOnly) {
      // THEN it renders only the kinds that change what proxies log (its targets are in the model themselves)
      expect(objects.length).toBeGreaterThan(0);
      expect([...new Set(objects.map(o => o.kind))]).toEqual(logsOnly);
      return;
    }
    // THEN each has an ancestor (or is under a construct) that registered in the topology
    const outside = objects.filter(o => !o.node.scopes.some(s => topology.isMember(s)));
    expect(outside.map(o => `${o.kind} ${o.node.path}`)).toEqual([]);
    // and the construct itself, what it made, or the member that made it is in the model
    expect(construct.node.findAll().some(c => topology.isMember(c)) || construct.node.scopes.some(s => topology.isMember(s))).toBe(true);
  });

  test.each([
    ['PreservedIngressGateway', (c: Chart) => FACTORIES.PreservedIngressGateway(c) as PreservedIngressGateway],
    ['ProxyProtocolGateway', (c: Chart) => FACTORIES.ProxyProtocolGateway(c) as ProxyProtocolGateway],
    ['TproxyWorkload', (c: Chart) => FACTORIES.TproxyWorkload(c) as TproxyWorkload],
    ['MeshWorkload', (c: Chart) => FACTORIES.MeshWorkload(c) as MeshWorkload],
  ])('%s.rateLimitPerClient(): the EnvoyFilter is a rate limit in the model', (_name, make) => {
    // GIVEN the construct in a chart of its own app
    const chart = Testing.chart();
    const construct = make(chart);
    // WHEN it limits each client
    const filter = construct.rateLimitPerClient({ requests: 1, per: Duration.seconds(1) });
    // THEN the EnvoyFilter's parent registered as a rate limit, and the trace model holds it
    const topology = Topology.of(chart);
    expect(topology.rateLimits.map(r => r.node.path)).toEqual([filter.node.scope!.node.path]);
    expect(topology.rateLimits[0]._rateLimitModel().name).toBe(filter.name);
  });
});
