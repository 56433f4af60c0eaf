export * from './source-ip-policy';
export * from './cidr-list-policy';
export * from './cdn-only-policy';
export { RateLimitPerClientProps } from './rate-limit-per-client';
