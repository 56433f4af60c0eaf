/*
 * The objects of the explain benchmark's cluster dump (bench/explain-dump.ts), as `kubectl get -A -o yaml` prints
 * them, each as one List item at column 0.
 */

/** Objects at the full size (500 MB). */
export const FULL = { bytes: 500 * 1024 * 1024, deployments: 500, podsPerDeployment: 40, servicesPerDeployment: 10 };
export const NAMESPACES = 50;

export function hash(i: number, salt: number): string {
  return ((i * 2654435761 + salt * 40503) >>> 0).toString(36).padStart(7, 'x').slice(0, 10);
}

export const UID = (i: number, salt: string) => `${hash(i, 7)}-${salt}-4c1e-9f3a-${hash(i, 11).padEnd(10, '0').slice(0, 10)}00`;
export const TIME = '2026-11-02T09:14:27Z';

export function installation(): string[] {
  return [`- apiVersion: install.istio.io/v1alpha1
  kind: IstioOperator
  metadata:
    name: installed-state
    namespace: istio-system
  spec:
    profile: default
    meshConfig:
      accessLogFile: /dev/stdout
      defaultConfig:
        gatewayTopology:
          numTrustedProxies: 1
    components:
      ingressGateways:
      - name: istio-ingressgateway
        enabled: true
        k8s:
          service:
            externalTrafficPolicy: Local
`, `- apiVersion: v1
  kind: ConfigMap
  metadata:
    name: istio
    namespace: istio-system
    labels:
      install.operator.istio.io/owning-resource: installed-state
      istio.io/rev: default
  data:
    mesh: |-
      accessLogFile: /dev/stdout
      defaultConfig:
        discoveryAddress: istiod.istio-system.svc:15012
        gatewayTopology:
          numTrustedProxies: 1
      rootNamespace: istio-system
      trustDomain: cluster.local
    meshNetworks: 'networks: {}'
`, `- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: istio-ingressgateway
    namespace: istio-system
    labels:
      app: istio-ingressgateway
      istio: ingressgateway
  spec:
    replicas: 3
    selector:
      matchLabels:
        app: istio-ingressgateway
        istio: ingressgateway
    template:
      metadata:
        labels:
          app: istio-ingressgateway
          istio: ingressgateway
          sidecar.istio.io/inject: "false"
        annotations:
          prometheus.io/port: "15020"
      spec:
        containers:
        - name: istio-proxy
          image: docker.io/istio/proxyv2:1.28.0
          args: [proxy, router, --domain, $(POD_NAMESPACE).svc.cluster.local]
          ports:
          - containerPort: 8080
            protocol: TCP
`, `- apiVersion: v1
  kind: Service
  metadata:
    name: istio-ingressgateway
    namespace: istio-system
  spec:
    type: LoadBalancer
    externalTrafficPolicy: Local
    selector:
      app: istio-ingressgateway
      istio: ingressgateway
    ports:
    - name: http2
      port: 80
      protocol: TCP
      targetPort: 8080
`, `- apiVersion: networking.istio.io/v1
  kind: Gateway
  metadata:
    name: public
    namespace: istio-system
  spec:
    selector:
      istio: ingressgateway
    servers:
    - port:
        number: 80
        name: http
        protocol: HTTP
      hosts: ["*.example.com"]
`];
}

export function deployment(d: number): string {
  const ns = `team-${d % NAMESPACES}`;
  return `- apiVersion: apps/v1
  kind: Deployment
  metadata:
    annotations:
      deployment.kubernetes.io/revision: "2"
    creationTimestamp: "${TIME}"
    generation: 2
    labels:
      app: svc-${d}
    name: svc-${d}
    namespace: ${ns}
    resourceVersion: "${1000000 + d}"
    uid: ${UID(d, 'dep0')}
  spec:
    progressDeadlineSeconds: 600
    replicas: ${FULL.podsPerDeployment}
    revisionHistoryLimit: 10
    selector:
      matchLabels:
        app: svc-${d}
    strategy:
      rollingUpdate:
        maxSurge: 25%
        maxUnavailable: 25%
      type: RollingUpdate
    template:
      metadata:
        labels:
          app: svc-${d}
          version: v1
      spec:
        containers:
        - image: registry.example.com/team/svc-${d}:1.4.${d % 10}
          imagePullPolicy: IfNotPresent
          name: app
          ports:
          - containerPort: 8080
            name: http
            protocol: TCP
          resources:
            requests:
              cpu: 100m
              memory: 128Mi
        dnsPolicy: ClusterFirst
        restartPolicy: Always
        terminationGracePeriodSeconds: 30
  status:
    availableReplicas: ${FULL.podsPerDeployment}
    observedGeneration: 2
    readyReplicas: ${FULL.podsPerDeployment}
    replicas: ${FULL.podsPerDeployment}
    updatedReplicas: ${FULL.podsPerDeployment}
`;
}

export function replicaSet(d: number, old: boolean): string {
  const ns = `team-${d % NAMESPACES}`;
  const h = hash(d, old ? 1 : 2);
  return `- apiVersion: apps/v1
  kind: ReplicaSet
  metadata:
    annotations:
      deployment.kubernetes.io/desired-replicas: "${FULL.podsPerDeployment}"
      deployment.kubernetes.io/max-replicas: "50"
      deployment.kubernetes.io/revision: "${old ? 1 : 2}"
    creationTimestamp: "${TIME}"
    generation: 1
    labels:
      app: svc-${d}
      pod-template-hash: ${h}
      version: v1
    name: svc-${d}-${h}
    namespace: ${ns}
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: Deployment
      name: svc-${d}
      uid: ${UID(d, 'dep0')}
    resourceVersion: "${2000000 + d}"
    uid: ${UID(d, old ? 'rs01' : 'rs02')}
  spec:
    replicas: ${old ? 0 : FULL.podsPerDeployment}
    selector:
      matchLabels:
        app: svc-${d}
        pod-template-hash: ${h}
    template:
      metadata:
        labels:
          app: svc-${d}
          pod-template-hash: ${h}
          version: v1
      spec:
        containers:
        - image: registry.example.com/team/svc-${d}:1.4.${d % 10}
          imagePullPolicy: IfNotPresent
          name: app
          ports:
          - containerPort: 8080
            name: http
            protocol: TCP
        dnsPolicy: ClusterFirst
        restartPolicy: Always
  status:
    observedGeneration: 1
    replicas: ${old ? 0 : FULL.podsPerDeployment}
`;
}

const PROXY_ENV = ['JWT_POLICY', 'PILOT_CERT_PROVIDER', 'CA_ADDR', 'POD_NAME', 'POD_NAMESPACE', 'INSTANCE_IP', 'SERVICE_ACCOUNT', 'HOST_IP', 'ISTIO_CPU_LIMIT',
  'PROXY_CONFIG', 'ISTIO_META_POD_PORTS', 'ISTIO_META_APP_CONTAINERS', 'GOMEMLIMIT', 'GOMAXPROCS', 'ISTIO_META_CLUSTER_ID', 'ISTIO_META_NODE_NAME',
  'ISTIO_META_INTERCEPTION_MODE', 'ISTIO_META_WORKLOAD_NAME', 'ISTIO_META_OWNER', 'ISTIO_META_MESH_ID'];

export function pod(d: number, p: number, gateway = false, bare = false): string {
  const ns = gateway ? 'istio-system' : `team-${d % NAMESPACES}`;
  const app = gateway ? 'istio-ingressgateway' : bare ? `batch-${d}` : `svc-${d}`;
  const h = hash(d, 2);
  const name = `${app}-${h}-${hash(d * 1000 + p, 3).slice(0, 5)}`;
  const ip = `10.${(d >> 8) & 255}.${d & 255}.${p + 2}`;
  // As the injector writes them: the pod's own name, namespace and address come from the downward API.
  const fields: { [env: string]: string } = { POD_NAME: 'metadata.name', POD_NAMESPACE: 'metadata.namespace', INSTANCE_IP: 'status.podIP', HOST_IP: 'status.hostIP' };
  const env = PROXY_ENV.map(e => fields[e] ? `      - name: ${e}\n        valueFrom:\n          fieldRef:\n            apiVersion: v1\n            fieldPath: ${fields[e]}`
    : `      - name: ${e}\n        value: "${e.toLowerCase()}-value"`).join('\n');
  const labels = gateway ? `      app: istio-ingressgateway\n      istio: ingressgateway\n      sidecar.istio.io/inject: "false"`
    : `      app: ${app}\n      security.istio.io/tlsMode: istio\n      service.istio.io/canonical-name: ${app}\n      service.istio.io/canonical-revision: v1\n      version: v1`;
  return `- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      istio.io/rev: default
      kubectl.kubernetes.io/default-container: app
      prometheus.io/path: /stats/prometheus
      prometheus.io/port: "15020"
      prometheus.io/scrape: "true"
      sidecar.istio.io/status: '{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"default"}'
    creationTimestamp: "${TIME}"
    generateName: ${app}-${h}-
    labels:
${labels}${bare ? '' : `
      pod-template-hash: ${h}`}
    name: ${name}
    namespace: ${ns}${bare ? '' : `
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: ReplicaSet
      name: ${app}-${h}
      uid: ${UID(d, 'rs02')}`}
    resourceVersion: "${3000000 + d * 100 + p}"
    uid: ${UID(d * 1000 + p, 'pod0')}
  spec:
    containers:
    - image: registry.example.com/team/${app}:1.4.${d % 10}
      imagePullPolicy: IfNotPresent
      name: app
      ports:
      - containerPort: 8080
        name: http
        protocol: TCP
      resources:
        requests:
          cpu: 100m
          memory: 128Mi
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: File
      volumeMounts:
      - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
        name: kube-api-access-${hash(p, 5).slice(0, 5)}
        readOnly: true
    - args:
      - proxy
      - sidecar
      - --domain
      - $(POD_NAMESPACE).svc.cluster.local
      - --proxyLogLevel=warning
      - --proxyComponentLogLevel=misc:error
      - --log_output_level=default:info
      env:
${env}
      image: docker.io/istio/proxyv2:1.28.0
      imagePullPolicy: IfNotPresent
      name: istio-proxy
      ports:
      - containerPort: 15090
        name: http-envoy-prom
        protocol: TCP
      readinessProbe:
        failureThreshold: 4
        httpGet:
          path: /healthz/ready
          port: 15021
          scheme: HTTP
        periodSeconds: 15
        timeoutSeconds: 3
      resources:
        limits:
          cpu: "2"
          memory: 1Gi
        requests:
          cpu: 100m
          memory: 128Mi
      securityContext:
        allowPrivilegeEscalation: false
        capabilities:
          drop:
          - ALL
        readOnlyRootFilesystem: true
        runAsGroup: 1337
        runAsNonRoot: true
        runAsUser: 1337
      volumeMounts:
      - mountPath: /var/run/secrets/workload-spiffe-uds
        name: workload-socket
      - mountPath: /var/run/secrets/credential-uds
        name: credential-socket
      - mountPath: /var/run/secrets/workload-spiffe-credentials
        name: workload-certs
      - mountPath: /var/run/secrets/istio
        name: istiod-ca-cert
      - mountPath: /var/lib/istio/data
        name: istio-data
      - mountPath: /etc/istio/proxy
        name: istio-envoy
      - mountPath: /var/run/secrets/tokens
        name: istio-token
      - mountPath: /etc/istio/pod
        name: istio-podinfo
    dnsPolicy: ClusterFirst
    enableServiceLinks: true
    nodeName: node-${(d * 7 + p) % 120}
    preemptionPolicy: PreemptLowerPriority
    priority: 0
    restartPolicy: Always
    schedulerName: default-scheduler
    serviceAccountName: default
    terminationGracePeriodSeconds: 30
    volumes:
    - emptyDir: {}
      name: workload-socket
    - emptyDir: {}
      name: credential-socket
    - emptyDir: {}
      name: workload-certs
    - emptyDir:
        medium: Memory
      name: istio-envoy
    - emptyDir: {}
      name: istio-data
    - downwardAPI:
        items:
        - fieldRef:
            fieldPath: metadata.labels
          path: labels
        - fieldRef:
            fieldPath: metadata.annotations
          path: annotations
      name: istio-podinfo
    - name: istio-token
      projected:
        sources:
        - serviceAccountToken:
            audience: istio-ca
            expirationSeconds: 43200
            path: istio-token
    - configMap:
        name: istio-ca-root-cert
      name: istiod-ca-cert
  status:
    conditions:
    - lastTransitionTime: "${TIME}"
      status: "True"
      type: Initialized
    - lastTransitionTime: "${TIME}"
      status: "True"
      type: Ready
    - lastTransitionTime: "${TIME}"
      status: "True"
      type: ContainersReady
    - lastTransitionTime: "${TIME}"
      status: "True"
      type: PodScheduled
    containerStatuses:
    - containerID: containerd://${hash(p, 9)}${hash(d, 9)}${hash(p + d, 9)}
      image: registry.example.com/team/${app}:1.4.${d % 10}
      name: app
      ready: true
      restartCount: 0
      started: true
      state:
        running:
          startedAt: "${TIME}"
    - containerID: containerd://${hash(p, 8)}${hash(d, 8)}${hash(p + d, 8)}
      image: docker.io/istio/proxyv2:1.28.0
      name: istio-proxy
      ready: true
      restartCount: 0
      started: true
      state:
        running:
          startedAt: "${TIME}"
    hostIP: 192.168.${(d * 7 + p) % 120}.10
    phase: Running
    podIP: ${ip}
    podIPs:
    - ip: ${ip}
    qosClass: Burstable
    startTime: "${TIME}"
`;
}

export function service(d: number, s: number): string {
  const ns = `team-${d % NAMESPACES}`;
  const name = s === 0 ? `svc-${d}` : `svc-${d}-port${s}`;
  return `- apiVersion: v1
  kind: Service
  metadata:
    creationTimestamp: "${TIME}"
    labels:
      app: svc-${d}
    name: ${name}
    namespace: ${ns}
    resourceVersion: "${4000000 + d * 10 + s}"
    uid: ${UID(d * 10 + s, 'svc0')}
  spec:
    clusterIP: 10.96.${(d * 10 + s) >> 8 & 255}.${(d * 10 + s) & 255}
    internalTrafficPolicy: Cluster
    ipFamilies:
    - IPv4
    ipFamilyPolicy: SingleStack
    ports:
    - name: http${s === 0 ? '' : `-${s}`}
      port: ${s === 0 ? 80 : 8000 + s}
      protocol: TCP
      targetPort: 8080
    selector:
      app: svc-${d}
    sessionAffinity: None
    type: ClusterIP
  status:
    loadBalancer: {}
`;
}

export function istioObjects(d: number): string[] {
  const ns = `team-${d % NAMESPACES}`;
  return [`- apiVersion: networking.istio.io/v1
  kind: VirtualService
  metadata:
    name: svc-${d}
    namespace: ${ns}
  spec:
    gateways:
    - istio-system/public
    hosts:
    - svc-${d}.example.com
    http:
    - route:
      - destination:
          host: svc-${d}.${ns}.svc.cluster.local
          port:
            number: 80
`, `- apiVersion: networking.istio.io/v1
  kind: DestinationRule
  metadata:
    name: svc-${d}
    namespace: ${ns}
  spec:
    host: svc-${d}.${ns}.svc.cluster.local
    trafficPolicy:
      connectionPool:
        http:
          http1MaxPendingRequests: 1024
`, `- apiVersion: networking.istio.io/v1
  kind: Sidecar
  metadata:
    name: svc-${d}
    namespace: ${ns}
  spec:
    workloadSelector:
      labels:
        app: svc-${d}
    egress:
    - hosts:
      - ./*
      - istio-system/*
`, `- apiVersion: security.istio.io/v1
  kind: AuthorizationPolicy
  metadata:
    name: svc-${d}-deny
    namespace: ${ns}
  spec:
    selector:
      matchLabels:
        app: svc-${d}
    action: DENY
    rules:
    - from:
      - source:
          remoteIpBlocks:
          - 198.51.100.0/24
`];
}


