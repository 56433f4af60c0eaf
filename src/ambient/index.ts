// Public API of src/ambient.
export * from './ambient-namespace';
export * from './ambient-workload';
export * from './waypoint';
export * from './waypoint-service-target';
