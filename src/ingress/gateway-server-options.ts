/*
 * The public option types of an ingress gateway: the installation attach mode uses, and the options of the `addX()`
 * methods (exported through ingress-gateway-base.ts).
 */

/**
 * An existing gateway installation (for example the Helm chart's `istio-ingressgateway` in `istio-system`)
 * that a construct attaches to instead of deploying its own.
 */
export interface ExistingGateway {
  /**
   * Pod labels of the installation.
   *
   * @default { istio: 'ingressgateway' }
   */
  readonly selector?: { [key: string]: string };

  /**
   * Namespace of the installation's pods and Service (where `credentialName` secrets must live).
   *
   * @default 'istio-system'
   */
  readonly namespace?: string;

  /**
   * Name of the installation's Service.
   *
   * @default 'istio-ingressgateway'
   */
  readonly serviceName?: string;
}

/** TLS mode of an HTTPS server. */
export enum HttpsMode {
  /** Server certificate only. */
  SIMPLE = 'SIMPLE',
  /** Server certificate and a required client certificate (mTLS); the CA comes from `<credentialName>-cacert` or the `ca.crt` key. */
  MUTUAL = 'MUTUAL',
}

/** Options of `addHttpServer()`. */
export interface HttpServerOptions {
  /** Port of the server (and of the Service). @default 80 */
  readonly port?: number;
  /** Hosts the server accepts. @default ['*'] */
  readonly hosts?: string[];
}

/** Options of `addHttpsServer()`. */
export interface HttpsServerOptions {
  /** Port of the server (and of the Service). @default 443 */
  readonly port?: number;
  /** Hosts the server accepts (matched against SNI). @default ['*'] */
  readonly hosts?: string[];
  /** Name of the TLS secret, in the namespace of the gateway pods. */
  readonly credentialName: string;
  /** SIMPLE or MUTUAL TLS. @default HttpsMode.SIMPLE */
  readonly mode?: HttpsMode;
}

/** Options of `addHttpsRedirect()`. */
export interface HttpsRedirectOptions {
  /** Port of the plain-HTTP server that answers with a redirect to HTTPS. @default 80 */
  readonly port?: number;
  /** Hosts redirected. @default ['*'] */
  readonly hosts?: string[];
}

/** Options of `addTcpServer()`. */
export interface TcpServerOptions {
  /** Port of the server (and of the Service). */
  readonly port: number;
}

/** Options of `addTlsPassthroughServer()`. */
export interface TlsPassthroughServerOptions {
  /** Port of the server (and of the Service). @default 443 */
  readonly port?: number;
  /** SNI hosts the server accepts. */
  readonly hosts: string[];
}

/** Options of `addRoute()`. */
export interface RouteOptions {
  /** Host of the request (one the HTTP or HTTPS servers accept). @default '*' */
  readonly host?: string;
  /** Path prefix matched. @default '/' */
  readonly pathPrefix?: string;
  /** Backend Service host, for example "httpbin.default.svc.cluster.local". */
  readonly backendHost: string;
  /** Backend Service port. */
  readonly backendPort: number;
}

/** Options of `addTcpRoute()`. */
export interface TcpRouteOptions {
  /** Gateway port of the TCP server. */
  readonly port: number;
  /** Backend Service host. */
  readonly backendHost: string;
  /** Backend Service port. */
  readonly backendPort: number;
}

/** Options of `addTlsRoute()`. */
export interface TlsRouteOptions {
  /** Gateway port of the TLS passthrough server. @default 443 */
  readonly port?: number;
  /**
   * SNI hosts routed: names such as "db.example.com", wildcards such as "*.example.com", or "*" for every name.
   * With flavour gateway-api "*" is not accepted: a TLSRoute lists the names it matches.
   */
  readonly sniHosts: string[];
  /** Backend Service host. */
  readonly backendHost: string;
  /** Backend Service port. */
  readonly backendPort: number;
}
