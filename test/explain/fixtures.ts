/* Hand-written Istio/Kubernetes YAML for the seed scenarios (not produced by our constructs). */

export interface GatewayOptions {
  readonly etp?: 'Local' | 'Cluster';
  readonly proxyConfig?: string;
  readonly serviceAnnotations?: { [key: string]: string };
  readonly podAnnotations?: { [key: string]: string };
  readonly servers?: string;
}

export function gatewayYaml(o: GatewayOptions = {}): string {
  const annotations = { ...(o.proxyConfig ? { 'proxy.istio.io/config': o.proxyConfig } : {}), ...(o.podAnnotations ?? {}) };
  return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ingressgateway
  namespace: istio-ingress
spec:
  selector:
    matchLabels: { istio: ingressgateway }
  template:
    metadata:
      labels: { istio: ingressgateway, app: ingressgateway }
      annotations: ${JSON.stringify(annotations)}
    spec:
      containers:
      - name: istio-proxy
        image: auto
---
apiVersion: v1
kind: Service
metadata:
  name: ingressgateway
  namespace: istio-ingress
  annotations: ${JSON.stringify(o.serviceAnnotations ?? {})}
spec:
  type: LoadBalancer
  ${o.etp ? `externalTrafficPolicy: ${o.etp}` : ''}
  selector: { istio: ingressgateway }
  ports:
  - { name: http, port: 80, targetPort: 80 }
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: web
  namespace: istio-ingress
spec:
  selector: { istio: ingressgateway }
  servers:
${o.servers ?? `  - port: { number: 80, name: http, protocol: HTTP }
    hosts: ["*"]`}
`;
}

export function workloadYaml(mode?: string, name = 'httpbin', namespace = 'web'): string {
  return `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
      ${mode ? `annotations: { sidecar.istio.io/interceptionMode: ${mode} }` : ''}
    spec:
      containers:
      - name: ${name}
        image: docker.io/kennethreitz/httpbin
`;
}

export function sidecarXffFilterYaml(hops: number): string {
  return `
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: httpbin-xff
  namespace: web
spec:
  workloadSelector:
    labels: { app: httpbin }
  configPatches:
  - applyTo: NETWORK_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        portNumber: 8080
        filterChain:
          filter: { name: envoy.filters.network.http_connection_manager }
    patch:
      operation: MERGE
      value:
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          xff_num_trusted_hops: ${hops}
`;
}

export function policyYaml(name: string, namespace: string, selector: string, field: string, cidrs: string[], action = 'ALLOW'): string {
  return `
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ${name}
  namespace: ${namespace}
spec:
  selector:
    matchLabels: ${selector}
  action: ${action}
  rules:
  - from:
    - source:
        ${field}: ${JSON.stringify(cidrs)}
`;
}

export function docs(...parts: string[]): string {
  return parts.map(p => p.trim()).join('\n---\n') + '\n';
}
