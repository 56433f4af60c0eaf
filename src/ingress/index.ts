// Public API of src/ingress.
export * from './load-balancer-profile';
export * from './ingress-gateway-base';
export * from './ingress-gateway-props';
export * from './preserved-ingress-gateway';
export * from './proxy-protocol-support';
export * from './proxy-protocol-gateway';
export * from './proxy-protocol-backend';
export * from './proxy-protocol-listener-filter';
