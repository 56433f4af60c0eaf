import { Chart } from 'cdk8s';
import {
  Explainer, FindingSeverity, GatewayFlavour, HealthCheckFix, HttpsMode, IstioVersion, LoadBalancerProfile, MeshWorkload,
  PreservedIngressGateway, ProxyProtocolGateway, ProxyProtocolListenerFilter, ProxyProtocolSupport, ProxyProtocolVersion,
  TproxyWorkload, TrustChain, TrustHop, WorkloadSource,
} from '../../src';
import { validateManifest } from '../harness';
import { apiServerErrors, newChart } from '../property/arbitraries';
import { assertRoundTrip } from '../property/round-trip';

/*
 * Regression tests for the bugs the property suite found (and that are fixed): inputs that were accepted although
 * the objects they produced were rejected by the validation harness or the Kubernetes API server, crashes with a
 * TypeError or ReferenceError instead of our error, and messages that misreported the bad value or property.
 */

/** Builds the case and returns its rejection message, or the validation errors of what it synthesised. */
function outcome(build: (chart: Chart) => void): { rejected?: string; invalid: string[] } {
  const chart = newChart();
  try {
    build(chart);
    const manifests = chart.toJson();
    return { invalid: manifests.flatMap(m => [...validateManifest(m), ...apiServerErrors(m)]) };
  } catch (e) {
    return { rejected: (e as Error).message, invalid: [] };
  }
}

interface Bug {
  readonly title: string;
  readonly build: (chart: Chart) => void;
  /** The property the construct should name when it rejects the input. */
  readonly property: RegExp;
}

function httpGateway(props: ConstructorParameters<typeof PreservedIngressGateway>[2]): (chart: Chart) => void {
  return chart => new PreservedIngressGateway(chart, 'Gateway', props).addHttpServer();
}

/** Accepted inputs that yield objects the harness or the API server rejects: they should be refused, naming the property. */
const SILENTLY_INVALID: Bug[] = [
  { title: 'autoscaling.minReplicas NaN gives an HPA with minReplicas null', build: httpGateway({ autoscaling: { minReplicas: NaN, maxReplicas: 5 } }), property: /autoscaling.minReplicas/ },
  { title: 'autoscaling.minReplicas 1.5 gives a fractional HPA minReplicas', build: httpGateway({ autoscaling: { minReplicas: 1.5, maxReplicas: 5 } }), property: /autoscaling.minReplicas/ },
  { title: 'autoscaling.minReplicas -3 gives an HPA the API server rejects', build: httpGateway({ autoscaling: { minReplicas: -3, maxReplicas: 5 } }), property: /autoscaling.minReplicas/ },
  { title: 'autoscaling.minReplicas 0 gives an HPA that needs the alpha HPAScaleToZero gate', build: httpGateway({ autoscaling: { minReplicas: 0, maxReplicas: 5 } }), property: /autoscaling.minReplicas/ },
  { title: 'addHttpsServer mode that is not an HttpsMode member (JavaScript callers) gives an invalid Gateway tls.mode', build: chart => new PreservedIngressGateway(chart, 'Gateway').addHttpsServer({ credentialName: 'cert', mode: 'simple' as HttpsMode }), property: /mode/ },
  { title: 'serviceAnnotations key with a space gives a Service the API server rejects', build: httpGateway({ serviceAnnotations: { 'bad key': 'v' } }), property: /serviceAnnotations/ },
  {
    title: 'LoadBalancerProfile.custom serviceAnnotations key that is not a qualified name',
    build: chart => httpGateway({ loadBalancerProfile: LoadBalancerProfile.custom({ id: 'lb', serviceAnnotations: { 'example.com/': 'v' } }) })(chart),
    property: /serviceAnnotations/,
  },
  {
    title: 'LoadBalancerProfile.custom loadBalancerClass that is not a domain-prefixed path',
    build: chart => httpGateway({ loadBalancerProfile: LoadBalancerProfile.custom({ id: 'lb', loadBalancerClass: 'bad class' }) })(chart),
    property: /loadBalancerClass/,
  },
  {
    title: 'ProxyProtocolSupport.custom serviceAnnotations key that is not a qualified name',
    build: chart => new ProxyProtocolGateway(chart, 'Gateway', { proxyProtocolSupport: ProxyProtocolSupport.custom('generic', { versions: [ProxyProtocolVersion.V2], serviceAnnotations: { 'bad key': 'on' } }), inClusterCallers: false }).addTcpServer({ port: 9000 }),
    property: /serviceAnnotations/,
  },
];

describe('fixed bugs: accepted inputs that give invalid objects', () => {
  for (const bug of SILENTLY_INVALID) {
    test(`${bug.title}: should be rejected naming the property`, () => {
      const result = outcome(bug.build);
      expect(result.invalid).toEqual([]);
      expect(result.rejected).toMatch(bug.property);
    });
  }
});

describe('fixed bugs: messages that misreport the bad value', () => {
  // checkInteger and checkPort format the value with JSON.stringify, which prints NaN and Infinity as null.
  test('NaN replicas should be reported as NaN, not null', () => {
    expect(outcome(httpGateway({ replicas: NaN })).rejected).toMatch(/^replicas NaN is not allowed/);
  });
  test('an Infinity port should be reported as Infinity, not null', () => {
    expect(outcome(chart => new PreservedIngressGateway(chart, 'Gateway').addTcpServer({ port: Infinity })).rejected).toMatch(/^addTcpServer port Infinity is not a valid port/);
  });
  // A string instead of a list (JavaScript callers) is reported as "is empty".
  test('hosts given as a string should be reported as not a list', () => {
    expect(outcome(chart => new PreservedIngressGateway(chart, 'Gateway').addHttpServer({ hosts: 'a.example.com' as any })).rejected).not.toMatch(/is empty/);
  });
});

describe('fixed bugs: TrustHop accepts a PROXY version its own annotation cannot carry', () => {
  // TrustHop.l4ProxyProtocol({ proxyProtocolVersion: 'V3' }) is accepted (no enum check); toAnnotationValue() writes
  // it, and fromAnnotationValue() (what explain reads from the gateway Service) refuses it.
  const hop = () => TrustHop.l4ProxyProtocol({ proxyProtocolVersion: 'V3' as ProxyProtocolVersion });
  test('a PROXY version that is not a ProxyProtocolVersion member should be refused by TrustHop, naming proxyProtocolVersion', () => {
    expect(hop).toThrow(/proxyProtocolVersion/);
  });
});

describe('fixed bugs: TrustChain.fromAnnotationValue looks hop kinds up on Object.prototype', () => {
  // hopFromJson() indexes a plain object with the kind: "valueOf" and "__proto__" find Object.prototype members
  // and crash with a TypeError instead of "hops[0].kind ... is unknown" (found by `npm run fuzz`). A Map or an own-
  // property check fixes it.
  for (const kind of ['valueOf', '__proto__']) {
    test(`kind "${kind}" is refused as unknown, not with a TypeError`, () => {
      expect(() => TrustChain.fromAnnotationValue(JSON.stringify([{ kind }]))).toThrow(/^hops\[0\].kind .* is unknown/);
    });
  }
});

describe('fixed bugs: ProxyProtocolSupport.forProfile looks profile ids up on Object.prototype', () => {
  // LoadBalancerProfile.custom({ id: 'constructor' }) passes the kebab-case check; ProxyProtocolSupport.forProfile()
  // then reads KNOWN['constructor'] (Object) as the facts and crashes: "options.versions is not iterable".
  const build = (chart: Chart) => new ProxyProtocolGateway(chart, 'Gateway', {
    loadBalancerProfile: LoadBalancerProfile.custom({ id: 'constructor' }), inClusterCallers: false,
  }).addTcpServer({ port: 9000 });
  test('a custom profile with id "constructor" gets the unknown load balancer\'s facts instead of a TypeError', () => {
    expect(() => build(newChart())).not.toThrow();
  });
});

describe('fixed bugs: Explainer crashes with a TypeError on lists that are not lists', () => {
  // "anything we cannot read becomes a finding, never an exception" (manifest-parser.ts): these inputs crash instead.
  function sample(): any[] {
    const chart = newChart();
    const gw = new PreservedIngressGateway(chart, 'Gateway');
    gw.addHttpServer();
    gw.addRoute({ backendHost: 'httpbin.apps.svc.cluster.local', backendPort: 8000 });
    MeshWorkload.fromLabels(chart, 'W', { labels: { app: 'w' }, namespace: 'apps' }).denyFrom(['2001:db8::/32']);
    return chart.toJson();
  }
  const of = (m: any[], kind: string) => m.find(o => o.kind === kind);
  const CASES: Array<[string, (m: any[]) => void]> = [
    ['VirtualService spec.gateways is a string', m => { of(m, 'VirtualService').spec.gateways = 'istio-ingress/ingressgateway'; }],
    ['VirtualService spec.gateways holds a null', m => { of(m, 'VirtualService').spec.gateways = [null]; }],
    ['VirtualService spec.http is an object', m => { of(m, 'VirtualService').spec.http = {}; }],
    ['Gateway spec.servers is an object', m => { of(m, 'Gateway').spec.servers = {}; }],
    ['AuthorizationPolicy spec.rules is an object', m => { of(m, 'AuthorizationPolicy').spec.rules = {}; }],
    ['AuthorizationPolicy spec.rules[0].from is an object', m => { of(m, 'AuthorizationPolicy').spec.rules[0].from = {}; }],
  ];
  for (const [title, edit] of CASES) {
    test(`${title}: explained (with a finding) instead of a TypeError`, () => {
      const manifests = sample();
      edit(manifests);
      expect(() => Explainer.fromManifests(manifests)).not.toThrow();
    });
  }

  // YAML with an alias whose anchor is missing: yaml's doc.toJS() throws a ReferenceError that parseYamlDocuments
  // does not turn into its "document N is not valid YAML" error.
  test('YAML with an unresolved alias is refused with our error, not a ReferenceError', () => {
    let error: unknown;
    try {
      Explainer.fromYaml('*a');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).constructor).toBe(Error);
    expect((error as Error).message).toMatch(/input: document 1/);
  });
});

describe('fixed bugs: a policy lands in another namespace than the workload it protects', () => {
  // TproxyWorkload with WorkloadSource.newDeployment() and no namespace (in a chart without one) emits a Deployment
  // without metadata.namespace (it goes wherever `kubectl apply -n` puts it) but its targetNamespace is "default",
  // so allowFrom()/denyFrom() write the AuthorizationPolicy to "default" explicitly: applied with -n apps, the
  // policy does not select the pods.
  function build(): any[] {
    const chart = newChart();
    new TproxyWorkload(chart, 'Echo', { source: WorkloadSource.newDeployment({ image: 'echoserver', port: 8080 }) }).allowFrom(['10.0.0.0/8']);
    return chart.toJson();
  }
  test('the AuthorizationPolicy and the Deployment it protects are in the same namespace', () => {
    const manifests = build();
    expect(manifests.find(m => m.kind === 'AuthorizationPolicy').metadata.namespace).toBe(manifests.find(m => m.kind === 'Deployment').metadata.namespace);
  });
});

describe('fixed bugs: a message names another property than the one set', () => {
  // PreservedIngressGateway.attach(..., { namespace: '' }): the gateway namespace defaults to existing.namespace and
  // is checked first, under the name "namespace", a prop the user did not set.
  test('existing.namespace "" is reported as existing.namespace', () => {
    expect(outcome(chart => PreservedIngressGateway.attach(chart, 'Gateway', { namespace: '' }).addHttpServer()).rejected).toMatch(/existing.namespace/);
  });
  // ProxyProtocolListenerFilter({ ports: [0] }) reports "port 0" (addPort's name), not "ports[0] 0".
  test('a bad entry of ProxyProtocolListenerFilter ports is reported as ports[i]', () => {
    expect(outcome(chart => new ProxyProtocolListenerFilter(chart, 'F', { namespace: 'apps', selector: { app: 'a' }, ports: [0] })).rejected).toMatch(/^ports\[0\] 0/);
  });
});

describe('ProxyProtocolSupport.custom versions', () => {
  test('fails a version that is not a ProxyProtocolVersion member, naming versions', () => {
    expect(() => ProxyProtocolSupport.custom('lb', { versions: ['v2' as ProxyProtocolVersion] }))
      .toThrow(/^proxyProtocolSupport versions \["v2"\] is not allowed: list ProxyProtocolVersion.V1 and\/or ProxyProtocolVersion.V2/);
  });
  test('accepts the members and an empty list', () => {
    expect(ProxyProtocolSupport.custom('lb', { versions: [ProxyProtocolVersion.V2] }).versions).toEqual([ProxyProtocolVersion.V2]);
    expect(ProxyProtocolSupport.custom('lb', { versions: [] }).canSend).toBe(false);
  });
});

/*
 * Found by the property suite (seed -1937357338): a ProxyProtocolGateway on a known load balancer with a declared
 * ProxyProtocolSupport whose health-check fix differs from the load-balancer table synthesised without a word, and
 * explain, reading the table, raised an ERROR on it (and an invalid healthCheckFix value was accepted).
 */
describe('ProxyProtocolSupport.custom healthCheckFix', () => {
  function declaredGateway(chart: Chart, fix: HealthCheckFix, flavour = GatewayFlavour.ISTIO, istioVersion = IstioVersion.V1_24,
    healthCheckAnnotations?: { [key: string]: string }): ProxyProtocolGateway {
    const gateway = new ProxyProtocolGateway(chart, 'Gateway', {
      flavour,
      inClusterCallers: false,
      istioVersion,
      loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP,
      proxyProtocolSupport: ProxyProtocolSupport.custom('aws-nlb-ip', { versions: [ProxyProtocolVersion.V2], healthCheckFix: fix, healthCheckAnnotations }),
    });
    gateway.addHttpServer({ port: 8080, hosts: ['*'] });
    gateway.addRoute({ host: '*', backendHost: 'web.default.svc.cluster.local', backendPort: 8080 });
    return gateway;
  }

  test.each([
    [HealthCheckFix.NONE_NEEDED, GatewayFlavour.ISTIO, IstioVersion.V1_24, undefined],
    [HealthCheckFix.NONE_NEEDED, GatewayFlavour.GATEWAY_API, IstioVersion.V1_31, undefined],
    [HealthCheckFix.UNKNOWN, GatewayFlavour.ISTIO, IstioVersion.V1_24, undefined],
    [HealthCheckFix.TCP_CHECK, GatewayFlavour.ISTIO, IstioVersion.V1_24, { 'example.com/health-check': 'tcp' }],
    [HealthCheckFix.STATUS_PORT_OR_TCP_CHECK, GatewayFlavour.ISTIO, IstioVersion.V1_24, { 'example.com/health-check': 'tcp' }],
    [HealthCheckFix.STATUS_PORT_OR_TCP_CHECK, GatewayFlavour.GATEWAY_API, IstioVersion.V1_31, undefined],
  ])('%s (%s, Istio %s): the declared fix is in the output, and explain raises nothing the construct did not', (fix, flavour, istioVersion, annotations) => {
    // GIVEN
    const chart = newChart();
    declaredGateway(chart, fix, flavour, istioVersion, annotations);

    // WHEN
    const manifests = chart.toJson();

    // THEN
    // on the Service, or in the service overlay of the Gateway API parameters (JSON in the ConfigMap)
    const annotationsOf = (m: any) => m.kind === 'ConfigMap' ? JSON.parse(m.data.service).metadata.annotations : m.metadata.annotations ?? {};
    const withFact = manifests.filter(m => annotationsOf(m)['source-ip.cdk8s.io/health-check-fix'] === fix);
    expect(withFact.map(m => m.kind)).toEqual([flavour === GatewayFlavour.ISTIO ? 'Service' : 'ConfigMap']);
    expect(manifests.flatMap(m => validateManifest(m, { istioVersion }))).toEqual([]);
    assertRoundTrip(chart, manifests);
  });

  test('a gateway on the table\'s own facts carries no declaration', () => {
    // GIVEN
    const chart = newChart();
    new ProxyProtocolGateway(chart, 'Gateway', { inClusterCallers: false, loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP }).addTcpServer({ port: 9000 });
    // WHEN
    const yaml = JSON.stringify(chart.toJson());
    // THEN
    expect(yaml).not.toContain('health-check-fix');
  });

  test('explain takes the declaration instead of the table, and the table without it', () => {
    // GIVEN the output of a gateway whose health checks the user declared need nothing
    const chart = newChart();
    declaredGateway(chart, HealthCheckFix.NONE_NEEDED);
    const manifests = chart.toJson();
    const statusPortErrors = (ms: any[]) => Explainer.fromManifests(ms).allFindings().filter(f => f.message.includes('status port 15021'));

    // WHEN the declaration is taken out again
    const withoutDeclaration = manifests.map(m => m.kind !== 'Service' ? m : {
      ...m, metadata: { ...m.metadata, annotations: Object.fromEntries(Object.entries(m.metadata.annotations).filter(([k]) => !k.endsWith('/health-check-fix'))) },
    });

    // THEN only then does explain report the table's health-check problem of aws-nlb-ip on Istio 1.24
    expect(statusPortErrors(manifests)).toEqual([]);
    expect(statusPortErrors(withoutDeclaration).map(f => f.severity)).toEqual([FindingSeverity.ERROR]);
  });

  test('fails a healthCheckFix that is not a HealthCheckFix member, naming healthCheckFix', () => {
    expect(() => ProxyProtocolSupport.custom('lb', { versions: [ProxyProtocolVersion.V2], healthCheckFix: 'sometimes' as HealthCheckFix }))
      .toThrow(/^proxyProtocolSupport healthCheckFix "sometimes" is not allowed: use HealthCheckFix.NONE_NEEDED, STATUS_PORT_OR_TCP_CHECK, TCP_CHECK or UNKNOWN/);
  });

  test('fails tcp-check without healthCheckAnnotations', () => {
    expect(() => ProxyProtocolSupport.custom('lb', { versions: [ProxyProtocolVersion.V2], healthCheckFix: HealthCheckFix.TCP_CHECK }))
      .toThrow(/^proxyProtocolSupport healthCheckFix tcp-check needs healthCheckAnnotations/);
  });

  test('fails status-port-or-tcp-check without healthCheckAnnotations before Istio 1.27, naming the construct', () => {
    expect(() => declaredGateway(newChart(), HealthCheckFix.STATUS_PORT_OR_TCP_CHECK))
      .toThrow(/^proxyProtocolSupport healthCheckFix status-port-or-tcp-check needs healthCheckAnnotations with istioVersion 1.24: .* \(construct "test\/Gateway"\)$/s);
  });
});

/*
 * Found by the property suite (seed 101, FUZZ_RUNS=3000): explain crashed with ipaddr's "ipv4 octet should fit in
 * 8 bits" tracing a CDN with variable hops whose block ends in .255: the inner tier's address was the hop's plus one.
 */
describe('explain traces a variable-hop CDN whose block holds one or two addresses', () => {
  test.each([['0.0.0.255', '0.0.0.255'], ['203.0.113.254/31', '203.0.113.254']])('%s: the inner tier stays inside the block', (cidr, inner) => {
    // GIVEN
    const chart = newChart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { trustChain: TrustChain.of(TrustHop.cdn({ cidrs: [cidr], variableHops: true })) });
    gateway.addHttpServer({ hosts: ['*.example.com'] });
    gateway.addRoute({ host: '*.example.com', backendHost: 'web.default.svc.cluster.local', backendPort: 8080 });

    // WHEN
    const report = Explainer.fromManifests(chart.toJson());

    // THEN the peer of the hop after the CDN is the CDN's inner tier, an address of the CDN's block
    const hops = report.paths[0].hops;
    const afterCdn = hops[hops.findIndex(h => h.hop === 'cdn cdn') + 1];
    expect(afterCdn.socketPeer).toBe(inner);
  });
});
