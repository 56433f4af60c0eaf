import { docs, gatewayYaml, workloadYaml } from './fixtures';
import { Explainer, ExplainReport, FindingSeverity, HelmChart, HelmValues } from '../../src';
import { readManifestText } from '../../src/explain/input';
import { parseManifests, ParsedManifests } from '../../src/explain/manifest-parser';
import { InterceptionMode, ProxyProtocolMode, ExternalTrafficPolicy } from '../../src/model/model';
import { runCli } from '../harness/cli';

/*
 * explain reads the mesh-wide settings users keep outside the workload manifests: meshConfig in istiod's `istio`
 * ConfigMap (and `istio-<revision>`), in an IstioOperator and in the istiod chart's Helm values, and the gateways an
 * IstioOperator or the gateway chart installs.
 */

function meshConfigMap(mesh: string, name = 'istio'): string {
  return `
apiVersion: v1
kind: ConfigMap
metadata: { name: ${name}, namespace: istio-system }
data:
  mesh: |
${mesh.trim().split('\n').map(l => `    ${l}`).join('\n')}
`;
}

const TOPOLOGY_TWO_PP = `
defaultConfig:
  gatewayTopology:
    numTrustedProxies: 2
    proxyProtocol: {}
`;

function parse(yaml: string, helmValues: HelmValues[] = []): ParsedManifests {
  return parseManifests(readManifestText(yaml), helmValues);
}

function gateway(parsed: ParsedManifests, name: string) {
  const gw = parsed.gateways.find(g => g.model.name === name);
  if (!gw) throw new Error(`no gateway ${name} in ${parsed.gateways.map(g => g.model.name).join(', ')}`);
  return gw.model;
}

function messages(report: ExplainReport | ParsedManifests, severity?: FindingSeverity): string[] {
  const findings = 'allFindings' in report ? report.allFindings() : report.findings;
  return findings.filter(f => severity === undefined || f.severity === severity).map(f => `${f.severity} ${f.where}: ${f.message}`);
}


describe('the istio ConfigMap of istiod', () => {
  test('defaultConfig.gatewayTopology is the topology of a gateway whose pods set none', () => {
    // GIVEN the mesh default of two trusted proxies and PROXY protocol, and a gateway without proxy.istio.io/config
    const yaml = docs(meshConfigMap(TOPOLOGY_TWO_PP), gatewayYaml({ etp: 'Local' }), workloadYaml());
    // WHEN
    const parsed = parse(yaml);
    const report = Explainer.fromYaml(yaml);
    // THEN the gateway runs with the mesh default, and explain says where it came from
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(2);
    expect(gateway(parsed, 'ingressgateway').proxyProtocol).toBe(ProxyProtocolMode.STRICT);
    expect(messages(report, FindingSeverity.INFO)).toContain(
      'info gateway istio-ingress/ingressgateway: gatewayTopology {"numTrustedProxies":2,"proxyProtocol":{}} comes from data.mesh.defaultConfig.gatewayTopology in ConfigMap istio-system/istio (input document 1) (its pods set no gatewayTopology of their own)');
    expect(report.skipped.map(s => s.object)).not.toContain('ConfigMap istio-system/istio');
    expect(report.toTable()).toMatchSnapshot();
  });

  test('a pod annotation without gatewayTopology keeps the mesh default (ProxyConfig merges at the top level)', () => {
    // GIVEN a gateway whose proxy.istio.io/config sets only concurrency
    const parsed = parse(docs(meshConfigMap(TOPOLOGY_TWO_PP), gatewayYaml({ etp: 'Local', proxyConfig: '{"concurrency":2}' })));
    // THEN
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(2);
  });

  test('a pod gatewayTopology replaces the mesh default as a whole, with a warning naming what is dropped', () => {
    // GIVEN the mesh default with PROXY protocol, and pods that set only numTrustedProxies
    const parsed = parse(docs(meshConfigMap(TOPOLOGY_TWO_PP), gatewayYaml({ etp: 'Local', proxyConfig: '{"gatewayTopology":{"numTrustedProxies":1}}' })));
    // THEN the pods' value wins and PROXY protocol from the mesh is gone
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(1);
    expect(gateway(parsed, 'ingressgateway').proxyProtocol).toBe(ProxyProtocolMode.OFF);
    const warning = parsed.findings.find(f => f.severity === FindingSeverity.WARNING && /replaces/.test(f.message))!;
    expect(warning.message).toMatch(/replaces data\.mesh\.defaultConfig\.gatewayTopology of ConfigMap istio-system\/istio .* as a whole .*: proxyProtocol \{\} from the mesh does not apply/);
    expect(warning.fix).toMatch(/repeat proxyProtocol in the pods' gatewayTopology/);
  });

  test('defaultConfig.interceptionMode is the mode of workloads that set none; the annotation still wins', () => {
    // GIVEN a TPROXY mesh default, one workload without and one with the annotation
    const parsed = parse(docs(meshConfigMap('defaultConfig:\n  interceptionMode: TPROXY'), workloadYaml(), workloadYaml('REDIRECT', 'legacy')));
    // THEN
    expect(parsed.workloads.map(w => [w.name, w.interceptionMode])).toEqual([['httpbin', InterceptionMode.TPROXY], ['legacy', InterceptionMode.REDIRECT]]);
  });

  test('rootNamespace moves where policies and EnvoyFilters reach every namespace', () => {
    // GIVEN a mesh rooted in istio-config and an empty-selector DENY policy there
    const policy = `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: { name: deny-forged, namespace: istio-config }
spec:
  action: DENY
  rules: [ { from: [ { source: { remoteIpBlocks: ["192.0.2.0/24"] } } ] } ]
`;
    const yaml = docs(meshConfigMap('rootNamespace: istio-config'), gatewayYaml({ etp: 'Local' }), workloadYaml(), policy);
    // WHEN
    const parsed = parse(yaml);
    const report = Explainer.fromYaml(yaml);
    // THEN istio-config is the root (istio-system no longer is), and the policy applies at the gateway
    expect(parsed.rootNamespaces).toEqual(['istio-config']);
    const gatewayHop = report.paths[0].hops.find(h => h.hop.startsWith('gateway'))!;
    expect(gatewayHop.policies.map(p => p.policy)).toEqual(['istio-config/deny-forged']);
  });

  test('the revisioned ConfigMap istio-<revision> applies to pods of that revision only', () => {
    // GIVEN the default mesh and a canary mesh, a canary gateway and a default one, and a namespace on the canary
    const canaryGateway = gatewayYaml({ etp: 'Local' }).replace(/ingressgateway/g, 'canary-gw').replace('labels: { istio: canary-gw, app: canary-gw }', 'labels: { istio: canary-gw, app: canary-gw, istio.io/rev: canary }');
    const namespace = 'apiVersion: v1\nkind: Namespace\nmetadata: { name: shop, labels: { istio.io/rev: canary } }';
    const yaml = docs(meshConfigMap('defaultConfig: { gatewayTopology: { numTrustedProxies: 1 } }'),
      meshConfigMap('defaultConfig: { gatewayTopology: { numTrustedProxies: 3 }, interceptionMode: TPROXY }', 'istio-canary'),
      gatewayYaml({ etp: 'Local' }), canaryGateway, namespace, workloadYaml(undefined, 'cart', 'shop'), workloadYaml());
    // WHEN
    const parsed = parse(yaml);
    // THEN
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(1);
    expect(gateway(parsed, 'canary-gw').numTrustedProxies).toBe(3);
    expect(parsed.workloads.map(w => [w.name, w.interceptionMode])).toEqual([['cart', InterceptionMode.TPROXY], ['httpbin', InterceptionMode.REDIRECT]]);
  });

  test('pods of a revision the input has no meshConfig for get Istio defaults, with an INFO finding', () => {
    const yaml = docs(meshConfigMap(TOPOLOGY_TWO_PP, 'istio-canary'), gatewayYaml({ etp: 'Local' }));
    const parsed = parse(yaml);
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(0);
    expect(messages(parsed, FindingSeverity.INFO)).toContain(
      'info Deployment istio-ingress/ingressgateway: its pods belong to Istio revision "default" (istio.io/rev), but the input holds meshConfig only for "canary": explain assumes Istio\'s defaults for it');
  });

  test('ConfigMaps named like Istio\'s but without data.mesh stay skipped', () => {
    const other = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio-ca-root-cert, namespace: web }\ndata: { mesh: "x" }';
    const plain = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio, namespace: istio-system }\ndata: { meshNetworks: "networks: {}" }';
    const report = Explainer.fromYaml(docs(other, plain));
    expect(report.skipped.map(s => `${s.object}: ${s.reason}`)).toEqual([
      'ConfigMap web/istio-ca-root-cert: kind ConfigMap is not read by explain',
      'ConfigMap istio-system/istio: kind ConfigMap is not read by explain',
    ]);
  });
});

describe('IstioOperator', () => {
  const operator = `
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
metadata: { name: control-plane, namespace: istio-system }
spec:
  meshConfig:
    defaultConfig:
      gatewayTopology: { numTrustedProxies: 1 }
  values:
    meshConfig:
      rootNamespace: istio-config
      defaultConfig:
        interceptionMode: TPROXY
        gatewayTopology: { numTrustedProxies: 5, proxyProtocol: {} }
  components:
    ingressGateways:
    - name: public-gw
      namespace: edge
      enabled: true
      label: { istio: public }
      k8s:
        podAnnotations:
          proxy.istio.io/config: '{"gatewayTopology":{"numTrustedProxies":2}}'
        service:
          externalTrafficPolicy: Local
        serviceAnnotations:
          service.beta.kubernetes.io/aws-load-balancer-type: nlb
    - name: disabled-gw
      enabled: false
`;

  test('spec.meshConfig merges over spec.values.meshConfig, and each listed gateway is installed', () => {
    // WHEN
    const parsed = parse(docs(operator, workloadYaml()));
    // THEN the mesh: rootNamespace and interceptionMode from values, gatewayTopology replaced by spec.meshConfig's field
    expect(parsed.rootNamespaces).toEqual(['istio-config']);
    expect(parsed.workloads.map(w => w.interceptionMode)).toEqual([InterceptionMode.TPROXY]);
    // AND the gateway as the istio-ingress chart renders it: labels, Local, pod annotation, ports 80 -> 8080
    const gw = gateway(parsed, 'public-gw');
    expect(gw.namespace).toBe('edge');
    expect(gw.selector).toEqual({ app: 'istio-ingressgateway', istio: 'public' });
    expect(gw.externalTrafficPolicy).toBe(ExternalTrafficPolicy.LOCAL);
    expect(gw.numTrustedProxies).toBe(2);
    expect(gw.serviceName).toBe('public-gw');
    expect(parsed.gateways.map(g => g.model.name)).toEqual(['public-gw']);
  });

  test('spec.meshConfig gatewayTopology fields merge into the values\' (Helm-style map merge)', () => {
    // GIVEN the same operator without the gateway's own annotation
    const parsed = parse(operator.replace('        podAnnotations:\n          proxy.istio.io/config: \'{"gatewayTopology":{"numTrustedProxies":2}}\'\n', ''));
    // THEN numTrustedProxies from spec.meshConfig, proxyProtocol from values.meshConfig
    expect(gateway(parsed, 'public-gw').numTrustedProxies).toBe(1);
    expect(gateway(parsed, 'public-gw').proxyProtocol).toBe(ProxyProtocolMode.STRICT);
  });

  test('without components, the default and demo profiles install istio-ingressgateway; minimal, ambient and empty none', () => {
    const byProfile = (profile: string) => parse(`apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: { name: p, namespace: istio-system }\nspec: { profile: ${profile} }`)
      .gateways.map(g => `${g.model.namespace}/${g.model.name} ${JSON.stringify(g.model.selector)} ${g.model.externalTrafficPolicy}`);
    expect(byProfile('default')).toEqual(['istio-system/istio-ingressgateway {"app":"istio-ingressgateway","istio":"ingressgateway"} Cluster']);
    expect(byProfile('demo')).toHaveLength(1);
    expect(byProfile('minimal')).toEqual([]);
    expect(byProfile('ambient')).toEqual([]);
    expect(byProfile('empty')).toEqual([]);
  });

  test('an IstioOperator that installs no istiod contributes no meshConfig, with an INFO finding', () => {
    const parsed = parse(`apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: { name: gateways-only, namespace: istio-system }
spec:
  profile: empty
  meshConfig: { rootNamespace: elsewhere }
`);
    expect(parsed.rootNamespaces).toEqual(['istio-system']);
    expect(messages(parsed)).toEqual(['info IstioOperator istio-system/gateways-only (input document 1): its meshConfig is not used: it installs no istiod (profile empty), and meshConfig goes into istiod\'s ConfigMap']);
  });

  test('spec.tag names the Istio release when no annotation does', () => {
    const operatorWithTag = (tag: string) => parse(`apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: { name: p, namespace: istio-system }\nspec: { profile: minimal, tag: ${tag} }`);
    expect(operatorWithTag('1.24.2').istioVersion?.label).toBe('1.24');
    expect(operatorWithTag('1.25.0-distroless').istioVersion?.label).toBe('1.25');
    expect(operatorWithTag('latest').istioVersion).toBeUndefined();
    expect(operatorWithTag('1.9.0').istioVersion).toBeUndefined();
  });

  test('a Deployment in the input that describes the installed gateway wins over the operator', () => {
    // GIVEN the rendered Deployment of istio-ingressgateway (from kubectl get) next to the operator
    const rendered = gatewayYaml({ etp: 'Local' }).replace(/name: ingressgateway\n  namespace: istio-ingress/g, 'name: istio-ingressgateway\n  namespace: istio-system');
    const parsed = parse(docs('apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: { name: p, namespace: istio-system }\nspec: {}', rendered));
    // THEN one gateway, the rendered one (its Service says Local)
    expect(parsed.gateways.map(g => `${g.model.name} ${g.model.externalTrafficPolicy}`)).toEqual(['istio-ingressgateway Local']);
    expect(messages(parsed, FindingSeverity.INFO).join('\n')).toMatch(/the input holds this gateway's Deployment/);
  });
});

describe('Helm values', () => {
  test('istiod chart: meshConfig, the _internal_defaults_do_not_set wrapper, global.istioNamespace as the root', () => {
    // GIVEN istiod values that set gatewayTopology inside the wrapper and the namespace at the top level
    const values: HelmValues = {
      chart: HelmChart.ISTIOD,
      values: { _internal_defaults_do_not_set: { meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } } } }, global: { istioNamespace: 'mesh-root' } },
      source: 'istiod.yaml',
    };
    // WHEN
    const parsed = parse(gatewayYaml({ etp: 'Local' }), [values]);
    // THEN
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(2);
    expect(parsed.rootNamespaces).toEqual(['mesh-root']);
    expect(messages(parsed, FindingSeverity.INFO).join('\n')).toMatch(/comes from meshConfig\.defaultConfig\.gatewayTopology in istiod\.yaml/);
  });

  test('istiod chart with a revision applies to that revision\'s pods', () => {
    const parsed = parse(gatewayYaml({ etp: 'Local' }), [{ chart: HelmChart.ISTIOD, values: { revision: 'canary', meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } } } } }]);
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(0);
  });

  test('gateway chart: the release becomes a gateway with the chart\'s labels, Service and pod annotations', () => {
    // GIVEN gateway values as in Istio's Helm guide, with a proxy config and Local
    const values: HelmValues = {
      chart: HelmChart.GATEWAY,
      releaseName: 'istio-ingress',
      namespace: 'edge',
      values: {
        labels: { team: 'web' },
        podAnnotations: { 'proxy.istio.io/config': 'gatewayTopology: { numTrustedProxies: 1 }' },
        service: { externalTrafficPolicy: 'Local', annotations: { 'service.beta.kubernetes.io/aws-load-balancer-proxy-protocol': '*' } },
      },
      source: 'gateway.yaml',
    };
    // WHEN
    const report = Explainer.fromYaml(workloadYaml(), { helmValues: [values] });
    const parsed = parse(workloadYaml(), [values]);
    // THEN app/istio selector labels from the release name, istio trimmed of "istio-"
    const gw = parsed.gateways[0];
    expect(gw.model).toMatchObject({ name: 'istio-ingress', namespace: 'edge', externalTrafficPolicy: ExternalTrafficPolicy.LOCAL, numTrustedProxies: 1, serviceName: 'istio-ingress' });
    expect(gw.model.selector).toMatchObject({ app: 'istio-ingress', istio: 'ingress', team: 'web' });
    expect(gw.loadBalancerSendsProxyProtocol).toBe(true);
    expect(report.toTable()).toMatchSnapshot();
  });

  test('gateway chart: values.name overrides the release; service.type None installs no Service; null drops a default annotation', () => {
    const parsed = parse('', [{ chart: HelmChart.GATEWAY, values: { name: 'istio-edge', service: { type: 'None' }, podAnnotations: { 'sidecar.istio.io/inject': null } } }]);
    const gw = parsed.gateways[0];
    expect(gw.model).toMatchObject({ name: 'istio-edge', namespace: 'istio-ingress', selector: { app: 'istio-edge', istio: 'edge' } });
    expect(gw.model.serviceName).toBeUndefined();
    expect(gw.serviceType).toBeUndefined();
  });
});

describe('precedence between sources', () => {
  const helm: HelmValues = { chart: HelmChart.ISTIOD, values: { meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: 3 } } } }, source: 'istiod.yaml' };
  const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: { name: p, namespace: istio-system }\nspec: { profile: minimal, meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } } } }';

  test('the ConfigMap (what istiod reads) beats an IstioOperator, which beats Helm values; each loser that differs is a warning', () => {
    // GIVEN three sources for the default revision
    const parsed = parse(docs(meshConfigMap('defaultConfig: { gatewayTopology: { numTrustedProxies: 1 } }'), operator, gatewayYaml({ etp: 'Local' })), [helm]);
    // THEN
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(1);
    expect(messages(parsed, FindingSeverity.WARNING)).toEqual([
      'warning IstioOperator istio-system/p (input document 2): its meshConfig for revision "default" differs from ConfigMap istio-system/istio (input document 1): defaultConfig.gatewayTopology {"numTrustedProxies":2} vs {"numTrustedProxies":1}; explain uses ConfigMap istio-system/istio (input document 1), the ConfigMap istiod reads',
      'warning istiod.yaml: its meshConfig for revision "default" differs from ConfigMap istio-system/istio (input document 1): defaultConfig.gatewayTopology {"numTrustedProxies":3} vs {"numTrustedProxies":1}; explain uses ConfigMap istio-system/istio (input document 1), the ConfigMap istiod reads',
    ]);
  });

  test('an IstioOperator beats Helm values; sources that agree raise nothing', () => {
    const parsed = parse(docs(operator, gatewayYaml({ etp: 'Local' })), [helm]);
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(2);
    expect(messages(parsed, FindingSeverity.WARNING)).toHaveLength(1);
    const agreeing = parse(docs(operator, gatewayYaml({ etp: 'Local' })), [{ ...helm, values: { meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: 2 } } } } }]);
    expect(messages(agreeing, FindingSeverity.WARNING)).toEqual([]);
  });
});

describe('hostile mesh settings are findings, never exceptions', () => {
  test('fails to read a data.mesh that is not YAML: an ERROR naming the ConfigMap, the rest goes on', () => {
    const report = Explainer.fromYaml(docs(meshConfigMap('defaultConfig: { gatewayTopology: [unclosed'), gatewayYaml({ etp: 'Local' })));
    const errors = messages(report, FindingSeverity.ERROR);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^error ConfigMap istio-system\/istio \(input document 1\): data\.mesh cannot be read: .*; istiod cannot apply this meshConfig/);
    expect(report.paths.length).toBeGreaterThan(0);
  });

  test('fails on values of the wrong type: each an ERROR naming the field and the value, read as absent', () => {
    const mesh = `
rootNamespace: 7
defaultConfig:
  interceptionMode: tproxy
  gatewayTopology: { numTrustedProxies: two, proxyProtocol: true, forwardClientCertDetails: always }
`;
    const parsed = parse(docs(meshConfigMap(mesh), gatewayYaml({ etp: 'Local' })));
    expect(messages(parsed, FindingSeverity.ERROR).map(m => m.replace(/ \(input document 1\)/, ''))).toEqual([
      'error ConfigMap istio-system/istio: data.mesh.rootNamespace 7 is not allowed: use a string; explain ignores it',
      'error ConfigMap istio-system/istio: data.mesh.defaultConfig.interceptionMode "tproxy" is not allowed: use one of REDIRECT, TPROXY, NONE (case-sensitive); explain ignores it',
      'error ConfigMap istio-system/istio: data.mesh.defaultConfig.gatewayTopology.numTrustedProxies "two" is not allowed: use a whole number from 0 to 4294967295; explain ignores it',
      'error ConfigMap istio-system/istio: data.mesh.defaultConfig.gatewayTopology.proxyProtocol true is not allowed: use a map ({} turns PROXY protocol on); explain ignores it',
      'error ConfigMap istio-system/istio: data.mesh.defaultConfig.gatewayTopology.forwardClientCertDetails "always" is not allowed: use one of UNDEFINED, SANITIZE, FORWARD_ONLY, APPEND_FORWARD, SANITIZE_SET, ALWAYS_FORWARD_ONLY (case-sensitive); explain ignores it',
    ]);
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(0);
    expect(parsed.rootNamespaces).toEqual(['istio-system']);
  });

  test('fails on a data.mesh alias bomb: an ERROR finding, not exponential work', () => {
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...'bcdefghi'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(',')}]`), 'defaultConfig: { gatewayTopology: *i }'].join('\n');
    const report = Explainer.fromYaml(docs(meshConfigMap(bomb), gatewayYaml({ etp: 'Local' })));
    expect(messages(report, FindingSeverity.ERROR).join('\n')).toMatch(/data\.mesh cannot be read: data\.mesh: document 1 expands through YAML aliases to more than/);
  });

  test('a quoted number of trusted proxies is read as istiod reads it', () => {
    const parsed = parse(docs(meshConfigMap('defaultConfig: { gatewayTopology: { numTrustedProxies: "2" } }'), gatewayYaml({ etp: 'Local' })));
    expect(gateway(parsed, 'ingressgateway').numTrustedProxies).toBe(2);
  });

  test('fails on a mesh that is a list, a data.mesh that is a map, and IstioOperator lists written as maps', () => {
    // GIVEN
    const listMesh = meshConfigMap('- rootNamespace: x', 'istio-a');
    const mapMesh = 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: istio-b, namespace: istio-system }\ndata: { mesh: { rootNamespace: x } }';
    const operator = 'apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nmetadata: { name: p, namespace: istio-system }\nspec: { components: { ingressGateways: { name: x } }, meshConfig: "rootNamespace: x" }';
    // WHEN
    const report = Explainer.fromYaml(docs(listMesh, mapMesh, operator));
    // THEN
    expect(messages(report, FindingSeverity.ERROR).map(m => m.replace(/ \(input document \d\)/, ''))).toEqual([
      'error ConfigMap istio-system/istio-a: data.mesh [{"rootNamespace":"x"}] is not allowed: use a map of meshConfig fields (rootNamespace, defaultConfig, ...); explain ignores it',
      'error IstioOperator istio-system/p: spec.meshConfig "rootNamespace: x" is not allowed: use a map; explain ignores it',
      'error IstioOperator istio-system/p: spec.components.ingressGateways {"name":"x"} is not allowed: use a list of gateways; explain ignores it',
    ]);
    expect(report.skipped.map(s => `${s.object}: ${s.reason}`)).toEqual([
      'ConfigMap istio-system/istio-b: data.mesh {"rootNamespace":"x"} is not a string: ConfigMap data values are strings, so the API server refuses it and istiod cannot read it',
    ]);
  });

  test('a Helm values file given as a manifest is skipped with the option that reads it', () => {
    const report = Explainer.fromYaml(docs('meshConfig:\n  rootNamespace: x', 'podAnnotations: { a: b }\nservice: { type: LoadBalancer }'));
    expect(report.skipped.map(s => s.fix)).toEqual([
      'pass the values file with --helm-values istiod=<file> (ExplainOptions.helmValues in the library)',
      'pass the values file with --helm-values gateway=<file> (ExplainOptions.helmValues in the library)',
    ]);
  });

  test('a "__proto__" key in Helm values is a key, never the values\' prototype', () => {
    const values = JSON.parse('{"_internal_defaults_do_not_set": {"__proto__": {"meshConfig": {"rootNamespace": "evil"}}}, "__proto__": {"global": {"istioNamespace": "evil"}}}');
    const parsed = parse('', [{ chart: HelmChart.ISTIOD, values }]);
    expect(parsed.rootNamespaces).toEqual(['istio-system']);
    expect(({} as any).meshConfig).toBeUndefined();
  });

  test('fails on bad helmValues in the library with a message naming the field', () => {
    expect(() => Explainer.fromManifests([], { helmValues: [{ chart: 'helm' as any, values: {} }] })).toThrow(
      'helmValues[0].chart "helm" is not allowed: use HelmChart.ISTIOD or HelmChart.GATEWAY');
    expect(() => Explainer.fromManifests([], { helmValues: [{ chart: HelmChart.GATEWAY, values: [] as any }] })).toThrow(
      'helmValues[0].values [] is not a map: give the parsed values file, e.g. { meshConfig: { ... } }');
  });

  test('fails on gateway values of the wrong type: ERROR findings, the gateway still traced', () => {
    const parsed = parse('', [{ chart: HelmChart.GATEWAY, values: { labels: 'web', podAnnotations: { 'proxy.istio.io/config': { gatewayTopology: {} } }, kind: 'StatefulSet', service: 'Local' }, source: 'gw.yaml' }]);
    expect(messages(parsed, FindingSeverity.ERROR)).toEqual([
      'error gw.yaml: labels "web" is not allowed: use a map of names to strings; explain ignores it',
      'error gw.yaml: service "Local" is not allowed: use a map; explain ignores it',
      'error gw.yaml: kind "StatefulSet" is not allowed: use one of Deployment, DaemonSet (case-sensitive); explain ignores it',
      'error gw.yaml: podAnnotations.proxy.istio.io/config {"gatewayTopology":{}} is not allowed: use a string; explain ignores it',
    ]);
    expect(parsed.gateways.map(g => g.model.name)).toEqual(['istio-ingressgateway']);
  });
});

describe('command line: --helm-values', () => {
  const manifests = { 'm.yaml': gatewayYaml({ etp: 'Local' }) };

  test('reads istiod and gateway values (both option forms); exit 0', () => {
    // GIVEN
    const files = { ...manifests, 'istiod.yaml': 'meshConfig:\n  defaultConfig:\n    gatewayTopology: { numTrustedProxies: 2 }\n', 'gw.yaml': 'service: { externalTrafficPolicy: Local }\n' };
    // WHEN
    const result = runCli(['explain', '--json', '--helm-values', 'istiod=istiod.yaml', '--helm-values=gateway:edge/public=gw.yaml', 'm.yaml'], files);
    // THEN
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.out);
    expect(json.paths.map((p: any) => p.title)).toEqual(['north-south: gateway istio-ingress/ingressgateway', 'north-south: gateway edge/public']);
    expect(JSON.stringify(json)).toMatch(/comes from meshConfig\.defaultConfig\.gatewayTopology in istiod Helm values istiod\.yaml/);
  });

  test.each([
    [['--helm-values', 'istiod'], '--helm-values "istiod" is not chart[:namespace/release]=file'],
    [['--helm-values', 'helm=x.yaml'], '--helm-values: chart "helm" is not read by explain: use istiod or gateway'],
    [['--helm-values', 'gateway:edge=x.yaml'], '--helm-values "gateway:edge=x.yaml" is not chart[:namespace/release]=file'],
    [['--helm-values', 'istiod=missing.yaml'], 'cannot read manifests: missing.yaml: no such file'],
    [['--helm-values', 'istiod=two.yaml'], 'cannot read manifests: two.yaml: holds 2 YAML documents: a Helm values file is one map'],
    [['--helm-values', 'istiod=list.yaml'], 'cannot read manifests: list.yaml: document 1 is a list, not a map of Helm values'],
    [['--helm-values', 'istiod=bad.yaml'], 'cannot read manifests: bad.yaml: document 1 is not valid YAML at line 2, column 1'],
  ])('fails with exit 2 and one message: %j', (args, message) => {
    const files = { ...manifests, 'two.yaml': 'a: 1\n---\nb: 2\n', 'list.yaml': '- a\n', 'bad.yaml': 'meshConfig: [\n' };
    const result = runCli(['explain', ...args, 'm.yaml'], files);
    expect(result.code).toBe(2);
    expect(result.out).toBe('');
    expect(result.err.split('\n')[0]).toContain(message);
    expect(result.err).not.toMatch(/\n\s+at /);
  });

  test('an ERROR from the mesh settings fails the run with --fail-on-error (exit 1), and only then', () => {
    // GIVEN istiod values whose gatewayTopology has a bad hop count
    const files = { ...manifests, 'istiod.yaml': 'meshConfig: { defaultConfig: { gatewayTopology: { numTrustedProxies: -1 } } }\n' };
    // WHEN / THEN
    const failing = runCli(['explain', '--fail-on-error', '--helm-values', 'istiod=istiod.yaml', 'm.yaml'], files);
    expect(failing.code).toBe(1);
    expect(failing.out).toMatch(/ERROR istiod Helm values istiod\.yaml: meshConfig\.defaultConfig\.gatewayTopology\.numTrustedProxies -1 is not allowed/);
    expect(runCli(['explain', '--helm-values', 'istiod=istiod.yaml', 'm.yaml'], files).code).toBe(0);
  });

  test('an empty values file is no values; exit 0', () => {
    const result = runCli(['explain', '--helm-values', 'istiod=empty.yaml', 'm.yaml'], { ...manifests, 'empty.yaml': '# nothing\n' });
    expect(result.code).toBe(0);
    expect(result.err).toBe('');
  });
});
