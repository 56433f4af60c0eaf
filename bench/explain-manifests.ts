/*
 * Manifest sets for the explain benchmark: one unit is a gateway (Deployment, LoadBalancer Service, Istio Gateway,
 * VirtualService) in front of a workload (Deployment, Service, AuthorizationPolicy, XFF EnvoyFilter) in its own
 * namespace, written as hand-written YAML would be. Units repeat until the text reaches the requested size.
 */

function unit(i: number): string {
  const ns = `team-${i}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: gw-${i}
  namespace: ${ns}
spec:
  selector:
    matchLabels: { app: gw-${i} }
  template:
    metadata:
      labels: { app: gw-${i}, istio: ingressgateway }
      annotations:
        inject.istio.io/templates: gateway
        proxy.istio.io/config: '{"gatewayTopology":{"numTrustedProxies":1}}'
    spec:
      containers:
      - name: istio-proxy
        image: auto
---
apiVersion: v1
kind: Service
metadata:
  name: gw-${i}
  namespace: ${ns}
  annotations:
    service.beta.kubernetes.io/aws-load-balancer-type: external
    source-ip.cdk8s.io/trust-chain: '[{"kind":"l7-load-balancer","name":"alb"},{"kind":"l4-passthrough","name":"nlb"}]'
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: { app: gw-${i}, istio: ingressgateway }
  ports:
  - { name: http, port: 80, targetPort: 8080 }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: web-${i}
  namespace: ${ns}
spec:
  selector: { app: gw-${i} }
  servers:
  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["app${i}.example.com"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: app-${i}
  namespace: ${ns}
spec:
  hosts: ["app${i}.example.com"]
  gateways: [web-${i}]
  http:
  - route:
    - destination: { host: app-${i}.${ns}.svc.cluster.local, port: { number: 8000 } }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app-${i}
  namespace: ${ns}
spec:
  selector:
    matchLabels: { app: app-${i} }
  template:
    metadata:
      labels: { app: app-${i}, version: v1 }
      annotations: { sidecar.istio.io/interceptionMode: TPROXY }
    spec:
      containers:
      - name: app
        image: example.com/app:1.0
        ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Service
metadata:
  name: app-${i}
  namespace: ${ns}
spec:
  selector: { app: app-${i} }
  ports:
  - { name: http, port: 8000, targetPort: 8080 }
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: app-${i}-allow
  namespace: ${ns}
spec:
  selector:
    matchLabels: { app: app-${i} }
  action: ALLOW
  rules:
  - from:
    - source: { remoteIpBlocks: ["203.0.113.0/24", "198.51.100.${i % 256}/32"] }
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: app-${i}-xff
  namespace: ${ns}
spec:
  workloadSelector:
    labels: { app: app-${i} }
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        filterChain:
          filter: { name: envoy.filters.network.http_connection_manager }
    patch:
      operation: MERGE
      value:
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          xff_num_trusted_hops: 2
`;
}

/** Multi-document YAML of whole units, at least `bytes` long. */
export function explainManifests(bytes: number): string {
  const parts: string[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const text = (i === 0 ? '' : '---\n') + unit(i);
    parts.push(text);
    size += text.length;
  }
  return parts.join('');
}
