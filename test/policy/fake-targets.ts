import { Construct } from 'constructs';
import { ExternalTrafficPolicy, InterceptionMode, ISourceIpTarget, ProxyProtocolMode, ProxyRole, SidecarXffMode } from '../../src';
import { GatewayModel, WorkloadModel } from '../../src/model/model';

/*
 * Test-only targets: they expose a model that tests change after creating policies, the way a real
 * gateway changes when `addX()` is called later, so the lazy field choice and checks are exercised.
 */

const GATEWAY_DEFAULTS: GatewayModel = {
  name: 'istio-ingressgateway',
  namespace: 'istio-system',
  selector: { app: 'istio-ingressgateway' },
  externalTrafficPolicy: ExternalTrafficPolicy.LOCAL,
  loadBalancerPreservesSource: false,
  numTrustedProxies: 0,
  proxyProtocol: ProxyProtocolMode.OFF,
  proxyProtocolPorts: [],
  servers: [{ port: 80, protocol: 'HTTP', hosts: ['*'] }],
};

export class FakeGateway extends Construct implements ISourceIpTarget {
  public readonly targetRole = ProxyRole.GATEWAY;
  public model: GatewayModel;

  constructor(scope: Construct, id: string, model: Partial<GatewayModel> = {}) {
    super(scope, id);
    this.model = { ...GATEWAY_DEFAULTS, ...model };
  }

  public get targetNamespace(): string { return this.model.namespace; }
  public get targetSelector(): { [key: string]: string } { return this.model.selector; }
  public _gatewayModel(): GatewayModel | undefined { return this.model; }
  public _workloadModel(): WorkloadModel | undefined { return undefined; }
}

const WORKLOAD_DEFAULTS: WorkloadModel = {
  name: 'echo-server',
  namespace: 'default',
  selector: { app: 'echo-server' },
  role: ProxyRole.SIDECAR,
  interceptionMode: InterceptionMode.REDIRECT,
  xffMode: SidecarXffMode.DEFAULT,
};

export class FakeWorkload extends Construct implements ISourceIpTarget {
  public model: WorkloadModel;

  constructor(scope: Construct, id: string, model: Partial<WorkloadModel> = {}) {
    super(scope, id);
    this.model = { ...WORKLOAD_DEFAULTS, ...model };
  }

  public get targetRole(): ProxyRole { return this.model.role; }
  public get targetNamespace(): string { return this.model.namespace; }
  public get targetSelector(): { [key: string]: string } { return this.model.selector; }
  public _gatewayModel(): GatewayModel | undefined { return undefined; }
  public _workloadModel(): WorkloadModel | undefined { return this.model; }
}
