// Public API of src/mesh.
export * from './tproxy-workload';
export * from './xff-sidecar-filter';
export * from './mesh-workload';
export * from './client-address-header';
export * from './client-address-access-log';
