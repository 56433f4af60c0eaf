export * from './source-ip-policy';
export * from './cidr-list-policy';
