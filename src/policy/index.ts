export * from './source-ip-policy';
export * from './cidr-list-policy';
export * from './cdn-only-policy';
export * from './rate-limit-props';
