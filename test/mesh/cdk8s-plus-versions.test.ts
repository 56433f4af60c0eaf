import { ApiObject, Chart, Testing } from 'cdk8s';
import * as kplus27 from 'cdk8s-plus-27';
import * as kplus33 from 'cdk8s-plus-33';
import { Construct } from 'constructs';
import {
  PreservedIngressGateway, TproxyWorkload, TrustChain, TrustHop, WorkloadSource, XffSidecarFilter, XffTrust,
} from '../../src';
import { findManifest, manifestsOfKind, synthAndValidate } from '../harness';

const ANNOTATION = 'sidecar.istio.io/interceptionMode';
const NAMESPACE = 'web';

/** The seeds' httpbin, as a Deployment of the given cdk8s-plus major version. */
type MakeHttpbin = (scope: Construct) => Construct;

const LABELS = { app: 'httpbin', version: 'v1' };

// Selected by the seed's labels (not by cdk8s-plus' generated cdk8s.io/metadata.addr label), like the L1 twin below.
const plus27: MakeHttpbin = scope => {
  const deployment = new kplus27.Deployment(scope, 'Httpbin', {
    metadata: { name: 'httpbin', namespace: NAMESPACE },
    podMetadata: { labels: LABELS },
    select: false,
    containers: [{ image: 'docker.io/citizenstig/httpbin', ports: [{ number: 8000 }], securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false } }],
    securityContext: { ensureNonRoot: false },
  });
  deployment.select(kplus27.LabelSelector.of({ labels: LABELS }));
  return deployment;
};

const plus33: MakeHttpbin = scope => {
  const deployment = new kplus33.Deployment(scope, 'Httpbin', {
    metadata: { name: 'httpbin', namespace: NAMESPACE },
    podMetadata: { labels: LABELS },
    select: false,
    containers: [{ image: 'docker.io/citizenstig/httpbin', ports: [{ number: 8000 }], securityContext: { ensureNonRoot: false, readOnlyRootFilesystem: false } }],
    securityContext: { ensureNonRoot: false },
  });
  deployment.select(kplus33.LabelSelector.of({ labels: LABELS }));
  return deployment;
};

/** A cdk8s-plus-33 L1 object: an ApiObject handed to fromWorkload directly. */
const plus33KubeDeployment: MakeHttpbin = scope => new kplus33.k8s.KubeDeployment(scope, 'Httpbin', {
  metadata: { name: 'httpbin', namespace: NAMESPACE },
  spec: {
    selector: { matchLabels: { app: 'httpbin', version: 'v1' } },
    template: {
      metadata: { labels: { app: 'httpbin', version: 'v1' } },
      spec: { containers: [{ name: 'httpbin', image: 'docker.io/citizenstig/httpbin', ports: [{ containerPort: 8000 }] }] },
    },
  },
});

/** Seed scenario 1: a gateway behind a CDN and an L7 load balancer, with a DENY on the client it resolves. */
function gatewayBehindTwoProxies(chart: Chart, makeHttpbin: MakeHttpbin): PreservedIngressGateway {
  const gateway = new PreservedIngressGateway(chart, 'Gateway', {
    namespace: 'istio-ingress',
    trustChain: TrustChain.of(TrustHop.cdn({ name: 'cdn' }), TrustHop.l7LoadBalancer({ name: 'alb' })),
  });
  gateway.addHttpServer({ hosts: ['httpbin.example.com'] });
  gateway.addRoute({ host: 'httpbin.example.com', backendHost: `httpbin.${NAMESPACE}.svc.cluster.local`, backendPort: 8000 });
  gateway.denyFrom(['198.51.100.0/24']);
  // The backend behind it, made with the cdk8s-plus under test, trusts the same hops.
  const workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(makeHttpbin(chart)) });
  new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustHopsOf(gateway), portNumber: 8000 });
  return gateway;
}

/** Seed scenario 2: a TPROXY workload with an XffSidecarFilter, and a policy on the client it resolves. */
function tproxyWithXffFilter(chart: Chart, makeHttpbin: MakeHttpbin): TproxyWorkload {
  const workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(makeHttpbin(chart)) });
  new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustedHops(1), portNumber: 8000 });
  workload.allowFrom(['203.0.113.0/24'], { ports: [8000] });
  return workload;
}

/** The Istio objects of a synthesis, which must not depend on how the workload was made. */
function istioObjects(manifests: any[]): any[] {
  return manifests.filter(m => String(m.apiVersion).includes('istio.io'));
}

describe('workloads of every cdk8s-plus version', () => {
  test('seed scenario 1 with a cdk8s-plus-33 Deployment: gateway behind two trusted proxies, DENY on remoteIpBlocks', () => {
    // GIVEN a chart whose backend workload is a cdk8s-plus-33 Deployment
    const chart = Testing.chart();
    // WHEN
    gatewayBehindTwoProxies(chart, plus33);
    // THEN the gateway trusts 2 hops, the DENY is on remoteIpBlocks, and the pod template got TPROXY
    const manifests = synthAndValidate(chart);
    const deny = manifestsOfKind(manifests, 'AuthorizationPolicy').find(p => p.spec.action === 'DENY');
    expect(deny.spec.rules).toEqual([{ from: [{ source: { remoteIpBlocks: ['198.51.100.0/24'] } }] }]);
    const gatewayDeployment = findManifest(manifests, 'Deployment', 'ingressgateway');
    expect(JSON.parse(gatewayDeployment.spec.template.metadata.annotations['proxy.istio.io/config']).gatewayTopology.numTrustedProxies).toBe(2);
    const httpbin = findManifest(manifests, 'Deployment', 'httpbin');
    expect(httpbin.spec.template.metadata.annotations).toEqual({ [ANNOTATION]: 'TPROXY' });
    const filter = findManifest(manifests, 'EnvoyFilter');
    expect(filter.spec.workloadSelector.labels).toEqual({ app: 'httpbin', version: 'v1' });
    expect(manifests).toMatchSnapshot();
  });

  test('seed scenario 2 with a cdk8s-plus-33 Deployment: TPROXY workload with an XffSidecarFilter', () => {
    // GIVEN
    const chart = Testing.chart();
    // WHEN
    const workload = tproxyWithXffFilter(chart, plus33);
    // THEN the selector comes from the cdk8s-plus-33 workload, and the filter and policy select its pods
    const manifests = synthAndValidate(chart);
    expect(workload.targetSelector).toEqual({ app: 'httpbin', version: 'v1' });
    expect(workload.targetNamespace).toBe(NAMESPACE);
    expect(findManifest(manifests, 'Deployment', 'httpbin').spec.template.metadata.annotations).toEqual({ [ANNOTATION]: 'TPROXY' });
    expect(findManifest(manifests, 'EnvoyFilter').spec.workloadSelector.labels).toEqual({ app: 'httpbin', version: 'v1' });
    const policy = findManifest(manifests, 'AuthorizationPolicy');
    expect(policy.metadata.namespace).toBe(NAMESPACE);
    expect(policy.spec.rules).toEqual([{ from: [{ source: { remoteIpBlocks: ['203.0.113.0/24'] } }], to: [{ operation: { ports: ['8000'] } }] }]);
    expect(manifests).toMatchSnapshot();
  });

  test.each([
    ['cdk8s-plus-33 Deployment', plus33],
    ['cdk8s-plus-33 KubeDeployment (an ApiObject)', plus33KubeDeployment],
  ])('a %s gives the same Istio objects as a cdk8s-plus-27 Deployment', (_name, make) => {
    for (const scenario of [gatewayBehindTwoProxies, tproxyWithXffFilter]) {
      // GIVEN the same scenario once with cdk8s-plus-27 and once with the workload under test
      const reference = Testing.chart();
      scenario(reference, plus27);
      const chart = Testing.chart();
      // WHEN
      scenario(chart, make);
      // THEN
      const manifests = synthAndValidate(chart);
      expect(istioObjects(manifests)).toEqual(istioObjects(synthAndValidate(reference)));
      expect(findManifest(manifests, 'Deployment', 'httpbin').spec.template.metadata.annotations[ANNOTATION]).toBe('TPROXY');
    }
  });

  test('a plain ApiObject passed to fromWorkload is patched like fromApiObject', () => {
    // GIVEN
    const chart = Testing.chart();
    const deployment = new ApiObject(chart, 'Httpbin', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'httpbin' },
      spec: { selector: { matchLabels: { app: 'httpbin' } }, template: { metadata: { labels: { app: 'httpbin' } }, spec: { containers: [{ name: 'httpbin', image: 'httpbin' }] } } },
    });
    // WHEN
    const workload = new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(deployment) });
    // THEN
    const manifest = findManifest(synthAndValidate(chart), 'Deployment', 'httpbin');
    expect(manifest.spec.template.metadata.annotations).toEqual({ [ANNOTATION]: 'TPROXY' });
    expect(workload.apiObject).toBe(deployment);
    expect(workload.workload).toBe(deployment);
    expect(workload.targetSelector).toEqual({ app: 'httpbin' });
  });

  test('cdk8s-plus-33 StatefulSet, DaemonSet and Job get the annotation on their pod templates', () => {
    // GIVEN
    const chart = Testing.chart();
    const workloads = [
      new kplus33.StatefulSet(chart, 'Set', { containers: [{ image: 'x' }], service: new kplus33.Service(chart, 'S', { ports: [{ port: 80 }] }) }),
      new kplus33.DaemonSet(chart, 'Daemon', { containers: [{ image: 'x' }] }),
      new kplus33.Job(chart, 'Job', { containers: [{ image: 'x' }] }),
    ];
    // WHEN
    workloads.forEach((w, i) => new TproxyWorkload(chart, `Tproxy${i}`, { source: WorkloadSource.fromWorkload(w) }));
    // THEN
    const manifests = synthAndValidate(chart);
    for (const kind of ['StatefulSet', 'DaemonSet', 'Job']) {
      expect(findManifest(manifests, kind).spec.template.metadata.annotations[ANNOTATION]).toBe('TPROXY');
    }
  });

  test('fails for a construct without an ApiObject as its default child', () => {
    // GIVEN a construct that only groups others
    const chart = Testing.chart();
    const group = new Construct(chart, 'Group');
    // WHEN / THEN
    expect(() => new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(group) }))
      .toThrow(/workload "test\/Group" has no ApiObject as its default child: give a cdk8s-plus Deployment.*WorkloadSource\.fromApiObject/);
  });

  test('fails for a cdk8s-plus-33 Pod, which has no pod template', () => {
    // GIVEN
    const chart = Testing.chart();
    const pod = new kplus33.Pod(chart, 'Pod', { containers: [{ image: 'x' }] });
    // WHEN / THEN
    expect(() => new TproxyWorkload(chart, 'Tproxy', { source: WorkloadSource.fromWorkload(pod) }))
      .toThrow(/has no spec\.template: WorkloadSource\.fromWorkload and fromApiObject need an object with a pod template/);
  });
});
