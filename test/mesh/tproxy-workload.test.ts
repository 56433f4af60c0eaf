import { ApiObject, Chart, Testing } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { IConstruct } from 'constructs';
import {
  ClientIpField, InterceptionMode, IstioVersion, MeshWorkload, PolicyAction, ProxyRole, SidecarXffMode,
  SourceIpWarnings, TproxyWorkload, WorkloadSource, XffFilterScope, XffSidecarFilter, XffTrust,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

const ANNOTATION = 'sidecar.istio.io/interceptionMode';

function warningsOf(construct: IConstruct): string[] {
  return SourceIpWarnings.messages(construct);
}

/** The seeds' httpbin Deployment (ASM), as plain YAML turned into an ApiObject. */
function seedHttpbin(chart: Chart, templateMetadata: any = { labels: { app: 'httpbin', version: 'v1' } }): ApiObject {
  return new ApiObject(chart, 'httpbin', {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'httpbin', namespace: 'default' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
      template: {
        ...(templateMetadata === null ? {} : { metadata: templateMetadata }),
        spec: { containers: [{ image: 'docker.io/citizenstig/httpbin', imagePullPolicy: 'IfNotPresent', name: 'httpbin', ports: [{ containerPort: 8000 }] }] },
      },
    },
  });
}

/** The Tetrate article's echo-server (`kubectl create deployment echo-server --image=registry.k8s.io/echoserver:1.4`). */
function tetrateEchoServer(chart: Chart): kplus.Deployment {
  return new kplus.Deployment(chart, 'echo-server', {
    metadata: { name: 'echo-server', namespace: 'default' },
    containers: [{ image: 'registry.k8s.io/echoserver:1.4', ports: [{ number: 8080 }], securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false } }],
    securityContext: { ensureNonRoot: false },
  });
}

describe('seed scenarios (east-west)', () => {
  for (const istioVersion of IstioVersion.all()) {
    describe(`Istio ${istioVersion.label}`, () => {
      test('ASM Method 1: TPROXY on the httpbin pod template, like `kubectl patch deployment httpbin`', () => {
        // GIVEN the seed's httpbin Deployment
        const chart = Testing.chart();
        const httpbin = seedHttpbin(chart);
        // WHEN
        const workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromApiObject(httpbin), istioVersion });
        // THEN the pod template carries exactly the seed's annotation and nothing else changed
        const manifests = synthAndValidate(chart, { istioVersion });
        const deployment = findManifest(manifests, 'Deployment', 'httpbin');
        expect(deployment.spec.template.metadata).toEqual({ labels: { app: 'httpbin', version: 'v1' }, annotations: { [ANNOTATION]: 'TPROXY' } });
        expect(deployment.spec.selector).toEqual({ matchLabels: { app: 'httpbin', version: 'v1' } });
        expect(manifests).toHaveLength(1);
        expect(workload._workloadModel()).toEqual({
          name: 'httpbin',
          namespace: 'default',
          selector: { app: 'httpbin', version: 'v1' },
          role: ProxyRole.SIDECAR,
          interceptionMode: InterceptionMode.TPROXY,
          xffMode: SidecarXffMode.DEFAULT,
        });
        expect(manifests).toMatchSnapshot();
      });

      test('Tetrate Test 3 and Test 4: TPROXY, then back to REDIRECT, on the echo-server Deployment', () => {
        for (const mode of [InterceptionMode.TPROXY, InterceptionMode.REDIRECT]) {
          // GIVEN the echo-server as a cdk8s-plus Deployment
          const chart = Testing.chart();
          const echo = tetrateEchoServer(chart);
          // WHEN
          const workload = new TproxyWorkload(chart, 'Mode', { source: WorkloadSource.fromWorkload(echo), interceptionMode: mode, istioVersion });
          // THEN
          const deployment = findManifest(synthAndValidate(chart, { istioVersion }), 'Deployment');
          expect(deployment.spec.template.metadata.annotations).toEqual({ [ANNOTATION]: mode });
          expect(workload._workloadModel()!.interceptionMode).toBe(mode);
          expect(workload.targetSelector).toEqual(echo.matchLabels);
        }
      });

      test('ASM Scenario 1 (REDIRECT, the default): the warning says the app sees 127.0.0.6', () => {
        // GIVEN
        const chart = Testing.chart();
        // WHEN
        const workload = new TproxyWorkload(chart, 'Redirect', { source: WorkloadSource.fromApiObject(seedHttpbin(chart)), interceptionMode: InterceptionMode.REDIRECT, istioVersion });
        // THEN
        const deployment = findManifest(synthAndValidate(chart, { istioVersion }), 'Deployment');
        expect(deployment.spec.template.metadata.annotations[ANNOTATION]).toBe('REDIRECT');
        expect(warningsOf(workload).join('\n')).toMatch(/socket peer is 127\.0\.0\.6/);
      });
    });
  }
});

describe('pod templates', () => {
  test('newDeployment creates the seed httpbin Deployment and Service with the annotation', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const workload = new TproxyWorkload(chart, 'Httpbin', {
      source: WorkloadSource.newDeployment({
        image: 'docker.io/citizenstig/httpbin', name: 'httpbin', port: 8000, servicePort: 8000, labels: { app: 'httpbin', version: 'v1' },
      }),
    });
    // THEN
    const manifests = synthAndValidate(chart);
    const deployment = findManifest(manifests, 'Deployment', 'httpbin');
    expect(deployment.spec.template.metadata.annotations).toEqual({ [ANNOTATION]: 'TPROXY' });
    // The namespace is written out even when defaulted, so the policies on the workload land next to it.
    expect(deployment.metadata.namespace).toBe('default');
    expect(deployment.spec.selector.matchLabels).toEqual({ app: 'httpbin', version: 'v1' });
    expect(deployment.spec.template.spec.containers[0]).toMatchObject({ image: 'docker.io/citizenstig/httpbin', ports: [{ containerPort: 8000 }] });
    const service = findManifest(manifests, 'Service', 'httpbin');
    expect(service.spec.ports).toEqual([{ name: 'http', port: 8000, targetPort: 8000 }]);
    expect(workload.targetSelector).toEqual({ app: 'httpbin', version: 'v1' });
    expect(workload.service).toBeDefined();
    expect(manifests).toMatchSnapshot();
  });

  test.each([
    ['StatefulSet', (c: Chart) => new kplus.StatefulSet(c, 'W', { containers: [{ image: 'x' }], service: new kplus.Service(c, 'S', { ports: [{ port: 80 }] }) })],
    ['DaemonSet', (c: Chart) => new kplus.DaemonSet(c, 'W', { containers: [{ image: 'x' }] })],
    ['Job', (c: Chart) => new kplus.Job(c, 'W', { containers: [{ image: 'x' }] })],
  ])('annotates the pod template of a cdk8s-plus %s', (kind, make) => {
    // GIVEN
    const chart = Testing.chart();
    const workload = make(chart);
    // WHEN
    new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(workload) });
    // THEN
    const manifest = findManifest(synthAndValidate(chart), kind);
    expect(manifest.spec.template.metadata.annotations[ANNOTATION]).toBe('TPROXY');
  });

  test.each([
    ['with labels but no annotations', { labels: { app: 'httpbin', version: 'v1' } }],
    ['with other annotations, which are kept', { labels: { app: 'httpbin', version: 'v1' }, annotations: { 'prometheus.io/scrape': 'true' } }],
  ])('patches an ApiObject %s', (_name, templateMetadata) => {
    // GIVEN
    const chart = Testing.chart();
    const httpbin = seedHttpbin(chart, templateMetadata);
    // WHEN
    new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromApiObject(httpbin) });
    // THEN
    const metadata = findManifest(synthAndValidate(chart), 'Deployment').spec.template.metadata;
    expect(metadata.annotations).toEqual({ ...(templateMetadata as any)?.annotations, [ANNOTATION]: 'TPROXY' });
    expect(metadata.labels).toEqual((templateMetadata as any)?.labels ?? undefined);
  });

  test.each([
    ['without template metadata', null],
    ['whose template lacks a label of its selector', { labels: { app: 'httpbin' } }],
  ])('fails on an ApiObject Deployment %s: the API server rejects it, and policies on it would reach none of its pods', (_name, templateMetadata) => {
    // GIVEN a Deployment whose selector (app, version) does not select its own pod template
    const chart = Testing.chart();
    const httpbin = seedHttpbin(chart, templateMetadata);
    // WHEN / THEN
    expect(() => new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromApiObject(httpbin) }))
      .toThrow(/^source Deployment httpbin: spec\.selector\.matchLabels \{"app":"httpbin","version":"v1"\} does not select its pod template's labels .*; add the selector's labels to spec\.template\.metadata\.labels/);
  });

  test('an existing interceptionMode annotation is replaced, not duplicated (the key is JSON-pointer escaped)', () => {
    // GIVEN a template that is already REDIRECT
    const chart = Testing.chart();
    const httpbin = seedHttpbin(chart, { labels: { app: 'httpbin', version: 'v1' }, annotations: { [ANNOTATION]: 'REDIRECT' } });
    // WHEN
    new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromApiObject(httpbin) });
    // THEN
    expect(findManifest(synthAndValidate(chart), 'Deployment').spec.template.metadata.annotations).toEqual({ [ANNOTATION]: 'TPROXY' });
  });

  test('the namespace comes from the workload, else the chart, else "default"', () => {
    const app = Testing.app();
    const chart = new Chart(app, 'apps', { namespace: 'apps' });
    const inChart = new TproxyWorkload(chart, 'A', { source: WorkloadSource.newDeployment({ image: 'x' }) });
    const explicit = new TproxyWorkload(chart, 'B', { source: WorkloadSource.newDeployment({ image: 'x', namespace: 'other' }) });
    const plain = new TproxyWorkload(Testing.chart(), 'C', { source: WorkloadSource.newDeployment({ image: 'x' }) });
    expect([inChart.targetNamespace, explicit.targetNamespace, plain.targetNamespace]).toEqual(['apps', 'other', 'default']);
    expect(inChart.targetSelector).toEqual({ app: 'a' });
  });
});

describe('guardrails', () => {
  test('TPROXY warns about NET_ADMIN and root, node kernels (CentOS) and the L4-only peer', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromApiObject(seedHttpbin(chart)) });
    // THEN
    const warnings = warningsOf(workload).join('\n');
    expect(warnings).toMatch(/NET_ADMIN.*Pod Security baseline and restricted/);
    expect(warnings).toMatch(/xt_TPROXY.*CentOS/);
    expect(warnings).toMatch(/gateway pod IP/);
  });

  test('NONE warns that no policy applies and about istio-cni, unless istioCni is false', () => {
    const chart = Testing.chart();
    const unknown = new TproxyWorkload(chart, 'A', { source: WorkloadSource.newDeployment({ image: 'x', name: 'a' }), interceptionMode: InterceptionMode.NONE });
    const cni = new TproxyWorkload(chart, 'B', { source: WorkloadSource.newDeployment({ image: 'x' }), interceptionMode: InterceptionMode.NONE, istioCni: true });
    const init = new TproxyWorkload(chart, 'C', { source: WorkloadSource.newDeployment({ image: 'x' }), interceptionMode: InterceptionMode.NONE, istioCni: false });
    expect(warningsOf(unknown).join('\n')).toMatch(/istio-cni may be installed.*accepts only REDIRECT and TPROXY/);
    expect(warningsOf(cni).join('\n')).toMatch(/uses NONE: the istio-cni plugin accepts only REDIRECT and TPROXY/);
    expect(warningsOf(init).join('\n')).not.toMatch(/istio-cni/);
    expect(warningsOf(init).join('\n')).toMatch(/no mTLS or AuthorizationPolicy/);
    expect(findManifest(synthAndValidate(chart), 'Deployment', 'a').spec.template.metadata.annotations[ANNOTATION]).toBe('NONE');
  });

  test.each([
    ['kplus.Namespace labelled restricted', (c: Chart) => new kplus.Namespace(c, 'Ns', { metadata: { name: 'default', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } }), 'restricted'],
    ['ApiObject Namespace labelled baseline', (c: Chart) => new ApiObject(c, 'Ns', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { 'pod-security.kubernetes.io/enforce': 'baseline' } } }), 'baseline'],
  ])('fails TPROXY when the app has a %s for the workload namespace', (_name, makeNamespace, level) => {
    // GIVEN
    const chart = Testing.chart();
    makeNamespace(chart);
    // WHEN
    new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromApiObject(seedHttpbin(chart)) });
    // THEN
    expect(() => Testing.synth(chart)).toThrow(new RegExp(`uses TPROXY, but Namespace .* sets pod-security.kubernetes.io/enforce: ${level}, which rejects istio-proxy's NET_ADMIN`));
  });

  test('TPROXY is fine in a privileged namespace, and REDIRECT in a restricted one', () => {
    const chart = Testing.chart();
    new kplus.Namespace(chart, 'Priv', { metadata: { name: 'priv', labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } } });
    new kplus.Namespace(chart, 'Restricted', { metadata: { name: 'locked', labels: { 'pod-security.kubernetes.io/enforce': 'restricted' } } });
    new TproxyWorkload(chart, 'A', { source: WorkloadSource.newDeployment({ image: 'x', namespace: 'priv' }) });
    new TproxyWorkload(chart, 'B', { source: WorkloadSource.newDeployment({ image: 'x', namespace: 'locked' }), interceptionMode: InterceptionMode.REDIRECT });
    expect(() => synthAndValidate(chart)).not.toThrow();
  });

  test('fails an interception mode that is not exactly REDIRECT, TPROXY or NONE', () => {
    const chart = Testing.chart();
    expect(() => new TproxyWorkload(chart, 'T', { source: WorkloadSource.newDeployment({ image: 'x' }), interceptionMode: 'tproxy' as InterceptionMode }))
      .toThrow(/interceptionMode "tproxy" is not allowed: use InterceptionMode.REDIRECT, TPROXY or NONE/);
  });

  test('fails an ApiObject without spec.template', () => {
    const chart = Testing.chart();
    const pod = new ApiObject(chart, 'Pod', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'c', image: 'x' }] } });
    expect(() => new TproxyWorkload(chart, 'T', { source: WorkloadSource.fromApiObject(pod) })).toThrow(/apiObject Pod "p" has no spec.template/);
  });

  test('fails two TproxyWorkloads on the same workload', () => {
    const chart = Testing.chart();
    const httpbin = seedHttpbin(chart);
    new TproxyWorkload(chart, 'A', { source: WorkloadSource.fromApiObject(httpbin) });
    new TproxyWorkload(chart, 'B', { source: WorkloadSource.fromApiObject(httpbin), interceptionMode: InterceptionMode.REDIRECT });
    expect(() => Testing.synth(chart)).toThrow(/workload Deployment "httpbin" .* gets sidecar.istio.io\/interceptionMode from both "test\/A" and "test\/B"/);
  });

  test('fails without a source, and a newDeployment without image or with a Service but no port', () => {
    const chart = Testing.chart();
    expect(() => new TproxyWorkload(chart, 'A', {} as any)).toThrow(/source is required/);
    expect(() => new TproxyWorkload(chart, 'B', { source: WorkloadSource.newDeployment({ image: '' }) })).toThrow(/newDeployment image "" is not allowed/);
    expect(() => new TproxyWorkload(chart, 'C', { source: WorkloadSource.newDeployment({ image: 'x', servicePort: 80 }) })).toThrow(/servicePort 80 needs port/);
    expect(() => new TproxyWorkload(chart, 'D', { source: WorkloadSource.newDeployment({ image: 'x', port: 70000 }) })).toThrow(/port 70000 is not a valid port/);
  });
});

describe('workload model', () => {
  test('includes the XffSidecarFilter that selects the pods, computed when asked', () => {
    // GIVEN
    const chart = Testing.chart();
    const workload = new TproxyWorkload(chart, 'Httpbin', { source: WorkloadSource.fromApiObject(seedHttpbin(chart)) });
    expect(workload._workloadModel()!.xffMode).toBe(SidecarXffMode.DEFAULT);
    // WHEN a filter on a subset of its labels is added later
    new XffSidecarFilter(chart, 'Xff', { selector: { app: 'httpbin' }, trust: XffTrust.trustedHops(2), portNumber: 8000 });
    // THEN
    expect(workload._workloadModel()).toMatchObject({ xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 2, xffPorts: [8000] });
  });

  test('ignores filters of other namespaces and other labels; a workload filter beats a mesh-wide one', () => {
    const chart = Testing.chart();
    const workload = new TproxyWorkload(chart, 'Httpbin', { source: WorkloadSource.fromApiObject(seedHttpbin(chart)) });
    new XffSidecarFilter(chart, 'OtherNs', { selector: { app: 'httpbin' }, namespace: 'other', trust: XffTrust.useRemoteAddress() });
    new XffSidecarFilter(chart, 'OtherApp', { selector: { app: 'sleep' }, trust: XffTrust.useRemoteAddress() });
    expect(workload._workloadModel()!.xffMode).toBe(SidecarXffMode.DEFAULT);
    new XffSidecarFilter(chart, 'Mesh', { scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress(), portNumber: 9000 });
    expect(workload._workloadModel()).toMatchObject({ xffMode: SidecarXffMode.USE_REMOTE_ADDRESS, xffPorts: [9000] });
    const app = Testing.app();
    const lone = new Chart(app, 'c');
    const w2 = new TproxyWorkload(lone, 'Httpbin', { source: WorkloadSource.fromApiObject(seedHttpbin(lone)) });
    new XffSidecarFilter(lone, 'Mesh', { scope: XffFilterScope.MESH, trust: XffTrust.useRemoteAddress(), portNumber: 9000 });
    new XffSidecarFilter(lone, 'Mine', { workload: w2, trust: XffTrust.trustedCidrs(['10.32.0.0/14']), portNumber: 8000 });
    expect(w2._workloadModel()).toMatchObject({ xffMode: SidecarXffMode.TRUSTED_CIDRS, xffTrustedCidrs: ['10.32.0.0/14'], xffPorts: [8000] });
  });

  test('MeshWorkload.fromLabels targets meshed pods this app does not create, with the same model', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const sleep = MeshWorkload.fromLabels(chart, 'Sleep', { labels: { app: 'sleep' } });
    const echo = MeshWorkload.fromLabels(chart, 'Echo', { labels: { app: 'echo-server' }, namespace: 'apps', interceptionMode: InterceptionMode.TPROXY, name: 'echo' });
    new XffSidecarFilter(chart, 'Xff', { workload: echo, trust: XffTrust.trustedHops(1) });
    // THEN
    expect(sleep._workloadModel()).toEqual({
      name: 'sleep',
      namespace: 'default',
      selector: { app: 'sleep' },
      role: ProxyRole.SIDECAR,
      interceptionMode: InterceptionMode.REDIRECT,
      xffMode: SidecarXffMode.DEFAULT,
    });
    expect(echo._workloadModel()).toMatchObject({ name: 'echo', namespace: 'apps', interceptionMode: InterceptionMode.TPROXY, xffMode: SidecarXffMode.TRUSTED_HOPS, xffTrustedHops: 1, xffPorts: [] });
    expect(findManifest(synthAndValidate(chart), 'EnvoyFilter').metadata.namespace).toBe('apps');
    expect(() => MeshWorkload.fromLabels(chart, 'Bad', { labels: {} })).toThrow(/labels is empty/);
    expect(() => MeshWorkload.fromLabels(chart, 'Bad2', { labels: { app: 'x' }, interceptionMode: 'Tproxy' as InterceptionMode })).toThrow(/interceptionMode "Tproxy" is not allowed/);
  });
});

describe('source-IP policies', () => {
  test('allowFrom on a TPROXY workload is an ALLOW policy with ipBlocks on its pods', () => {
    // GIVEN
    const chart = Testing.chart();
    const workload = new TproxyWorkload(chart, 'Httpbin', { source: WorkloadSource.fromApiObject(seedHttpbin(chart)) });
    // WHEN
    const policy = workload.allowFrom(['172.17.0.0/16']);
    // THEN
    const ap = findManifest(synthAndValidate(chart), 'AuthorizationPolicy');
    expect(policy.action).toBe(PolicyAction.ALLOW);
    expect(ap.metadata.namespace).toBe('default');
    expect(ap.spec.selector.matchLabels).toEqual({ app: 'httpbin', version: 'v1' });
    expect(JSON.stringify(ap.spec.rules)).toContain('"ipBlocks":["172.17.0.0/16"]');
  });

  test('denyFrom on a MeshWorkload behind a trusted-hops XffSidecarFilter matches remoteIpBlocks', () => {
    const chart = Testing.chart();
    const httpbin = MeshWorkload.fromLabels(chart, 'Httpbin', { labels: { app: 'httpbin' } });
    new XffSidecarFilter(chart, 'Xff', { workload: httpbin, trust: XffTrust.trustedHops(1) });
    httpbin.denyFrom(['203.0.113.0/24'], { field: ClientIpField.REMOTE_IP_BLOCKS });
    const manifests = synthAndValidate(chart);
    const ap = findManifest(manifests, 'AuthorizationPolicy');
    expect(ap.spec.action).toBe('DENY');
    expect(JSON.stringify(ap.spec.rules)).toContain('"remoteIpBlocks":["203.0.113.0/24"]');
    expect(manifestsOfKind(manifests, 'EnvoyFilter')).toHaveLength(1);
  });
});
