/*
 * The noise of the explain benchmark's cluster dump: kinds explain does not read, as kubectl prints them.
 */
import { NAMESPACES, TIME, UID, hash, replicaSet } from './explain-dump-objects';

const B64 = 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODk';

/** Noise objects of kinds explain does not read, round robin: Event, Secret, ConfigMap, ReplicaSet (old), EndpointSlice. */
export function noise(n: number, deployments: number): string {
  const d = n % deployments;
  const ns = `team-${d % NAMESPACES}`;
  switch (n % 5) {
    case 0: return `- apiVersion: v1
  count: ${n % 17 + 1}
  eventTime: null
  firstTimestamp: "${TIME}"
  involvedObject:
    apiVersion: v1
    kind: Pod
    name: svc-${d}-${hash(d, 2)}-${hash(n, 3).slice(0, 5)}
    namespace: ${ns}
    resourceVersion: "${5000000 + n}"
    uid: ${UID(n, 'evt0')}
  kind: Event
  lastTimestamp: "${TIME}"
  message: 'Readiness probe failed: Get "http://10.${d & 255}.${n & 255}.3:15021/healthz/ready": dial tcp: connect: connection refused'
  metadata:
    creationTimestamp: "${TIME}"
    name: svc-${d}.${hash(n, 4)}
    namespace: ${ns}
    resourceVersion: "${6000000 + n}"
    uid: ${UID(n, 'evt1')}
  reason: Unhealthy
  reportingComponent: kubelet
  source:
    component: kubelet
    host: node-${n % 120}
  type: Warning
`;
    case 1: return `- apiVersion: v1
  data:
    ca.crt: ${B64.repeat(14)}
    token: ${B64.repeat(10)}
    tls.key: ${B64.repeat(12)}
  kind: Secret
  metadata:
    creationTimestamp: "${TIME}"
    name: svc-${d}-secret-${n}
    namespace: ${ns}
    resourceVersion: "${7000000 + n}"
    uid: ${UID(n, 'sec0')}
  type: Opaque
`;
    case 2: return `- apiVersion: v1
  data:
    application.yaml: |
      server:
        port: 8080
      logging:
        level: info
      feature-flags:
${Array.from({ length: 24 }, (_, i) => `        flag-${i}: ${(n + i) % 2 === 0}`).join('\n')}
  kind: ConfigMap
  metadata:
    creationTimestamp: "${TIME}"
    name: svc-${d}-config-${n}
    namespace: ${ns}
    resourceVersion: "${8000000 + n}"
    uid: ${UID(n, 'cfg0')}
`;
    case 3: return replicaSet(d, true).replace(`name: svc-${d}-${hash(d, 1)}`, `name: svc-${d}-${hash(n, 1)}`);
    default: return `- addressType: IPv4
  apiVersion: discovery.k8s.io/v1
  endpoints:
${Array.from({ length: 8 }, (_, i) => `  - addresses:
    - 10.${d & 255}.${n & 255}.${i + 2}
    conditions:
      ready: true
      serving: true
      terminating: false
    nodeName: node-${(n + i) % 120}
    targetRef:
      kind: Pod
      name: svc-${d}-${hash(d, 2)}-${hash(n * 8 + i, 3).slice(0, 5)}
      namespace: ${ns}
      uid: ${UID(n * 8 + i, 'pod0')}`).join('\n')}
  kind: EndpointSlice
  metadata:
    creationTimestamp: "${TIME}"
    generateName: svc-${d}-
    labels:
      endpointslice.kubernetes.io/managed-by: endpointslice-controller.k8s.io
      kubernetes.io/service-name: svc-${d}
    name: svc-${d}-${hash(n, 6).slice(0, 5)}
    namespace: ${ns}
    resourceVersion: "${9000000 + n}"
    uid: ${UID(n, 'eps0')}
  ports:
  - name: http
    port: 8080
    protocol: TCP
`;
  }
}
