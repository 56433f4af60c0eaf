import { LB_PROXY_PROTOCOL_ANNOTATION } from './annotations';
import { recogniseLoadBalancer } from './load-balancers';

/** What a gateway Service's annotations and `loadBalancerClass` say its load balancer does, as the trace reads it. */
export interface LoadBalancerFacts {
  /** The recognised load balancer (a LoadBalancerProfile id), when one is. */
  readonly id?: string;
  /** True when the load balancer keeps the client as the packet source whatever the external traffic policy. */
  readonly preservesSourceWithoutLocal: boolean;
  /** True when it sends PROXY protocol (a cloud annotation, or the library's fact annotation). */
  readonly sendsProxyProtocol: boolean;
  /**
   * True when the cloud's own annotations switch PROXY on for every port: the library's fact annotation says PROXY
   * is on without saying where (a console, a cloud CRD, per listener).
   */
  readonly sendsProxyProtocolOnEveryPort: boolean;
}

/** The load-balancer facts of a Service, for the constructs and the parser alike. */
export function loadBalancerFacts(serviceAnnotations: { readonly [key: string]: string }, loadBalancerClass: unknown): LoadBalancerFacts {
  const lbClass = typeof loadBalancerClass === 'string' ? loadBalancerClass : undefined;
  const recognised = recogniseLoadBalancer({ ...serviceAnnotations }, lbClass);
  const cloudAnnotations = Object.fromEntries(Object.entries(serviceAnnotations).filter(([k]) => k !== LB_PROXY_PROTOCOL_ANNOTATION));
  const everyPort = recogniseLoadBalancer(cloudAnnotations, lbClass);
  return Object.assign({}, recognised.id ? { id: recognised.id } : {}, {
    preservesSourceWithoutLocal: recognised.preservesSourceWithoutLocal,
    sendsProxyProtocol: recognised.sendsProxyProtocol,
    // An annotation that lists Service ports (Scaleway, Linode per port) switches PROXY on for those only.
    sendsProxyProtocolOnEveryPort: everyPort.sendsProxyProtocol && everyPort.proxyProtocolPorts === undefined,
  });
}
