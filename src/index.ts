export * from './model/istio-version';
export * from './model/model';
export * from './model/trust-chain';
export * from './net/cidr';
export * from './ingress';
export * from './mesh';
export * from './policy';
export * from './explain';
