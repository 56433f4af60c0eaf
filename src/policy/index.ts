export * from './source-ip-policy';
