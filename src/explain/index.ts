// Public API of src/explain. The trust chain lives in src/model but is re-exported here so that
// src/index.ts (which re-exports ./explain) exposes it.
export * from '../model/trust-chain';
export * from '../trace/client-address';
export * from './client-address-resolver';
export * from './explain-report';
export * from './explainer';
export * from './helm-values';
