import { ApiObject, Chart, Testing } from 'cdk8s';
import {
  AmbientNamespace, AmbientWorkload, ClientIpField, Explainer, FindingSeverity, SourceIpWarnings, TproxyWorkload,
  Waypoint, WaypointFor, WorkloadSource,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';
import { assertRoundTrip } from '../property/round-trip';

function chart(): Chart {
  return new Chart(Testing.app(), 'test');
}

function messages(scope: { node: any }): string[] {
  return SourceIpWarnings.of(scope as any).map(w => w.message);
}

describe('Waypoint', () => {
  test('renders a Gateway of class istio-waypoint with the HBONE listener', () => {
    // GIVEN
    const c = chart();
    // WHEN
    new Waypoint(c, 'Waypoint', { namespace: 'web' });
    // THEN
    const manifests = synthAndValidate(c);
    expect(manifests).toMatchSnapshot();
    expect(findManifest(manifests, 'Gateway', 'waypoint')).toMatchObject({
      apiVersion: 'gateway.networking.k8s.io/v1',
      metadata: { namespace: 'web', labels: { 'istio.io/waypoint-for': 'service' } },
      spec: { gatewayClassName: 'istio-waypoint', listeners: [{ name: 'mesh', port: 15008, protocol: 'HBONE' }] },
    });
  });

  test('allowFrom attaches an ALLOW on remoteIpBlocks with targetRefs to the waypoint, without a selector', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'web', waypointFor: WaypointFor.ALL });
    new AmbientNamespace(c, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true });
    // WHEN
    waypoint.allowFrom(['203.0.113.0/24']);
    waypoint.denyFrom(['198.51.100.7'], { field: ClientIpField.IP_BLOCKS });
    // THEN
    const manifests = synthAndValidate(c);
    expect(manifests).toMatchSnapshot();
    const [allow, deny] = manifestsOfKind(manifests, 'AuthorizationPolicy');
    expect(allow.spec).toEqual({
      action: 'ALLOW',
      targetRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'waypoint' }],
      rules: [{ from: [{ source: { remoteIpBlocks: ['203.0.113.0/24'] } }] }],
    });
    expect(deny.spec.rules[0].from[0].source).toEqual({ ipBlocks: ['198.51.100.7/32'] });
    expect(findManifest(manifests, 'Gateway', 'waypoint').metadata.labels['istio.io/waypoint-for']).toBe('all');
  });

  test('warns that in-mesh callers write the rightmost X-Forwarded-For entry, and when ingress skips the waypoint', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'web' });
    new AmbientNamespace(c, 'Web', { name: 'web', waypoint });
    AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' }, namespace: 'web' });
    // WHEN
    const policy = waypoint.allowFrom(['203.0.113.0/24']);
    Testing.synth(c);
    // THEN
    expect(messages(policy).join('\n')).toMatch(/an in-mesh caller that reaches the waypoint directly writes that entry itself/);
    expect(messages(policy).join('\n')).toMatch(/requests from ingress gateways skip the waypoint and this policy never sees them; set ingressUseWaypoint/);
  });

  test('forService attaches policies with targetRefs of kind Service, and explain enforces them on that waypoint', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'web' });
    new AmbientNamespace(c, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true });
    new ApiObject(c, 'Svc', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'httpbin', namespace: 'web' }, spec: { selector: { app: 'httpbin' }, ports: [{ port: 8000 }] } });
    new ApiObject(c, 'Pods', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'httpbin', namespace: 'web' },
      spec: { selector: { matchLabels: { app: 'httpbin' } }, template: { metadata: { labels: { app: 'httpbin' } }, spec: { containers: [{ name: 'app', image: 'httpbin' }] } } },
    });
    AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' }, namespace: 'web' });
    // WHEN
    waypoint.forService('httpbin').allowFrom(['203.0.113.0/24']);
    // THEN
    const manifests = synthAndValidate(c);
    const [policy] = manifestsOfKind(manifests, 'AuthorizationPolicy');
    expect(policy.spec.targetRefs).toEqual([{ group: '', kind: 'Service', name: 'httpbin' }]);
    expect(policy.spec.selector).toBeUndefined();
    assertRoundTrip(c, manifests);
    const eastWest = Explainer.fromChart(c).paths.find(p => p.direction === 'east-west')!;
    expect(eastWest.hops.find(h => h.hop === 'waypoint web/waypoint')!.policies).toEqual([expect.objectContaining({ field: 'remoteIpBlocks', matches: false })]);
    expect(waypoint.forService('httpbin')).toBe(waypoint.forService('httpbin'));
  });

  test('fails with waypointFor none and policies attached', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { waypointFor: WaypointFor.NONE });
    // WHEN
    waypoint.allowFrom(['203.0.113.0/24']);
    // THEN
    expect(() => Testing.synth(c)).toThrow(/waypointFor none, so it handles no traffic and its 1 policies never apply: set waypointFor/);
  });

  test('fails on a name that is not a DNS label', () => {
    expect(() => new Waypoint(chart(), 'Waypoint', { name: 'Way_point' })).toThrow(/name/);
  });
});

describe('AmbientNamespace', () => {
  test('renders the ambient labels and the waypoint it uses', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'mesh-infra' });
    // WHEN
    new AmbientNamespace(c, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true, labels: { team: 'a' } });
    // THEN
    const ns = findManifest(synthAndValidate(c), 'Namespace', 'web');
    expect(ns.metadata.labels).toEqual({
      'team': 'a',
      'istio.io/dataplane-mode': 'ambient',
      'istio.io/use-waypoint': 'waypoint',
      'istio.io/use-waypoint-namespace': 'mesh-infra',
      'istio.io/ingress-use-waypoint': 'true',
    });
  });

  test('fails with ingressUseWaypoint and no waypoint', () => {
    expect(() => new AmbientNamespace(chart(), 'Web', { name: 'web', ingressUseWaypoint: true }))
      .toThrow(/ingressUseWaypoint true is not allowed without a waypoint.*pass waypoint, or remove ingressUseWaypoint/);
  });

  test('fails when labels set an ambient label itself', () => {
    expect(() => new AmbientNamespace(chart(), 'Web', { name: 'web', labels: { 'istio.io/use-waypoint': 'x' } }))
      .toThrow(/labels key "istio.io\/use-waypoint" is not allowed/);
  });
});

describe('AmbientWorkload', () => {
  test('policies on ztunnel use ipBlocks and select the pods', () => {
    // GIVEN
    const c = chart();
    new AmbientNamespace(c, 'Web', { name: 'web' });
    const app = AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' }, namespace: 'web' });
    // WHEN
    app.allowFrom(['10.244.0.0/16'], { ports: [80] });
    // THEN
    const [policy] = manifestsOfKind(synthAndValidate(c), 'AuthorizationPolicy');
    expect(policy.spec).toEqual({
      selector: { matchLabels: { app: 'httpbin' } },
      action: 'ALLOW',
      rules: [{ from: [{ source: { ipBlocks: ['10.244.0.0/16'] } }], to: [{ operation: { ports: ['80'] } }] }],
    });
  });

  test('fails on remoteIpBlocks, naming the waypoint as the fix', () => {
    // GIVEN
    const c = chart();
    const app = AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' } });
    // WHEN
    app.denyFrom(['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
    // THEN
    expect(() => Testing.synth(c)).toThrow(/ztunnel treats remoteIpBlocks as an HTTP attribute, so istiod enforces this DENY without its HTTP attributes, so it denies every caller on its ports, whatever the request; .*deploy a Waypoint and attach the policy to it with targetRefs/);
  });

  test('fails on an L7-only DENY', () => {
    // GIVEN
    const c = chart();
    const app = AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' } });
    // WHEN
    app.denyFrom(['10.0.0.0/8'], { methods: ['POST'] });
    // THEN
    expect(() => Testing.synth(c)).toThrow(/paths and methods are not supported on ambient workload "default\/httpbin".*Waypoint/);
  });

  test('fails on an ALLOW enforced by ztunnel behind a waypoint: ztunnel sees the waypoint', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint');
    const app = AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' }, waypoint, ingressUseWaypoint: true });
    // WHEN
    app.allowFrom(['203.0.113.0/24']);
    // THEN
    expect(() => Testing.synth(c)).toThrow(/sees the waypoint "default\/waypoint" as the source of every request that passes it.*attach the policy to the waypoint instead/);
  });

  test('warns that the app sees the waypoint, and that ingress skips it without ingressUseWaypoint', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'web' });
    new AmbientNamespace(c, 'Web', { name: 'web', waypoint });
    // WHEN
    const app = AmbientWorkload.fromLabels(c, 'App', { labels: { app: 'httpbin' }, namespace: 'web' });
    Testing.synth(c);
    // THEN
    expect(app._workloadModel()).toMatchObject({ role: 'ambient', waypoint: 'web/waypoint' });
    expect(messages(app)).toEqual([
      expect.stringMatching(/the app's socket peer is the waypoint pod for every caller that passes it/),
      expect.stringMatching(/without ingressUseWaypoint: traffic from ingress gateways skips the waypoint/),
    ]);
  });
});

describe('TproxyWorkload on ambient pods', () => {
  const source = () => WorkloadSource.newDeployment({ image: 'docker.io/kong/httpbin', namespace: 'web', labels: { app: 'httpbin' } });

  test('fails in an AmbientNamespace', () => {
    // GIVEN
    const c = chart();
    new AmbientNamespace(c, 'Web', { name: 'web' });
    // WHEN
    new TproxyWorkload(c, 'App', { source: source() });
    // THEN
    expect(() => Testing.synth(c)).toThrow(/is a TproxyWorkload, but namespace "web" is in ambient mode \(test\/Web\): ambient pods have no sidecar.*use AmbientWorkload.fromLabels/);
  });

  test('fails in a Namespace the user labelled ambient', () => {
    // GIVEN
    const c = chart();
    new ApiObject(c, 'Ns', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'web', labels: { 'istio.io/dataplane-mode': 'ambient' } } });
    // WHEN
    new TproxyWorkload(c, 'App', { source: source() });
    // THEN
    expect(() => Testing.synth(c)).toThrow(/namespace "web" is in ambient mode \(test\/Ns\)/);
  });

  test('fails on pods labelled ambient', () => {
    // GIVEN
    const c = chart();
    // WHEN
    new TproxyWorkload(c, 'App', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/kong/httpbin', labels: { 'app': 'httpbin', 'istio.io/dataplane-mode': 'ambient' } }),
    });
    // THEN
    expect(() => Testing.synth(c)).toThrow(/its pods are labelled istio.io\/dataplane-mode: ambient/);
  });
});

describe('explain on ambient manifests', () => {
  function gatewayToAmbient(serviceLabels: string, policies: string): string {
    return [
      'apiVersion: v1\nkind: Namespace\nmetadata: { name: web, labels: { istio.io/dataplane-mode: ambient } }',
      'apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: { name: waypoint, namespace: web }\nspec: { gatewayClassName: istio-waypoint, listeners: [{ name: mesh, port: 15008, protocol: HBONE }] }',
      `apiVersion: v1\nkind: Service\nmetadata: { name: httpbin, namespace: web, labels: { ${serviceLabels} } }\nspec: { selector: { app: httpbin }, ports: [{ port: 8000, targetPort: 80 }] }`,
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: httpbin, namespace: web }\nspec: { selector: { matchLabels: { app: httpbin } }, template: { metadata: { labels: { app: httpbin } } } }',
      'apiVersion: v1\nkind: Service\nmetadata: { name: ingressgateway, namespace: istio-ingress }\nspec: { type: LoadBalancer, externalTrafficPolicy: Local, selector: { istio: ingressgateway } }',
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: ingressgateway, namespace: istio-ingress }\nspec: { template: { metadata: { labels: { istio: ingressgateway } } } }',
      policies,
    ].join('\n---\n');
  }
  const waypointAllow = 'apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: { name: offices, namespace: web }\n'
    + 'spec: { targetRefs: [{ group: gateway.networking.k8s.io, kind: Gateway, name: waypoint }], rules: [{ from: [{ source: { remoteIpBlocks: [203.0.113.0/24] } }] }] }';

  test('reads the waypoint, the Service label and the targetRefs policy, and traces the waypoint hop', () => {
    // GIVEN
    const yaml = gatewayToAmbient('istio.io/use-waypoint: waypoint, istio.io/ingress-use-waypoint: "true"', waypointAllow);
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    const northSouth = report.paths.find(p => p.direction === 'north-south' && p.title.includes('web/httpbin'))!;
    expect(northSouth.appSocketPeer).toBe('10.244.3.7');
    const waypointHop = northSouth.hops.find(h => h.hop === 'waypoint web/waypoint')!;
    expect(waypointHop).toMatchObject({ socketPeer: '10.244.0.5', clientAddress: '203.0.113.10' });
    expect(waypointHop.policies).toEqual([expect.objectContaining({ policy: 'web/offices', field: 'remoteIpBlocks', matches: true })]);
    expect(report.skipped.map(s => s.object)).toEqual([]);
    expect(report.allFindings().map(f => f.message).join('\n')).not.toMatch(/targetRefs is ignored/);
  });

  test('without ingress-use-waypoint, ingress skips the waypoint: the app sees the gateway pod, and the policy is flagged', () => {
    // GIVEN
    const yaml = gatewayToAmbient('istio.io/use-waypoint: waypoint', waypointAllow);
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    const northSouth = report.paths.find(p => p.direction === 'north-south' && p.title.includes('web/httpbin'))!;
    expect(northSouth.appSocketPeer).toBe('10.244.0.5');
    expect(northSouth.findings).toContainEqual(expect.objectContaining({
      severity: FindingSeverity.WARNING, message: expect.stringMatching(/skips waypoint web\/waypoint \(no istio.io\/ingress-use-waypoint\)/),
    }));
  });

  test('the use-waypoint "none" value on the pods opts out of the namespace waypoint', () => {
    // GIVEN
    const yaml = gatewayToAmbient('team: a', waypointAllow)
      .replace('istio.io/dataplane-mode: ambient', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')
      .replace('template: { metadata: { labels: { app: httpbin } } }', 'template: { metadata: { labels: { app: httpbin, istio.io/use-waypoint: none } } }');
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    const eastWest = report.paths.find(p => p.direction === 'east-west' && p.title.includes('web/httpbin'))!;
    expect(eastWest.appSocketPeer).toBe('10.244.2.9');
  });

  test('the waypoint\'s own Deployment is neither an ingress gateway nor a workload', () => {
    // GIVEN a cluster dump that holds the Deployment istiod made for the waypoint
    const yaml = gatewayToAmbient('istio.io/use-waypoint: waypoint', waypointAllow) + '\n---\n'
      + 'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: waypoint, namespace: web }\n'
      + 'spec: { template: { metadata: { labels: { gateway.networking.k8s.io/gateway-name: waypoint } } } }';
    // WHEN
    const report = Explainer.fromYaml(yaml);
    // THEN
    expect(report.paths.map(p => p.title)).toEqual([
      'north-south: gateway istio-ingress/ingressgateway -> workload web/httpbin',
      'east-west: pod 10.244.2.9 -> workload web/httpbin',
    ]);
  });

  test('an interception mode annotation on ambient pods is a warning: there is no sidecar', () => {
    // GIVEN
    const yaml = gatewayToAmbient('team: a', waypointAllow)
      .replace('template: { metadata: { labels: { app: httpbin } } }', 'template: { metadata: { labels: { app: httpbin }, annotations: { sidecar.istio.io/interceptionMode: TPROXY } } }');
    // WHEN
    const findings = Explainer.fromYaml(yaml).allFindings();
    // THEN
    expect(findings).toContainEqual(expect.objectContaining({
      severity: FindingSeverity.WARNING, where: 'workload web/httpbin', message: expect.stringMatching(/interceptionMode "TPROXY" does nothing: the pods are in ambient mode/),
    }));
  });

  test('a workload naming a waypoint not in the input is a warning', () => {
    // GIVEN
    const yaml = gatewayToAmbient('istio.io/use-waypoint: elsewhere', waypointAllow);
    // WHEN
    const findings = Explainer.fromYaml(yaml).allFindings();
    // THEN
    expect(findings).toContainEqual(expect.objectContaining({ severity: FindingSeverity.WARNING, message: expect.stringMatching(/names waypoint web\/elsewhere, which is not in the input/) }));
  });

  test('explain runs the waypoint checks on a construct-made policy, attached through its targetRefs', () => {
    // GIVEN
    const c = chart();
    const waypoint = new Waypoint(c, 'Waypoint', { namespace: 'web' });
    new AmbientNamespace(c, 'Web', { name: 'web', waypoint, ingressUseWaypoint: true });
    waypoint.allowFrom(['203.0.113.0/24']);
    // WHEN
    const report = Explainer.fromChart(c);
    // THEN
    const checks = report.allFindings().filter(f => f.where.startsWith('AuthorizationPolicy web/'));
    expect(checks.map(f => f.message)).toEqual([expect.stringMatching(/on waypoint "web\/waypoint" matches the rightmost X-Forwarded-For entry/)]);
  });
});
