// Public API of src/ingress.
export * from './load-balancer-profile';
// IngressGatewayBase is internal (jsii copies its members into each gateway); its option types are public.
export * from './gateway-server-options';
export * from './ingress-gateway-props';
export * from './preserved-ingress-gateway';
export * from './proxy-protocol-support';
export * from './proxy-protocol-gateway';
export * from './proxy-protocol-backend';
export * from './proxy-protocol-listener-filter';
