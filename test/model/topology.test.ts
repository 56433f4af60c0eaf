import { App, Chart, Testing } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { LoadBalancerProfile, PreservedIngressGateway, TproxyWorkload, WorkloadSource, XffSidecarFilter, XffTrust } from '../../src';
import { Derived, Topology } from '../../src/model/topology';
import { appRootOf } from '../../src/util/app-root';
import { synthAndValidate } from '../harness';

/** How many validations cdk8s calls on `construct` every time it synthesises a chart. */
function validationCount(construct: IConstruct): number {
  return (construct.node as unknown as { _validations: unknown[] })._validations.length;
}

describe('Topology.addValidation', () => {
  test('a construct without errors carries no validation of its own, and the output is unchanged', () => {
    // GIVEN a valid workload with a filter and a policy
    const chart = Testing.chart();
    const workload = new TproxyWorkload(chart, 'Workload', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/kennethreitz/httpbin', name: 'httpbin', namespace: 'apps', port: 80 }),
    });
    new XffSidecarFilter(chart, 'Xff', { workload, trust: XffTrust.trustedHops(1), name: 'httpbin-xff' });
    workload.allowFrom(['203.0.113.0/24'], { name: 'httpbin-allow' });

    // WHEN
    const manifests = synthAndValidate(chart);

    // THEN only the app root validates (the app-wide checks and the one that runs every construct's checks)
    expect(manifests.map(m => m.kind)).toEqual(['Deployment', 'AuthorizationPolicy', 'EnvoyFilter']);
    const app = chart.node.root as App;
    const withValidations = app.node.findAll().filter(c => validationCount(c) > 0).map(c => c.node.path);
    expect(withValidations).toEqual(['']);
    expect(manifests).toMatchSnapshot();
  });

  test('fails with the error under the path of the construct whose check found it', () => {
    // GIVEN two filters with different settings on the same pods
    const chart = new Chart(new App(), 'c');
    const workload = new TproxyWorkload(chart, 'Workload', {
      source: WorkloadSource.newDeployment({ image: 'docker.io/kennethreitz/httpbin', name: 'httpbin', namespace: 'apps', port: 80 }),
    });
    new XffSidecarFilter(chart, 'One', { workload, trust: XffTrust.trustedHops(1) });
    new XffSidecarFilter(chart, 'Two', { workload, trust: XffTrust.useRemoteAddress() });

    // WHEN / THEN both filters report, each under its own path
    expect(() => Testing.synth(chart)).toThrow(/\[c\/One\] filters "apps\/c-one-\w+" \(trusted-hops in apps/);
    expect(() => Testing.synth(chart)).toThrow(/\[c\/Two\] filters "apps\/c-two-\w+" \(use-remote-address in apps/);
  });

  test('runs every check once per state of the topology, however many charts are synthesised', () => {
    // GIVEN three charts and a check on one construct of each
    const app = new App();
    const calls: string[] = [];
    const charts = ['a', 'b', 'c'].map(id => new Chart(app, id));
    for (const chart of charts) {
      const construct = new Construct(chart, 'Checked');
      Topology.of(chart).addValidation(construct, () => {
        calls.push(chart.node.id);
        return chart.node.id === 'b' ? ['b is broken'] : [];
      });
    }

    // WHEN every chart is synthesised
    const errors = charts.map(chart => {
      try {
        chart.toJson();
        return '';
      } catch (e) {
        return (e as Error).message;
      }
    });

    // THEN each check ran once, and every synthesis reports the error under its construct
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(errors).toEqual(charts.map(() => 'Validation failed with the following errors:\n  [b/Checked] b is broken'));

    // WHEN the topology changes (a member is added), the checks run again
    Topology.of(app).changed();
    expect(() => charts[0].toJson()).toThrow(/\[b\/Checked\] b is broken/);
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });
});

describe('Topology.addValidation after a synthesis', () => {
  test('fails a check added after the app was synthesised once', () => {
    // GIVEN a gateway with a server, synthesised once without errors
    const chart = Testing.chart();
    const gateway = new PreservedIngressGateway(chart, 'Gateway', { name: 'gw', loadBalancerProfile: LoadBalancerProfile.AWS_NLB_IP });
    gateway.addHttpServer();
    expect(() => Testing.synth(chart)).not.toThrow();

    // WHEN a route is added for a host no server accepts
    gateway.addTcpRoute({ port: 9000, backendHost: 'echo.apps.svc.cluster.local', backendPort: 9000 });

    // THEN its check runs on the next synthesis
    expect(() => Testing.synth(chart)).toThrow(/\[test\/Gateway\] addTcpRoute port 9000 has no TCP server on gateway "gw"/);
  });
});

describe('Topology.deriveFor', () => {
  test('keeps a construct\'s value until the topology changes or the basis is another object', () => {
    // GIVEN a construct of an app and a kind of value computed for it
    const chart = Testing.chart();
    const member = new Construct(chart, 'Member');
    const topology = Topology.of(member);
    const key = new Derived<{ n: number }>('test-value');
    let computed = 0;
    const compute = () => ({ n: ++computed });
    const basis = {};
    // WHEN it is asked for twice with the same basis
    const first = topology.deriveFor(member, key, compute, basis);
    const second = topology.deriveFor(member, key, compute, basis);
    // THEN it is computed once and shared
    expect(second).toBe(first);
    expect(computed).toBe(1);
    // WHEN the basis is another object, THEN it is computed again
    const third = topology.deriveFor(member, key, compute, {});
    expect(third).not.toBe(first);
    expect(computed).toBe(2);
    // WHEN the topology changes, THEN it is computed again, even with the same basis
    const kept = topology.deriveFor(member, key, compute);
    topology.changed();
    expect(topology.deriveFor(member, key, compute)).not.toBe(kept);
    expect(computed).toBe(4);
  });

  test('keeps one value per construct', () => {
    // GIVEN two constructs of one app
    const chart = Testing.chart();
    const a = new Construct(chart, 'A');
    const b = new Construct(chart, 'B');
    const key = new Derived<string>('test-name');
    // WHEN each asks for its value
    // THEN each gets its own
    expect(Topology.of(a).deriveFor(a, key, () => 'a')).toBe('a');
    expect(Topology.of(b).deriveFor(b, key, () => 'b')).toBe('b');
    expect(Topology.of(a).deriveFor(a, key, () => 'other')).toBe('a');
  });
});

describe('appRootOf', () => {
  test('is the app, as node.root says, from any depth', () => {
    // GIVEN constructs at several depths of an app
    const app = new App();
    const chart = new Chart(app, 'c');
    const deep = new Construct(new Construct(chart, 'a'), 'b');
    // THEN the root is the app for each, and a root is its own root
    for (const c of [app, chart, deep]) expect(appRootOf(c)).toBe(c.node.root);
    expect(appRootOf(app)).toBe(app);
  });
});
