export * from './model/istio-version';
export * from './model/model';
export * from './net/cidr';
