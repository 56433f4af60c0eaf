import * as fs from 'fs';
import * as path from 'path';
import { ApiObject, App, Chart, Duration } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import {
  CdnOnlyPolicy, CidrList, CidrListPolicy,
  ClientAddressResolver, Explainer, ExternalTrafficPolicy, HttpsMode, IstioVersion, LoadBalancerProfile, MeshWorkload, PolicyAction,
  PreservedIngressGateway, ProxyProtocolBackend, ProxyProtocolFilterContext, ProxyProtocolGateway, ProxyProtocolListenerFilter,
  ProxyProtocolMode, ProxyProtocolSupport, ProxyProtocolVersion, SourceIpPolicy, TproxyWorkload, TrustChain, TrustHop, WorkloadSource,
  XffFilterScope, XffSidecarFilter, XffTrust, InterceptionMode, ClientIpField, AmbientNamespace, AmbientWorkload, Waypoint, WaypointFor,
  GatewayFlavour, HealthCheckFix, ClientAddressAccessLog, AccessLogScope,
} from '../../src';
import { validateManifest } from '../harness';
import { newChart } from '../property/arbitraries';

/*
 * The catalogue of rejected inputs: each entry is a class of bad input, the action that supplies it, and the
 * message it must be rejected with (at construction, at synthesis, or by the validation harness). The test
 * checks every entry, renders docs/rejected-inputs.md from the messages actually raised, and fails when the
 * committed file differs. Regenerate it with UPDATE_REJECTED_INPUTS=1.
 */

const DOC = path.resolve(__dirname, '..', '..', 'docs', 'rejected-inputs.md');
const BACKEND = 'httpbin.default.svc.cluster.local';

interface Entry {
  /** The construct (or class) whose input is rejected. */
  readonly construct: string;
  /** The class of bad input, in a few words. */
  readonly inputClass: string;
  /** The props or call that supplies it. */
  readonly action: (chart: Chart) => void;
  /** What the message must say. */
  readonly expected: RegExp;
}

function httpGateway(chart: Chart, props: ConstructorParameters<typeof PreservedIngressGateway>[2] = {}): PreservedIngressGateway {
  const gw = new PreservedIngressGateway(chart, 'Gateway', props);
  gw.addHttpServer({ hosts: ['app.example.com'] });
  return gw;
}

function tcpProxyGateway(chart: Chart, props: ConstructorParameters<typeof ProxyProtocolGateway>[2] = {}): ProxyProtocolGateway {
  const gw = new ProxyProtocolGateway(chart, 'Gateway', { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP, inClusterCallers: false, ...props });
  gw.addTcpServer({ port: 9000 });
  return gw;
}

/** A workload target whose selector is empty, as a user's own ISourceIpTarget could be. */
function emptySelectorTarget(chart: Chart): MeshWorkload {
  const target = MeshWorkload.fromLabels(chart, 'Empty', { labels: { app: 'empty' } });
  Object.defineProperty(target, 'targetSelector', { value: {} });
  return target;
}

function httpbin(chart: Chart): MeshWorkload {
  return MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' }, namespace: 'apps' });
}

const ENTRIES: Entry[] = [
  // ---- PreservedIngressGateway and the shared gateway machinery
  { construct: 'PreservedIngressGateway', inputClass: 'name breaks DNS-1123 (upper case, underscore)', action: c => httpGateway(c, { name: 'Bad_Name' }), expected: /^name "Bad_Name" is not a valid DNS-1123 label/ },
  { construct: 'PreservedIngressGateway', inputClass: 'namespace longer than 63 characters', action: c => httpGateway(c, { namespace: 'n'.repeat(64) }), expected: /^namespace "n{64}" is not a valid DNS-1123 label/ },
  { construct: 'PreservedIngressGateway', inputClass: 'unicode name', action: c => httpGateway(c, { name: 'ñandú' }), expected: /^name "ñandú" is not a valid DNS-1123 label/ },
  { construct: 'PreservedIngressGateway', inputClass: 'replicas below 1', action: c => httpGateway(c, { replicas: 0 }), expected: /^replicas 0 is not allowed: use a whole number from 1 to 1000/ },
  { construct: 'PreservedIngressGateway', inputClass: 'replicas NaN', action: c => httpGateway(c, { replicas: NaN }), expected: /^replicas (NaN|null) is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'numTrustedProxies negative', action: c => httpGateway(c, { numTrustedProxies: -1 }), expected: /^numTrustedProxies -1 is not allowed: use a whole number from 0 to 64/ },
  { construct: 'PreservedIngressGateway', inputClass: 'numTrustedProxies fractional', action: c => httpGateway(c, { numTrustedProxies: 1.5 }), expected: /^numTrustedProxies 1.5 is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'numTrustedProxies Infinity', action: c => httpGateway(c, { numTrustedProxies: Infinity }), expected: /^numTrustedProxies (Infinity|null) is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'numTrustedProxies above 64', action: c => httpGateway(c, { numTrustedProxies: 65 }), expected: /^numTrustedProxies 65 is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'externalTrafficPolicy not an enum member', action: c => httpGateway(c, { externalTrafficPolicy: 'local' as ExternalTrafficPolicy }), expected: /^externalTrafficPolicy "local" is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'load balancer that proxies TCP, no XFF hop', action: c => httpGateway(c, { loadBalancerProfile: LoadBalancerProfile.AWS_CLB }), expected: /^loadBalancerProfile aws-clb cannot keep the client IP/ },
  { construct: 'PreservedIngressGateway', inputClass: 'numTrustedProxies contradicts the trust chain', action: c => httpGateway(c, { trustChain: TrustChain.of(TrustHop.cdn(), TrustHop.l4PassThrough()), numTrustedProxies: 2 }), expected: /^numTrustedProxies 2 contradicts trustChain client -> cdn -> l4-passthrough -> gateway/ },
  { construct: 'PreservedIngressGateway', inputClass: 'trust chain with a PROXY protocol hop', action: c => httpGateway(c, { trustChain: TrustChain.of(TrustHop.l4ProxyProtocol()) }), expected: /PreservedIngressGateway does not accept: use ProxyProtocolGateway/ },
  { construct: 'PreservedIngressGateway', inputClass: 'autoscaling maxReplicas below minReplicas', action: c => httpGateway(c, { replicas: 3, autoscaling: { maxReplicas: 2 } }), expected: /^autoscaling.maxReplicas 2 is not allowed: use a whole number from 3/ },
  { construct: 'PreservedIngressGateway', inputClass: 'existing installation with an empty selector', action: c => { PreservedIngressGateway.attach(c, 'Gateway', { selector: {} }).addHttpServer(); }, expected: /^existing.selector is empty/ },
  { construct: 'PreservedIngressGateway', inputClass: 'gateway without servers', action: c => { new PreservedIngressGateway(c, 'Gateway'); }, expected: /gateway "ingressgateway" has no servers/ },
  { construct: 'PreservedIngressGateway', inputClass: 'server port out of range', action: c => new PreservedIngressGateway(c, 'Gateway').addHttpServer({ port: 70000 }), expected: /^addHttpServer port 70000 is not a valid port/ },
  { construct: 'PreservedIngressGateway', inputClass: 'server on the status port 15021', action: c => new PreservedIngressGateway(c, 'Gateway').addTcpServer({ port: 15021 }), expected: /^addTcpServer port 15021 is not allowed: it is the gateway's status port/ },
  { construct: 'PreservedIngressGateway', inputClass: 'duplicate port with another protocol', action: c => httpGateway(c).addTcpServer({ port: 80 }), expected: /^addTcpServer port 80 already has a HTTP server/ },
  { construct: 'PreservedIngressGateway', inputClass: 'host both served and redirected on one port', action: c => httpGateway(c).addHttpsRedirect({ hosts: ['app.example.com'] }), expected: /already have a plain HTTP server/ },
  { construct: 'PreservedIngressGateway', inputClass: 'server host with a space', action: c => new PreservedIngressGateway(c, 'Gateway').addHttpServer({ hosts: ['bad host'] }), expected: /^hosts "bad host" is not a valid host/ },
  { construct: 'PreservedIngressGateway', inputClass: 'empty host list', action: c => new PreservedIngressGateway(c, 'Gateway').addHttpServer({ hosts: [] }), expected: /^hosts \[\] is empty/ },
  { construct: 'PreservedIngressGateway', inputClass: 'HTTPS without credentialName', action: c => new PreservedIngressGateway(c, 'Gateway').addHttpsServer({ credentialName: '', mode: HttpsMode.SIMPLE }), expected: /^addHttpsServer credentialName "" is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'route backend with a wildcard', action: c => httpGateway(c).addRoute({ backendHost: '*.svc', backendPort: 80 }), expected: /^addRoute backendHost "\*\.svc" is not allowed/ },
  { construct: 'PreservedIngressGateway', inputClass: 'route path without a leading slash', action: c => httpGateway(c).addRoute({ pathPrefix: 'api', backendHost: BACKEND, backendPort: 80 }), expected: /^addRoute pathPrefix "api" is not allowed: start it with "\/"/ },
  { construct: 'PreservedIngressGateway', inputClass: 'same host and prefix routed twice', action: c => { const g = httpGateway(c); g.addRoute({ backendHost: BACKEND, backendPort: 80 }); g.addRoute({ backendHost: BACKEND, backendPort: 81 }); }, expected: /^addRoute pathPrefix "\/" is already routed for host "\*"/ },
  {
    construct: 'PreservedIngressGateway',
    inputClass: 'route whose only server redirects to HTTPS',
    action: c => {
      const gw = new PreservedIngressGateway(c, 'Gateway');
      gw.addHttpsRedirect();
      gw.addRoute({ backendHost: BACKEND, backendPort: 80 });
    },
    expected: /addRoute host "\*" has no HTTP or HTTPS server on gateway "ingressgateway" that accepts it/,
  },
  { construct: 'PreservedIngressGateway', inputClass: 'route to a host no server accepts', action: c => httpGateway(c).addRoute({ host: 'other.example.com', backendHost: BACKEND, backendPort: 80 }), expected: /addRoute host "other.example.com" has no HTTP or HTTPS server/ },
  { construct: 'PreservedIngressGateway', inputClass: 'TCP route without a TCP server', action: c => httpGateway(c).addTcpRoute({ port: 3306, backendHost: BACKEND, backendPort: 3306 }), expected: /addTcpRoute port 3306 has no TCP server/ },
  { construct: 'PreservedIngressGateway', inputClass: 'TLS passthrough server without SNI hosts', action: c => new PreservedIngressGateway(c, 'Gateway').addTlsPassthroughServer({ hosts: [] }), expected: /^addTlsPassthroughServer hosts is empty/ },
  // ---- LoadBalancerProfile and ProxyProtocolSupport
  { construct: 'LoadBalancerProfile', inputClass: 'custom id not kebab-case', action: () => LoadBalancerProfile.custom({ id: 'My LB' }), expected: /^loadBalancerProfile id "My LB" is not allowed/ },
  { construct: 'LoadBalancerProfile', inputClass: 'custom id taken by a preset', action: () => LoadBalancerProfile.custom({ id: 'gke' }), expected: /^loadBalancerProfile id "gke" is taken by a preset: use LoadBalancerProfile.GKE/ },
  { construct: 'ProxyProtocolSupport', inputClass: 'custom load balancer without PROXY versions', action: () => ProxyProtocolSupport.custom('none', { versions: [] }).check('loadBalancerProfile'), expected: /^loadBalancerProfile "none" cannot send PROXY protocol: the load balancer has no PROXY support/ },
  { construct: 'ProxyProtocolSupport', inputClass: 'custom healthCheckFix not an enum member', action: () => ProxyProtocolSupport.custom('lb', { versions: [ProxyProtocolVersion.V2], healthCheckFix: 'sometimes' as HealthCheckFix }), expected: /^proxyProtocolSupport healthCheckFix "sometimes" is not allowed: use HealthCheckFix.NONE_NEEDED/ },
  { construct: 'ProxyProtocolSupport', inputClass: 'custom tcp-check health checks without their annotations', action: () => ProxyProtocolSupport.custom('lb', { versions: [ProxyProtocolVersion.V2], healthCheckFix: HealthCheckFix.TCP_CHECK }), expected: /^proxyProtocolSupport healthCheckFix tcp-check needs healthCheckAnnotations/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'declared status-port-or-tcp-check health checks without their annotations before Istio 1.27', action: c => new ProxyProtocolGateway(c, 'Gateway', { inClusterCallers: false, istioVersion: IstioVersion.V1_24, proxyProtocolSupport: ProxyProtocolSupport.custom('lb', { versions: [ProxyProtocolVersion.V2], healthCheckFix: HealthCheckFix.STATUS_PORT_OR_TCP_CHECK }) }), expected: /^proxyProtocolSupport healthCheckFix status-port-or-tcp-check needs healthCheckAnnotations with istioVersion 1.24/ },
  // ---- GatewayFlavour.GATEWAY_API
  { construct: 'PreservedIngressGateway', inputClass: 'flavour not an enum member', action: c => httpGateway(c, { flavour: 'GATEWAY_API' as GatewayFlavour }), expected: /^flavour "GATEWAY_API" is not allowed: use GatewayFlavour.ISTIO or GatewayFlavour.GATEWAY_API/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour before Istio 1.26', action: c => httpGateway(c, { flavour: GatewayFlavour.GATEWAY_API, istioVersion: IstioVersion.V1_25 }), expected: /^flavour gateway-api is not allowed with istioVersion 1.25: before Istio 1.26/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour with a name too long for the generated Service', action: c => httpGateway(c, { flavour: GatewayFlavour.GATEWAY_API, name: 'g'.repeat(60) }), expected: /^name "g{60}" is too long for flavour gateway-api/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour with an upper-case host', action: c => httpGateway(c, { flavour: GatewayFlavour.GATEWAY_API }).addRoute({ host: 'App.example.com', backendHost: BACKEND, backendPort: 8000 }), expected: /^addRoute host "App.example.com" is not allowed with flavour gateway-api/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour in attach mode', action: c => PreservedIngressGateway.attach(c, 'Gateway', {}, { flavour: GatewayFlavour.GATEWAY_API }), expected: /^flavour gateway-api is not allowed with existing/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour with mutual TLS', action: c => new PreservedIngressGateway(c, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API }).addHttpsServer({ credentialName: 'cert', mode: HttpsMode.MUTUAL }), expected: /^addHttpsServer mode MUTUAL is not allowed with flavour gateway-api/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour with a namespaced host', action: c => new PreservedIngressGateway(c, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API }).addHttpServer({ hosts: ['apps/app.example.com'] }), expected: /^addHttpServer hosts "apps\/app.example.com" is not allowed with flavour gateway-api/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour with a host on two servers of a port', action: c => httpGateway(c, { flavour: GatewayFlavour.GATEWAY_API }).addHttpsRedirect({ hosts: ['app.example.com'] }), expected: /^addHttpsRedirect port 80 hosts \["app.example.com"\] overlap a server added before on that port/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour routing to a host that is not a Service', action: c => httpGateway(c, { flavour: GatewayFlavour.GATEWAY_API }).addRoute({ backendHost: 'api.example.org', backendPort: 443 }), expected: /^addRoute backendHost "api.example.org" is not allowed with flavour gateway-api/ },
  { construct: 'PreservedIngressGateway', inputClass: 'Gateway API flavour with a TLS route for every SNI name ("*")', action: c => { const gw = new PreservedIngressGateway(c, 'Gateway', { flavour: GatewayFlavour.GATEWAY_API }); gw.addTlsPassthroughServer({ hosts: ['*'] }); gw.addTlsRoute({ sniHosts: ['*'], backendHost: BACKEND, backendPort: 5432 }); }, expected: /^addTlsRoute sniHosts "\*" is not allowed with flavour gateway-api/ },
  // ---- ProxyProtocolGateway
  { construct: 'ProxyProtocolGateway', inputClass: 'load balancer that cannot send PROXY (GKE)', action: c => tcpProxyGateway(c, { loadBalancerProfile: LoadBalancerProfile.GKE }), expected: /^loadBalancerProfile "gke" cannot send PROXY protocol/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'in-tree AWS NLB (ignores the PROXY annotation)', action: c => tcpProxyGateway(c, { loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IN_TREE }), expected: /^loadBalancerProfile "aws-nlb-in-tree" cannot send PROXY protocol: .*silently ignores/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'PROXY version the load balancer does not send', action: c => tcpProxyGateway(c, { proxyProtocolVersion: ProxyProtocolVersion.V1 }), expected: /^proxyProtocolVersion V1 is not sent by loadBalancerProfile "aws-nlb-ip"/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'PROXY mode off', action: c => tcpProxyGateway(c, { proxyProtocolMode: ProxyProtocolMode.OFF }), expected: /^proxyProtocolMode off is not allowed on a ProxyProtocolGateway/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'ports with native (STRICT) PROXY', action: c => tcpProxyGateway(c, { proxyProtocolPorts: [9000] }), expected: /^proxyProtocolPorts \[9000\] is not allowed with proxyProtocolMode STRICT/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'per-port PROXY without ports', action: c => tcpProxyGateway(c, { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT }), expected: /^proxyProtocolPorts is empty with proxyProtocolMode STRICT_PER_PORT/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'PROXY port out of range', action: c => tcpProxyGateway(c, { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [0] }), expected: /^proxyProtocolPorts\[0\] 0 is not a valid port/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'PROXY port without a server', action: c => tcpProxyGateway(c, { proxyProtocolMode: ProxyProtocolMode.STRICT_PER_PORT, proxyProtocolPorts: [9100] }), expected: /proxyProtocolPorts \[9100\] have no server on gateway/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'in-cluster callers with strict PROXY on every port', action: c => tcpProxyGateway(c, { inClusterCallers: true }), expected: /^inClusterCallers true is not allowed with proxyProtocolMode STRICT/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'trust chain without a PROXY hop', action: c => tcpProxyGateway(c, { trustChain: TrustChain.of(TrustHop.l4PassThrough()) }), expected: /has no PROXY protocol hop/ },
  { construct: 'ProxyProtocolGateway', inputClass: 'PROXY backend the gateway does not route to', action: c => tcpProxyGateway(c).addProxyProtocolBackend('Other', { host: 'other', namespace: 'apps', selector: { app: 'other' }, port: 9000 }), expected: /addProxyProtocolBackend "Other" host "other.apps.svc.cluster.local" is not routed by gateway/ },
  // ---- ProxyProtocolListenerFilter and ProxyProtocolBackend
  { construct: 'ProxyProtocolListenerFilter', inputClass: 'ports on a sidecar inbound filter', action: c => new ProxyProtocolListenerFilter(c, 'F', { namespace: 'apps', selector: { app: 'a' }, context: ProxyProtocolFilterContext.SIDECAR_INBOUND, ports: [8080] }), expected: /^ports \[8080\] is not allowed with context SIDECAR_INBOUND/ },
  { construct: 'ProxyProtocolListenerFilter', inputClass: 'gateway filter without ports', action: c => new ProxyProtocolListenerFilter(c, 'F', { namespace: 'apps', selector: { app: 'a' } }), expected: /ports is empty: a GATEWAY PROXY protocol filter needs the listener/ },
  { construct: 'ProxyProtocolListenerFilter', inputClass: 'empty selector (would select every pod)', action: c => new ProxyProtocolListenerFilter(c, 'F', { namespace: 'apps', selector: {}, ports: [80] }), expected: /^selector is empty/ },
  { construct: 'ProxyProtocolListenerFilter', inputClass: 'label key with a space', action: c => new ProxyProtocolListenerFilter(c, 'F', { namespace: 'apps', selector: { 'bad key': 'a' }, ports: [80] }), expected: /^selector key "bad key" is not a valid label key/ },
  { construct: 'ProxyProtocolListenerFilter', inputClass: 'label value longer than 63 characters', action: c => new ProxyProtocolListenerFilter(c, 'F', { namespace: 'apps', selector: { app: 'v'.repeat(64) }, ports: [80] }), expected: /^selector\["app"\] value "v{64}" is not a valid label value/ },
  { construct: 'ProxyProtocolBackend', inputClass: 'neither selector nor workload', action: c => new ProxyProtocolBackend(c, 'B', { host: 'tcp-echo', port: 9000 }), expected: /^selector is missing/ },
  { construct: 'ProxyProtocolBackend', inputClass: 'wildcard backend host', action: c => new ProxyProtocolBackend(c, 'B', { host: '*.apps.svc.cluster.local', selector: { app: 'a' }, port: 9000 }), expected: /^host "\*.apps.svc.cluster.local" is not allowed/ },
  { construct: 'ProxyProtocolBackend', inputClass: 'namespace contradicts the workload', action: c => new ProxyProtocolBackend(c, 'B', { host: 'tcp-echo', namespace: 'other', workload: httpbin(c), port: 9000 }), expected: /^namespace "other" contradicts workload namespace "apps"/ },
  { construct: 'ProxyProtocolBackend', inputClass: 'a gateway as the backend workload', action: c => new ProxyProtocolBackend(c, 'B', { host: 'tcp-echo', workload: httpGateway(c), port: 9000 }), expected: /is a gateway: ProxyProtocolBackend is for meshed backends/ },
  // ---- TrustChain / TrustHop
  { construct: 'TrustHop', inputClass: 'CIDR with host bits set', action: () => TrustHop.cdn({ cidrs: ['10.0.0.1/24'] }), expected: /^cdn.cidrs\[0\]: "10.0.0.1\/24" has host bits set after the prefix; did you mean "10.0.0.0\/24"/ },
  { construct: 'TrustHop', inputClass: 'IPv4 prefix longer than 32', action: () => TrustHop.cdn({ cidrs: ['10.0.0.0/33'] }), expected: /has an invalid prefix length "\/33"/ },
  { construct: 'TrustHop', inputClass: 'IPv6 address with a zone', action: () => TrustHop.l7LoadBalancer({ cidrs: ['fe80::1%eth0'] }), expected: /has an IPv6 zone, which Istio rejects in CIDRs/ },
  { construct: 'TrustHop', inputClass: 'IPv4 address with leading zeros', action: () => TrustHop.cdn({ cidrs: ['010.0.0.1'] }), expected: /is not a four-part decimal IPv4 address/ },
  { construct: 'TrustHop', inputClass: 'variable hops without CIDRs', action: () => TrustHop.cdn({ variableHops: true }), expected: /^cdn.cidrs is empty but variableHops is true/ },
  { construct: 'TrustHop', inputClass: 'PROXY version on a hop that does not send PROXY', action: () => TrustHop.cdn({ proxyProtocolVersion: ProxyProtocolVersion.V2 }), expected: /^cdn.proxyProtocolVersion V2 is not allowed on a cdn hop/ },
  { construct: 'TrustHop', inputClass: 'empty hop name', action: () => TrustHop.cdn({ name: ' ' }), expected: /^name " " is not allowed: give a non-empty hop name/ },
  { construct: 'TrustChain', inputClass: 'PROXY hop before an L7 hop', action: () => TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'nlb' }), TrustHop.l7LoadBalancer({ name: 'alb' })), expected: /^hop "nlb" sends PROXY protocol but hop "alb" after it is an L7 proxy/ },
  { construct: 'TrustChain', inputClass: 'two PROXY hops', action: () => TrustChain.of(TrustHop.l4ProxyProtocol({ name: 'a' }), TrustHop.l4ProxyProtocol({ name: 'b' })), expected: /^hops "a" and "b" both send PROXY protocol/ },
  { construct: 'TrustChain', inputClass: 'annotation value that is not JSON', action: () => TrustChain.fromAnnotationValue('{oops'), expected: /^source-ip.cdk8s.io\/trust-chain "\{oops" is not JSON/ },
  { construct: 'TrustChain', inputClass: 'annotation hop of an unknown kind', action: () => TrustChain.fromAnnotationValue('[{"kind":"satellite"}]'), expected: /^hops\[0\].kind "satellite" is unknown/ },
  // ---- IstioVersion
  { construct: 'IstioVersion', inputClass: 'release outside 1.24 to 1.32', action: () => IstioVersion.of('1.23'), expected: /^istioVersion "1.23" is not supported: use a release from 1.24 to 1.32/ },
  { construct: 'IstioVersion', inputClass: 'not a version', action: () => IstioVersion.of('latest'), expected: /^istioVersion "latest" is not supported/ },
  // ---- ClientAddressResolver
  { construct: 'ClientAddressResolver', inputClass: 'socket peer that is not an IP address', action: () => ClientAddressResolver.resolve({ useRemoteAddress: true, downstreamAddress: 'gateway' }), expected: /^downstreamAddress "gateway" is not an IP address/ },
  { construct: 'ClientAddressResolver', inputClass: 'trusted CIDRs with use_remote_address', action: () => ClientAddressResolver.resolve({ useRemoteAddress: true, downstreamAddress: '10.0.0.1', xffTrustedCidrs: ['10.0.0.0/8'] }), expected: /^xffTrustedCidrs is not allowed with useRemoteAddress true/ },
  { construct: 'ClientAddressResolver', inputClass: 'trusted CIDRs and hop count together', action: () => ClientAddressResolver.resolve({ useRemoteAddress: false, downstreamAddress: '10.0.0.1', xffTrustedCidrs: ['10.0.0.0/8'], xffNumTrustedHops: 1 }), expected: /^xffNumTrustedHops 1 is not allowed with xffTrustedCidrs/ },
  { construct: 'ClientAddressResolver', inputClass: 'negative hop count', action: () => ClientAddressResolver.resolve({ useRemoteAddress: false, downstreamAddress: '10.0.0.1', xffNumTrustedHops: -1 }), expected: /^xffNumTrustedHops -1 is not allowed/ },
  // ---- TproxyWorkload / MeshWorkload
  { construct: 'TproxyWorkload', inputClass: 'interception mode in lower case', action: c => new TproxyWorkload(c, 'W', { source: WorkloadSource.newDeployment({ image: 'httpbin' }), interceptionMode: 'tproxy' as InterceptionMode }), expected: /^interceptionMode "tproxy" is not allowed: use InterceptionMode.REDIRECT, TPROXY or NONE/ },
  {
    construct: 'TproxyWorkload',
    inputClass: 'a Deployment whose selector does not select its pod template',
    action: c => new TproxyWorkload(c, 'W', {
      source: WorkloadSource.fromApiObject(new ApiObject(c, 'D', {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'httpbin' },
        spec: { selector: { matchLabels: { app: 'httpbin' } }, template: { metadata: { labels: { app: 'other' } }, spec: { containers: [{ name: 'c', image: 'httpbin' }] } } },
      })),
    }),
    expected: /^source Deployment httpbin: spec\.selector\.matchLabels \{"app":"httpbin"\} does not select its pod template's labels/,
  },
  { construct: 'TproxyWorkload', inputClass: 'empty container image', action: c => new TproxyWorkload(c, 'W', { source: WorkloadSource.newDeployment({ image: ' ' }) }), expected: /^newDeployment image " " is not allowed/ },
  { construct: 'TproxyWorkload', inputClass: 'Service port without a container port', action: c => new TproxyWorkload(c, 'W', { source: WorkloadSource.newDeployment({ image: 'httpbin', servicePort: 80 }) }), expected: /^newDeployment servicePort 80 needs port/ },
  { construct: 'TproxyWorkload', inputClass: 'two TproxyWorkloads on one Deployment', action: c => { const d = new kplus.Deployment(c, 'D', { containers: [{ image: 'httpbin', securityContext: { ensureNonRoot: false } }] }); new TproxyWorkload(c, 'A', { source: WorkloadSource.fromWorkload(d) }); new TproxyWorkload(c, 'B', { source: WorkloadSource.fromWorkload(d) }); }, expected: /gets sidecar.istio.io\/interceptionMode from both/ },
  { construct: 'MeshWorkload', inputClass: 'empty labels', action: c => MeshWorkload.fromLabels(c, 'W', { labels: {} }), expected: /^labels is empty/ },
  { construct: 'TproxyWorkload', inputClass: 'ApiObject workload whose pod template has no labels (policies would select the whole namespace)', action: c => new TproxyWorkload(c, 'W', { source: WorkloadSource.fromWorkload(new ApiObject(c, 'D', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'httpbin' }, spec: { template: { spec: { containers: [{ name: 'httpbin', image: 'httpbin' }] } } } })) }), expected: /^source "Deployment httpbin" selects its pods with selector \{\}, which is not allowed: a policy or filter on it with an empty selector applies to every workload in namespace "default"/ },
  { construct: 'TproxyWorkload', inputClass: 'workload in an ambient namespace', action: c => { new AmbientNamespace(c, 'Ns', { name: 'apps' }); new TproxyWorkload(c, 'W', { source: WorkloadSource.newDeployment({ image: 'httpbin', namespace: 'apps' }) }); }, expected: /is a TproxyWorkload, but namespace "apps" is in ambient mode .*use AmbientWorkload.fromLabels/ },
  // ---- Ambient mode
  { construct: 'AmbientNamespace', inputClass: 'ingressUseWaypoint without a waypoint', action: c => new AmbientNamespace(c, 'Ns', { name: 'apps', ingressUseWaypoint: true }), expected: /^ingressUseWaypoint true is not allowed without a waypoint/ },
  { construct: 'AmbientNamespace', inputClass: 'ingressUseWaypoint on Istio 1.24 (the Namespace label is read from 1.25)', action: c => new AmbientNamespace(c, 'Ns', { name: 'apps', waypoint: new Waypoint(c, 'Waypoint', { namespace: 'apps' }), ingressUseWaypoint: true, istioVersion: IstioVersion.V1_24 }), expected: /^ingressUseWaypoint true is not allowed with istioVersion 1\.24: Istio reads istio\.io\/ingress-use-waypoint on a Namespace only from 1\.25/ },
  { construct: 'AmbientNamespace', inputClass: 'an ambient label in labels', action: c => new AmbientNamespace(c, 'Ns', { name: 'apps', labels: { 'istio.io/dataplane-mode': 'none' } }), expected: /^labels key "istio.io\/dataplane-mode" is not allowed/ },
  { construct: 'AmbientWorkload', inputClass: 'remoteIpBlocks enforced by ztunnel', action: c => AmbientWorkload.fromLabels(c, 'W', { labels: { app: 'httpbin' } }).allowFrom(['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS }), expected: /ztunnel treats remoteIpBlocks as an HTTP attribute, so this ALLOW never matches and denies every request; .*deploy a Waypoint/ },
  { construct: 'AmbientWorkload', inputClass: 'paths or methods enforced by ztunnel', action: c => AmbientWorkload.fromLabels(c, 'W', { labels: { app: 'httpbin' } }).denyFrom(['203.0.113.0/24'], { paths: ['/admin'] }), expected: /^paths and methods are not supported on ambient workload .*deploy a Waypoint/ },
  { construct: 'AmbientWorkload', inputClass: 'ztunnel ALLOW on a workload behind a waypoint', action: c => AmbientWorkload.fromLabels(c, 'W', { labels: { app: 'httpbin' }, waypoint: new Waypoint(c, 'Wp') }).allowFrom(['203.0.113.0/24']), expected: /sees the waypoint "default\/waypoint" as the source of every request that passes it/ },
  { construct: 'Waypoint', inputClass: 'forService with a name that is not a Service name', action: c => new Waypoint(c, 'Wp').forService('Httpbin_1'), expected: /^serviceName "Httpbin_1" is not a valid DNS-1123 label/ },
  { construct: 'Waypoint', inputClass: 'policies on a waypoint for no traffic', action: c => new Waypoint(c, 'Wp', { waypointFor: WaypointFor.NONE }).allowFrom(['203.0.113.0/24']), expected: /waypointFor none, so it handles no traffic/ },
  // ---- rateLimitPerClient (gateways, sidecar workloads, waypoints)
  { construct: 'rateLimitPerClient', inputClass: 'no requests', action: c => httpGateway(c).rateLimitPerClient({ requests: 0, per: Duration.seconds(1) }), expected: /^requests 0 is not allowed: use a whole number from 1 to 4294967295/ },
  { construct: 'rateLimitPerClient', inputClass: 'refills faster than Envoy allows', action: c => httpGateway(c).rateLimitPerClient({ requests: 1, per: Duration.millis(10) }), expected: /^per 10 millis is not allowed: Envoy's local rate limit refills at most every 50ms/ },
  { construct: 'rateLimitPerClient', inputClass: 'a bucket smaller than one refill', action: c => httpGateway(c).rateLimitPerClient({ requests: 10, per: Duration.seconds(1), burst: 5 }), expected: /^burst 5 is not allowed: use a whole number from 10/ },
  { construct: 'rateLimitPerClient', inputClass: 'no client buckets', action: c => httpGateway(c).rateLimitPerClient({ requests: 10, per: Duration.seconds(1), maxClients: 0 }), expected: /^maxClients 0 is not allowed/ },
  { construct: 'rateLimitPerClient', inputClass: 'an Istio release whose Envoy has no per-value buckets', action: c => httpGateway(c, { istioVersion: IstioVersion.V1_25 }).rateLimitPerClient({ requests: 10, per: Duration.seconds(1) }), expected: /^rateLimitPerClient\(\) is not supported with istioVersion 1\.25/ },
  { construct: 'rateLimitPerClient', inputClass: 'a second limit on the same proxy', action: c => { const gw = httpGateway(c); gw.rateLimitPerClient({ requests: 10, per: Duration.seconds(1) }); gw.rateLimitPerClient({ requests: 5, per: Duration.seconds(1) }); }, expected: /^rateLimitPerClient\(\) is already called on/ },
  { construct: 'rateLimitPerClient', inputClass: 'a gateway that sees the node, not the client', action: c => httpGateway(c, { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER }).rateLimitPerClient({ requests: 10, per: Duration.seconds(1) }), expected: /rate limit istio-ingress\/ingressgateway-rate-limit-per-client is per client in name only/ },
  { construct: 'rateLimitPerClient', inputClass: 'a sidecar that does not intercept', action: c => MeshWorkload.fromLabels(c, 'Wl', { name: 'app', namespace: 'web', labels: { app: 'app' }, interceptionMode: InterceptionMode.NONE }).rateLimitPerClient({ requests: 10, per: Duration.seconds(1) }), expected: /^rateLimitPerClient\(\) on ".*" is not allowed: interceptionMode NONE/ },
  // ---- XffSidecarFilter / XffTrust
  { construct: 'XffSidecarFilter', inputClass: 'no selector (every sidecar of the namespace) without asking', action: c => new XffSidecarFilter(c, 'F', { trust: XffTrust.useRemoteAddress() }), expected: /^selector undefined is not allowed: an EnvoyFilter without workloadSelector changes every sidecar/ },
  { construct: 'XffSidecarFilter', inputClass: 'selector with a namespace-wide scope', action: c => new XffSidecarFilter(c, 'F', { trust: XffTrust.useRemoteAddress(), scope: XffFilterScope.NAMESPACE, selector: { app: 'a' } }), expected: /^selector \{"app":"a"\} is not allowed with scope namespace/ },
  { construct: 'XffSidecarFilter', inputClass: 'mesh-wide filter outside the root namespace', action: c => new XffSidecarFilter(c, 'F', { trust: XffTrust.useRemoteAddress(), scope: XffFilterScope.MESH, namespace: 'apps' }), expected: /^namespace "apps" is not allowed with scope MESH/ },
  { construct: 'XffSidecarFilter', inputClass: 'a gateway as the workload', action: c => new XffSidecarFilter(c, 'F', { trust: XffTrust.trustedHops(1), workload: httpGateway(c) }), expected: /workload selects gateway .*set numTrustedProxies on the gateway instead/ },
  { construct: 'XffSidecarFilter', inputClass: 'two filters with different settings on one sidecar', action: c => { const w = httpbin(c); new XffSidecarFilter(c, 'A', { trust: XffTrust.useRemoteAddress(), workload: w }); new XffSidecarFilter(c, 'B', { trust: XffTrust.trustedHops(1), workload: w }); }, expected: /may select the same sidecar port with different settings/ },
  { construct: 'clientAddressHeader', inputClass: 'a header name in upper case', action: c => httpGateway(c).clientAddressHeader({ name: 'X-Real-IP' }), expected: /^clientAddressHeader name "X-Real-IP" is not allowed: write header names in lower case/ },
  { construct: 'clientAddressHeader', inputClass: 'a pseudo-header', action: c => httpGateway(c).clientAddressHeader({ name: ':authority' }), expected: /pseudo-headers/ },
  { construct: 'clientAddressHeader', inputClass: 'a header proxies set or read themselves', action: c => httpGateway(c).clientAddressHeader({ name: 'x-forwarded-for' }), expected: /hop-by-hop, routing or client-address header/ },
  { construct: 'clientAddressHeader', inputClass: 'an x-envoy-* header', action: c => httpGateway(c).clientAddressHeader({ name: 'x-envoy-client' }), expected: /x-envoy-\* headers are set and trusted by Envoy itself/ },
  { construct: 'clientAddressHeader', inputClass: 'a name that is not an RFC 7230 token', action: c => httpGateway(c).clientAddressHeader({ name: 'real ip' }), expected: /is not a valid header name: use an RFC 7230 token/ },
  { construct: 'clientAddressHeader', inputClass: 'a second header on one hop', action: c => { const g = httpGateway(c); g.clientAddressHeader(); g.clientAddressHeader({ name: 'x-client-ip' }); }, expected: /already writes the client into "x-real-ip"/ },
  { construct: 'clientAddressHeader', inputClass: 'a gateway without an HTTP route to write it on', action: c => httpGateway(c).clientAddressHeader(), expected: /is written by the VirtualServices of gateway "ingressgateway"'s HTTP routes, but it has none: call addRoute\(\)/ },
  { construct: 'clientAddressHeader', inputClass: 'a sidecar that does not intercept', action: c => MeshWorkload.fromLabels(c, 'W', { labels: { app: 'w' }, interceptionMode: InterceptionMode.NONE }).clientAddressHeader(), expected: /with interceptionMode NONE inbound traffic bypasses the sidecar/ },
  { construct: 'ClientAddressAccessLog', inputClass: 'no targets without asking for a wider scope', action: c => new ClientAddressAccessLog(c, 'Log'), expected: /^targets is empty: give the gateways and workloads whose proxies should log/ },
  { construct: 'ClientAddressAccessLog', inputClass: 'a target with an empty selector', action: c => new ClientAddressAccessLog(c, 'Log', { targets: [emptySelectorTarget(c)] }), expected: /a Telemetry with an empty selector applies to every workload/ },
  { construct: 'ClientAddressAccessLog', inputClass: 'an ambient workload', action: c => new ClientAddressAccessLog(c, 'Log', { targets: [AmbientWorkload.fromLabels(c, 'A', { labels: { app: 'a' } })] }), expected: /is an ambient workload, which is not allowed: ztunnel has no HTTP access log/ },
  { construct: 'ClientAddressAccessLog', inputClass: 'targets with a namespace or mesh scope', action: c => new ClientAddressAccessLog(c, 'Log', { targets: [httpbin(c)], scope: AccessLogScope.MESH }), expected: /^targets is not allowed with scope mesh/ },
  { construct: 'XffTrust', inputClass: 'zero trusted hops (a MERGE cannot set 0)', action: () => XffTrust.trustedHops(0), expected: /^trustedHops 0 is not allowed: use a whole number from 1 to 64/ },
  { construct: 'XffTrust', inputClass: 'empty trusted CIDR list', action: () => XffTrust.trustedCidrs([]), expected: /^trustedCidrs is empty/ },
  { construct: 'XffTrust', inputClass: 'hops of a gateway that trusts none', action: c => { const gw = httpGateway(c); new XffSidecarFilter(c, 'F', { trust: XffTrust.trustHopsOf(gw), workload: httpbin(c) }); }, expected: /trustHopsOf: gateway "istio-ingress\/ingressgateway" has numTrustedProxies 0/ },
  // ---- SourceIpPolicy
  { construct: 'SourceIpPolicy', inputClass: 'target with an empty selector (an AuthorizationPolicy on the whole namespace)', action: c => new SourceIpPolicy(c, 'P', { target: emptySelectorTarget(c), cidrs: ['203.0.113.0/24'] }), expected: /^target "test\/Empty" selects its pods with selector \{\}, which is not allowed: an ALLOW AuthorizationPolicy with an empty selector applies to every workload/ },
  { construct: 'SourceIpPolicy', inputClass: 'empty ALLOW list', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: [] }), expected: /^cidrs \[\] is not allowed for an ALLOW policy/ },
  { construct: 'SourceIpPolicy', inputClass: 'empty DENY list', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: [], action: PolicyAction.DENY }), expected: /^cidrs \[\] is not allowed for a DENY policy/ },
  { construct: 'SourceIpPolicy', inputClass: 'allow-list of loopback', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: ['127.0.0.6'] }), expected: /^cidrs\[0\] "127.0.0.6\/32" allow-lists loopback/ },
  { construct: 'SourceIpPolicy', inputClass: 'empty CIDR string', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: [''] }), expected: /^cidrs\[0\]: "" is empty/ },
  { construct: 'SourceIpPolicy', inputClass: 'IPv6 prefix longer than 128', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: ['2001:db8::/129'] }), expected: /^cidrs\[0\]: "2001:db8::\/129" has an invalid prefix length/ },
  { construct: 'SourceIpPolicy', inputClass: 'IPv4-mapped IPv6 with host bits set', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: ['::ffff:10.0.0.1/120'] }), expected: /has host bits set after the prefix; did you mean "10.0.0.0\/24"/ },
  { construct: 'SourceIpPolicy', inputClass: 'same CIDR denied and allowed', action: c => { const w = httpbin(c); w.allowFrom(['203.0.113.0/24']); w.denyFrom(['203.0.113.0/24']); }, expected: /cidrs "203.0.113.0\/24" is both denied here and allowed by/ },
  { construct: 'SourceIpPolicy', inputClass: 'remoteIpBlocks on a sidecar without trusted hops', action: c => httpbin(c).allowFrom(['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS }), expected: /cannot match clients on sidecar workload "apps\/httpbin": without trusted hops/ },
  { construct: 'SourceIpPolicy', inputClass: 'ipBlocks on a gateway behind kube-proxy SNAT', action: c => httpGateway(c, { externalTrafficPolicy: ExternalTrafficPolicy.CLUSTER }).allowFrom(['203.0.113.0/24'], { field: ClientIpField.IP_BLOCKS }), expected: /cannot match clients on gateway .*externalTrafficPolicy Cluster/ },
  { construct: 'SourceIpPolicy', inputClass: 'policy port without a gateway server', action: c => httpGateway(c).allowFrom(['203.0.113.0/24'], { ports: [8443] }), expected: /ports\[0\] 8443 matches no server of gateway/ },
  { construct: 'SourceIpPolicy', inputClass: 'path with a wildcard in the middle', action: c => httpbin(c).allowFrom(['203.0.113.0/24'], { paths: ['/a/*/b'] }), expected: /^paths\[0\] "\/a\/\*\/b" is not allowed/ },
  { construct: 'SourceIpPolicy', inputClass: 'lower-case HTTP method', action: c => httpbin(c).allowFrom(['203.0.113.0/24'], { methods: ['get'] }), expected: /^methods\[0\] "get" is not allowed/ },
  { construct: 'CidrList', inputClass: 'host bits set on a line of a list', action: () => CidrList.fromText('10.0.0.0/8\n10.0.0.1/24\n', { name: 'geo.txt' }), expected: /^geo.txt line 2: "10.0.0.1\/24" has host bits set/ },
  { construct: 'CidrList', inputClass: 'list file that cannot be read', action: () => CidrList.fromFile('/nonexistent/ranges.txt'), expected: /^fromFile path "\/nonexistent\/ranges.txt" cannot be read/ },
  { construct: 'CidrListPolicy', inputClass: 'negated list longer than one policy', action: c => new CidrListPolicy(c, 'P', { target: httpbin(c), list: CidrList.fromCidrs(['10.0.0.0/8', '192.0.2.0/24']), negate: true, action: PolicyAction.DENY, maxCidrsPerPolicy: 1 }), expected: /a negated list cannot be split/ },
  { construct: 'CidrListPolicy', inputClass: 'maxCidrsPerPolicy above 10000', action: c => new CidrListPolicy(c, 'P', { target: httpbin(c), list: CidrList.fromCidrs(['10.0.0.0/8']), maxCidrsPerPolicy: 20000 }), expected: /^maxCidrsPerPolicy/ },
  { construct: 'CdnOnlyPolicy', inputClass: 'gateway trusting the hops before the CDN too', action: c => new CdnOnlyPolicy(c, 'P', { gateway: httpGateway(c, { trustChain: TrustChain.of(TrustHop.cdn({ cidrs: ['192.0.2.0/24'] }), TrustHop.l7LoadBalancer()) }) }), expected: /has numTrustedProxies 2, so remote.ip is not the CDN hop/ },
  { construct: 'CdnOnlyPolicy', inputClass: 'no CDN ranges', action: c => new CdnOnlyPolicy(c, 'P', { gateway: httpGateway(c) }), expected: /^cdnCidrs is required/ },
  { construct: 'XffTrust', inputClass: 'client header without a CDN-only gateway', action: () => XffTrust.clientHeader({ headerName: 'CF-Connecting-IP' }), expected: /is refused without proof that the gateway is reachable only through the CDN/ },
  { construct: 'XffTrust', inputClass: 'X-Forwarded-For as the client header', action: () => XffTrust.clientHeader({ headerName: 'X-Forwarded-For', onlyReachableThroughCdn: true }), expected: /^headerName "X-Forwarded-For" is not allowed/ },
  { construct: 'TrustChain', inputClass: 'client header on an L4 hop', action: () => TrustHop.l4PassThrough({ clientHeader: 'CF-Connecting-IP' }), expected: /clientHeader "CF-Connecting-IP" is not allowed on a l4-passthrough hop/ },
  { construct: 'SourceIpPolicy', inputClass: 'allowNothing with CIDRs', action: c => new SourceIpPolicy(c, 'P', { target: httpbin(c), cidrs: ['10.0.0.0/8'], allowNothing: true }), expected: /^allowNothing true is only allowed with action ALLOW, an empty cidrs list/ },
  { construct: 'SourceIpPolicy', inputClass: 'two policies with the same name and namespace', action: c => { const w = httpbin(c); w.allowFrom(['203.0.113.0/24'], { name: 'office' }); w.allowFrom(['198.51.100.0/24'], { name: 'office' }); }, expected: /^object security.istio.io AuthorizationPolicy "apps\/office" is emitted twice/ },

  // ---- Any app that uses the library: objects that would replace each other when applied
  { construct: 'App', inputClass: 'two gateways with the same name in two charts', action: c => { httpGateway(c); httpGateway(new Chart(c.node.root as App, 'other')); }, expected: /^object networking.istio.io Gateway "istio-ingress\/ingressgateway" is emitted twice, by test\/Gateway\/.+ and other\/Gateway\/.+: the one applied later silently replaces the other/ },

  { construct: 'App', inputClass: 'existing Service port named http behind a TCP route', action: c => { new ApiObject(c, 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'mysql', namespace: 'db' }, spec: { ports: [{ name: 'http', port: 3306 }] } }); tcpProxyGateway(c).addTcpRoute({ port: 9000, backendHost: 'mysql.db.svc.cluster.local', backendPort: 3306 }); }, expected: /^the Service "db\/mysql" port 3306 is named "http", so Istio treats its traffic as HTTP, but addTcpRoute/ },
  { construct: 'App', inputClass: 'existing Service port with appProtocol http behind a PROXY backend', action: c => { new ApiObject(c, 'Mine', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo', namespace: 'apps' }, spec: { ports: [{ name: 'echo', appProtocol: 'http', port: 9000 }] } }); new ProxyProtocolBackend(c, 'B', { host: 'echo', namespace: 'apps', selector: { app: 'echo' }, port: 9000 }); }, expected: /^the Service "apps\/echo" port 9000 has appProtocol "http", so Istio treats its traffic as HTTP, but ProxyProtocolBackend/ },
  { construct: 'TproxyWorkload', inputClass: 'newDeployment Service port sent HTTP and TCP', action: c => { new TproxyWorkload(c, 'Echo', { source: WorkloadSource.newDeployment({ image: 'echo', name: 'echo', namespace: 'apps', port: 8080, servicePort: 9000 }) }); tcpProxyGateway(c).addTcpRoute({ port: 9000, backendHost: 'echo.apps.svc.cluster.local', backendPort: 9000 }); const web = new PreservedIngressGateway(c, 'Web', { name: 'web' }); web.addHttpServer(); web.addRoute({ backendHost: 'echo.apps.svc.cluster.local', backendPort: 9000 }); }, expected: /^newDeployment servicePort 9000 of Service "apps\/echo" is sent HTTP by addRoute on gateway "web" and raw TCP by addTcpRoute/ },

  // ---- explain (library and CLI, exit code 2): input it cannot read at all
  { construct: 'explain', inputClass: 'binary input (never echoed)', action: () => Explainer.fromYaml('\u001f\u008b\u0008\u0000\u001b[2J'), expected: /^input: is not text: it has a NUL byte at character 3; give YAML or JSON manifests \(binary content is not shown\)/ },
  { construct: 'explain', inputClass: 'UTF-16 text', action: () => Explainer.fromYaml('\uFFFD\uFFFDk\u0000'), expected: /^input: is not UTF-8: it starts with a UTF-16 byte-order mark/ },
  { construct: 'explain', inputClass: 'invalid YAML', action: () => Explainer.fromYaml('kind: Service\n---\nkind: [unclosed\n'), expected: /^input: document 2 is not valid YAML at line 4, column 1/ },
  { construct: 'explain', inputClass: 'YAML nested deeper than 100 levels', action: () => Explainer.fromYaml('a: ' + '['.repeat(200) + ']'.repeat(200)), expected: /^input: document 1 is too deeply nested at line 1, column 103: more than 100 levels/ },
  { construct: 'explain', inputClass: 'JSON nested deeper than 100 levels', action: () => Explainer.fromYaml('['.repeat(200) + ']'.repeat(200)), expected: /^input: document 1 is too deeply nested: more than 100 levels/ },
  { construct: 'explain', inputClass: 'aliases that expand without bound', action: () => Explainer.fromYaml(['a: &a0 [x]', ...Array.from({ length: 9 }, (_, i) => `b${i}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(', ')}]`)].join('\n')), expected: /^input: document 1 expands through YAML aliases to more than \d+ values/ },
  { construct: 'explain', inputClass: 'an alias inside its own anchor', action: () => Explainer.fromYaml('a: &x [*x]'), expected: /^input: document 1 contains itself through a YAML alias/ },
];

/** Objects explain does not use: the report lists each under "skipped" with the reason and the fix (the rest goes on). */
interface SkippedEntry {
  readonly inputClass: string;
  readonly yaml: string;
  readonly expected: RegExp;
}

const HCM_V3 = 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const envoyFilter = (configPatches: string, type = HCM_V3) => `apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: { name: xff, namespace: apps }
spec:
  configPatches: ${configPatches.replace('TYPE', type)}`;
const HCM_PATCH = '[{ applyTo: NETWORK_FILTER, match: { context: SIDECAR_INBOUND }, patch: { operation: MERGE, value: { typed_config: { "@type": TYPE, xff_num_trusted_hops: 1 } } } }]';

const SKIPPED: SkippedEntry[] = [
  { inputClass: 'a document that is not a map (a stray scalar; the other documents are read)', yaml: '42', expected: /^not a Kubernetes object \(a map with apiVersion and kind\): kubectl refuses this document too, and explain reads the others/ },
  { inputClass: 'an object without metadata (other than IstioOperator and List, which are read without it)', yaml: 'apiVersion: v1\nkind: Service\nspec: { type: LoadBalancer }', expected: /^it has no metadata: kubectl and the API server refuse an object without metadata.name/ },
  { inputClass: 'unknown kind', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: apps }', expected: /^kind ConfigMap is not read by explain/ },
  { inputClass: 'kind in the wrong case', yaml: 'apiVersion: v1\nkind: service\nmetadata: { name: s, namespace: apps }', expected: /^kind "service" is not a kind/ },
  { inputClass: 'capitalised keys pasted from a web page', yaml: 'ApiVersion: apps/v1\nKind: Deployment\nMetadata: { name: d }', expected: /^keys "ApiVersion", "Kind", "Metadata" are capitalised/ },
  { inputClass: 'unsupported API version', yaml: 'apiVersion: extensions/v1beta1\nkind: Deployment\nmetadata: { name: d, namespace: apps }', expected: /^apiVersion "extensions\/v1beta1" is not served for Deployment/ },
  { inputClass: 'Envoy v2 type URL in an EnvoyFilter', yaml: envoyFilter(HCM_PATCH, 'type.googleapis.com/envoy.config.filter.network.http_connection_manager.v2.HttpConnectionManager'), expected: /uses the Envoy v2 type URL/ },
  { inputClass: 'configPatches that is a map', yaml: envoyFilter('{ applyTo: NETWORK_FILTER }'), expected: /^spec.configPatches .* is not a list/ },
  { inputClass: 'ipBlocks that is a string', yaml: 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: p, namespace: apps }\nspec: { rules: [{ from: [{ source: { ipBlocks: "10.0.0.0/8" } }] }] }', expected: /source.ipBlocks "10.0.0.0\/8" is not a list of strings/ },
  { inputClass: 'selector that is a list', yaml: 'apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: apps }\nspec: { selector: [app, httpbin] }', expected: /^spec.selector .* is not a map of strings/ },
  { inputClass: 'annotation value that is not a string', yaml: 'apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: apps, annotations: { service.beta.kubernetes.io/aws-load-balancer-proxy-protocol: 1 } }', expected: /^metadata.annotations .* is not a map of strings/ },
  { inputClass: 'istio ConfigMap whose data.mesh is a map', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio, namespace: istio-system }\ndata: { mesh: { rootNamespace: x } }', expected: /^data.mesh .* is not a string: ConfigMap data values are strings/ },
  { inputClass: 'Helm values given as a manifest', yaml: 'meshConfig:\n  defaultConfig: { gatewayTopology: { numTrustedProxies: 1 } }', expected: /^it has no kind and apiVersion: it looks like Helm values of the istiod chart/ },
  { inputClass: 'Gateway API Gateway of another class', yaml: 'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: g, namespace: apps }\nspec: { gatewayClassName: nginx }', expected: /^Gateway of class "nginx" is not Istio's/ },
  { inputClass: 'ProxyConfig of an API version Istio does not serve', yaml: 'apiVersion: networking.istio.io/v1alpha3\nkind: ProxyConfig\nmetadata: { name: p, namespace: istio-system }\nspec: { environmentVariables: { ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL: "true" } }', expected: /^apiVersion "networking.istio.io\/v1alpha3" is not served for ProxyConfig/ },
  { inputClass: 'ProxyConfig environmentVariables with a value that is not a string', yaml: 'apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata: { name: p, namespace: istio-system }\nspec: { environmentVariables: { ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL: true } }', expected: /^spec.environmentVariables .* is not a map of strings/ },
  { inputClass: 'duplicate object (the later one is used)', yaml: 'apiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: apps }\n---\napiVersion: v1\nkind: Service\nmetadata: { name: s, namespace: apps }', expected: /^duplicate object: another Service with the same API group, namespace and name \(input document 2\) replaces it when applied/ },
];

/** The message an entry raises: its own error, cdk8s's validation error without the wrapper, or the harness's errors. */
function rejectionOf(entry: Entry): string | undefined {
  const chart = newChart();
  try {
    entry.action(chart);
    const manifests = chart.toJson();
    const errors = manifests.flatMap(m => validateManifest(m));
    return errors.length > 0 ? `synthesised manifests failed validation: ${errors.join('; ')}` : undefined;
  } catch (e) {
    if (!(e instanceof Error) || e.constructor !== Error) throw e;
    return e.message.replace(/^Validation failed with the following errors:\n\s*/, '').replace(/^\[[^\]]*\] /, '').replace(/\n\s*\[[^\]]*\] /g, '; ');
  }
}

function escapeCell(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ').replace(/`/g, "'");
}

function render(rows: Array<{ entry: Entry; message: string }>, skipped: Array<{ entry: SkippedEntry; reason: string; fix: string }>): string {
  const constructs = [...new Set(rows.map(r => r.entry.construct))];
  const lines = [
    '# Rejected inputs',
    '',
    '<!-- Generated by test/reliability/rejected-inputs.test.ts: do not edit. Regenerate with UPDATE_REJECTED_INPUTS=1 npx jest test/reliability/rejected-inputs -->',
    '',
    `Every input class below is refused, when the construct is created or when the app is synthesised, with the message shown (${rows.length} classes across ${constructs.length} constructs and classes).`,
    'The messages name the property, show the bad value, and say what is allowed; the test that generates this page checks each of them.',
    '',
  ];
  for (const construct of constructs) {
    lines.push(`## ${construct}`, '', '| Input class | Message |', '| --- | --- |');
    for (const r of rows.filter(x => x.entry.construct === construct)) lines.push(`| ${escapeCell(r.entry.inputClass)} | ${escapeCell(r.message)} |`);
    lines.push('');
  }
  lines.push('## explain: objects it does not use', '',
    'These do not stop explain: the report goes on, and lists each such object under "skipped" (the `skipped` field in JSON) with the reason and the fix.', '',
    '| Input class | Reason | Fix |', '| --- | --- | --- |');
  for (const r of skipped) lines.push(`| ${escapeCell(r.entry.inputClass)} | ${escapeCell(r.reason)} | ${escapeCell(r.fix)} |`);
  lines.push('');
  return lines.join('\n');
}

describe('rejected inputs', () => {
  const rows: Array<{ entry: Entry; message: string }> = [];
  const skippedRows: Array<{ entry: SkippedEntry; reason: string; fix: string }> = [];

  for (const entry of SKIPPED) {
    test(`explain skips: ${entry.inputClass}`, () => {
      // GIVEN / WHEN
      const report = Explainer.fromYaml(entry.yaml);
      // THEN exactly one object is skipped, with a reason and a fix in house style
      expect(report.skipped).toHaveLength(1);
      const { reason, fix } = report.skipped[0];
      expect(reason).toMatch(entry.expected);
      expect(`${reason}|${fix}`).not.toMatch(/\.\|/);
      skippedRows.push({ entry, reason, fix });
    });
  }

  for (const entry of ENTRIES) {
    test(`${entry.construct}: ${entry.inputClass}`, () => {
      // GIVEN / WHEN
      const message = rejectionOf(entry);
      // THEN
      expect(message).toBeDefined();
      expect(message).toMatch(entry.expected);
      // House style: lowercase start, no trailing period.
      expect(message).toMatch(/^[a-z"[]/);
      expect(message).not.toMatch(/\.$/);
      rows.push({ entry, message: message! });
    });
  }

  test('the catalogue covers at least 40 input classes', () => {
    expect(new Set(ENTRIES.map(e => `${e.construct}: ${e.inputClass}`)).size).toBe(ENTRIES.length);
    expect(ENTRIES.length).toBeGreaterThanOrEqual(40);
  });

  test('docs/rejected-inputs.md matches the messages (UPDATE_REJECTED_INPUTS=1 rewrites it)', () => {
    expect(rows).toHaveLength(ENTRIES.length); // every entry above passed
    expect(skippedRows).toHaveLength(SKIPPED.length);
    const rendered = render(rows, skippedRows);
    if (process.env.UPDATE_REJECTED_INPUTS === '1') {
      fs.writeFileSync(DOC, rendered);
      return;
    }
    const committed = fs.existsSync(DOC) ? fs.readFileSync(DOC, 'utf-8') : '';
    if (committed !== rendered) {
      throw new Error('docs/rejected-inputs.md is out of date with the messages the constructs raise: run `UPDATE_REJECTED_INPUTS=1 npx jest --ci --coverage=false test/reliability/rejected-inputs` and commit the result');
    }
  });
});
