import { ApiObject, Lazy } from 'cdk8s';
import * as kplus from 'cdk8s-plus-27';
import { Construct } from 'constructs';
import { SharedGatewaySettings } from './gateway-config';
import { ServerEntry } from './gateway-servers';
import { GatewayName } from './istio-api-rendering';
import {
  GATEWAY_INJECT_TEMPLATE, gatewayListenerPort, INJECT_TEMPLATES_ANNOTATION, PROXY_CONFIG_ANNOTATION, SIDECAR_INJECT_LABEL, STATUS_PORT,
  STATUS_PORT_NAME,
} from '../envoy/names';

import { ExternalTrafficPolicy } from '../model/model';
import { ApiShaped, LibraryManifest } from '../util/library-manifest';
import { checkInteger } from '../util/validate';

/*
 * The Kubernetes objects of a gateway this library deploys itself (internal): ServiceAccount and the Role that
 * reads its TLS secrets, the Deployment by gateway injection, the LoadBalancer Service, the PodDisruptionBudget and
 * the autoscaler; and the replica bounds the Gateway API flavour's overlays use too.
 */

/** The ServiceAccount of the gateway pods and the Role (with its binding) that lets them read TLS secrets. */
export function renderIdentity(scope: Construct, gw: GatewayName): void {
  const { name, namespace } = gw;
  LibraryManifest.render(scope, 'ServiceAccount', kplus.k8s.KubeServiceAccount, { metadata: { name, namespace } });
  // The gateway reads the TLS secrets named by credentialName from its own namespace (SDS).
  LibraryManifest.render(scope, 'SecretReader', kplus.k8s.KubeRole, {
    metadata: { name: `${name}-sds`, namespace },
    rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }],
  });
  LibraryManifest.render(scope, 'SecretReaderBinding', kplus.k8s.KubeRoleBinding, {
    metadata: { name: `${name}-sds`, namespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: `${name}-sds` },
    subjects: [{ kind: 'ServiceAccount', name, namespace }],
  });
}

/**
 * The gateway Deployment: pods injected with Istio's gateway template, `proxyConfig` (rendered at synthesis) as
 * their `proxy.istio.io/config`, spread over nodes.
 */
export function renderDeployment(scope: Construct, config: SharedGatewaySettings, labels: { [key: string]: string },
  containerEnv: { [key: string]: string }, proxyConfig: () => string): ApiObject {
  const { name, namespace, autoscaling } = config;
  const env = Object.entries(containerEnv).map(([key, value]) => ({ name: key, value }));
  return LibraryManifest.render(scope, 'Deployment', kplus.k8s.KubeDeployment, {
    metadata: { name, namespace, labels },
    spec: {
      // With an autoscaler the Deployment leaves the count to it, so that re-applying does not reset it.
      replicas: autoscaling ? undefined : config.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          annotations: {
            [INJECT_TEMPLATES_ANNOTATION]: GATEWAY_INJECT_TEMPLATE,
            [PROXY_CONFIG_ANNOTATION]: Lazy.any({ produce: proxyConfig }) as unknown as string,
          },
          labels: Object.assign({}, labels, { [SIDECAR_INJECT_LABEL]: 'true' }),
        },
        spec: {
          serviceAccountName: name,
          topologySpreadConstraints: [
            // With Local, nodes without a gateway pod drop traffic: spread over nodes strictly, zones best effort.
            { maxSkew: 1, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'DoNotSchedule', labelSelector: { matchLabels: labels } },
            { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway', labelSelector: { matchLabels: labels } },
          ],
          containers: [{ name: 'istio-proxy', image: 'auto', ...(env.length > 0 ? { env } : {}) }],
        },
      },
    },
  });
}

/** The gateway's LoadBalancer Service: the status port and one port per server port (rendered at synthesis). */
export function renderService(scope: Construct, config: SharedGatewaySettings, selector: { [key: string]: string },
  annotations: { [key: string]: string }, servers: readonly ServerEntry[]): ApiObject {
  const { name, namespace, profile } = config;
  return LibraryManifest.render(scope, 'Service', kplus.k8s.KubeService, {
    metadata: { name, namespace, labels: selector, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
    spec: {
      type: 'LoadBalancer',
      externalTrafficPolicy: config.externalTrafficPolicy,
      ...(profile.loadBalancerClass ? { loadBalancerClass: profile.loadBalancerClass } : {}),
      selector,
      ports: Lazy.any({ produce: () => servicePorts(servers) }),
    },
  });
}

function servicePorts(servers: readonly ServerEntry[]): ApiShaped<kplus.k8s.ServicePort>[] {
  const ports: ApiShaped<kplus.k8s.ServicePort>[] = [{ name: STATUS_PORT_NAME, port: STATUS_PORT, targetPort: STATUS_PORT, protocol: 'TCP' }];
  for (const port of new Set(servers.map(s => s.port))) {
    const server = servers.find(s => s.port === port)!;
    ports.push({ name: `${server.protocol.toLowerCase()}-${port}`, port, targetPort: gatewayListenerPort(port), protocol: 'TCP' });
  }
  return ports;
}

/** The replica bounds, checked: the autoscaler's minimum (else `replicas`), maximum and CPU target. */
export function checkAvailability(config: SharedGatewaySettings): { minReplicas: number; maxReplicas?: number; targetCpuUtilization?: number } {
  const { replicas, autoscaling } = config;
  const minReplicas = autoscaling?.minReplicas === undefined ? replicas
    : checkInteger('autoscaling.minReplicas', autoscaling.minReplicas, 1, 1000, 'scaling the gateway to zero drops all ingress traffic');
  if (!autoscaling) return { minReplicas };
  return {
    minReplicas,
    maxReplicas: checkInteger('autoscaling.maxReplicas', autoscaling.maxReplicas, Math.max(1, minReplicas), 1000, 'it must be at least autoscaling.minReplicas'),
    targetCpuUtilization: checkInteger('autoscaling.targetCpuUtilization', autoscaling.targetCpuUtilization ?? 80, 1, 100),
  };
}

/** The warning for a gateway with one replica. */
export function singleReplicaWarning(minReplicas: number, externalTrafficPolicy: ExternalTrafficPolicy): string {
  return `replicas ${minReplicas}: a single gateway pod is a single point of failure${externalTrafficPolicy === ExternalTrafficPolicy.LOCAL ? ' and, with externalTrafficPolicy Local, every other node drops the traffic' : ''}; use 2 or more replicas (no PodDisruptionBudget is emitted for 1)`;
}

/** The PodDisruptionBudget (from 2 replicas) and the autoscaler; `warn` gets the single-replica warning. */
export function renderAvailability(scope: Construct, config: SharedGatewaySettings, selector: { [key: string]: string },
  warn: (message: string) => void): void {
  const { name, namespace, autoscaling } = config;
  const { minReplicas, maxReplicas, targetCpuUtilization } = checkAvailability(config);
  if (minReplicas >= 2) {
    LibraryManifest.render(scope, 'DisruptionBudget', kplus.k8s.KubePodDisruptionBudget, {
      metadata: { name, namespace },
      spec: { minAvailable: 1, selector: { matchLabels: selector } },
    });
  }
  if (autoscaling) {
    LibraryManifest.render(scope, 'Autoscaler', kplus.k8s.KubeHorizontalPodAutoscalerV2, {
      metadata: { name, namespace },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        minReplicas,
        maxReplicas: maxReplicas!,
        metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCpuUtilization! } } }],
      },
    });
  }
  if (minReplicas < 2) warn(singleReplicaWarning(minReplicas, config.externalTrafficPolicy));
}
