// Public API of src/plugin: the cdk8s validation plugin.
export * from './source-ip-validation';
