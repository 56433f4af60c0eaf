import { Duration } from 'cdk8s';

/** Options of `rateLimitPerClient()`: how many requests each client may send, per proxy replica. */
export interface RateLimitPerClientProps {
  /**
   * Requests each client may send per `per` (Envoy's `tokens_per_fill`): a whole number from 1.
   */
  readonly requests: number;

  /**
   * The interval in which a client gets `requests` new tokens (Envoy's `fill_interval`): whole milliseconds, at least
   * 50ms (Envoy refuses faster refills), for example `Duration.seconds(1)` or `Duration.minutes(1)`.
   */
  readonly per: Duration;

  /**
   * The most requests a client may send at once (Envoy's `max_tokens`, the bucket size): at least `requests`, since
   * a bucket smaller than one refill would silently lower the rate to `burst` per `per`.
   *
   * @default - the same as `requests`
   */
  readonly burst?: number;

  /**
   * How many client buckets each proxy replica keeps (Envoy's `max_dynamic_descriptors`). When a new client arrives
   * and every bucket is taken, Envoy drops the bucket of the client seen least recently; that client starts over with
   * a full bucket when it comes back. Envoy's own default is 20.
   *
   * @default 10000
   */
  readonly maxClients?: number;

  /**
   * `metadata.name` of the EnvoyFilter.
   *
   * @default - the target's name followed by "-rate-limit-per-client"
   */
  readonly name?: string;
}
