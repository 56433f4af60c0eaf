/** How the load balancer's health checks get past a gateway that requires PROXY protocol. */
export enum HealthCheckFix {
  /** The load balancer's health checks never carry a PROXY header (and do not need one): nothing to do. */
  NONE_NEEDED = 'none-needed',
  /**
   * On Istio 1.27+ the status port 15021 accepts PROXY when present (`ENVOY_STATUS_PORT_ENABLE_PROXY_PROTOCOL`);
   * on older releases the profile's `healthCheckAnnotations` switch to a plain TCP check of the traffic port.
   */
  STATUS_PORT_OR_TCP_CHECK = 'status-port-or-tcp-check',
  /**
   * The health check goes to kube-proxy's `healthCheckNodePort` or another target that never speaks PROXY,
   * so it must always be a plain TCP check of the traffic port (`healthCheckAnnotations`).
   */
  TCP_CHECK = 'tcp-check',
  /** Unknown for this load balancer: verify the health checks yourself (a warning says so). */
  UNKNOWN = 'unknown',
}
