/*
 * Checks shared by every construct. Each throws an error that names the property, shows the bad value,
 * says what is allowed and how to fix it (lowercase, no trailing period).
 */

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** A Kubernetes object name or namespace that must be a DNS-1123 label (at most 63 characters). */
export function checkDnsLabel(property: string, value: string): string {
  if (typeof value !== 'string' || value.length > 63 || !DNS1123_LABEL.test(value)) {
    throw new Error(`${property} "${value}" is not a valid DNS-1123 label: use at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit`);
  }
  return value;
}

/** A Kubernetes object name that must be a DNS-1123 subdomain (at most 253 characters). */
export function checkDnsSubdomain(property: string, value: string): string {
  if (typeof value !== 'string' || value.length > 253 || !DNS1123_SUBDOMAIN.test(value)) {
    throw new Error(`${property} "${value}" is not a valid DNS-1123 subdomain: use lowercase letters, digits, '-' and '.', at most 253 characters`);
  }
  return value;
}

/** A value as it appears in messages: numbers as written (NaN, Infinity), everything else as JSON. */
export function formatValue(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** A TCP/UDP port number, 1 to 65535. */
export function checkPort(property: string, value: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535) {
    throw new Error(`${property} ${formatValue(value)} is not a valid port: use a whole number from 1 to 65535`);
  }
  return value;
}

/** A whole number in [min, max]. */
export function checkInteger(property: string, value: number, min: number, max: number, fix?: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${property} ${formatValue(value)} is not allowed: use a whole number from ${min} to ${max}${fix ? `; ${fix}` : ''}`);
  }
  return value;
}

/** Kubernetes label selector map: valid keys and values, at least one entry. */
export function checkLabels(property: string, labels: { [key: string]: string }, allowEmpty = false): { [key: string]: string } {
  if (typeof labels !== 'object' || labels === null || Array.isArray(labels)) {
    throw new Error(`${property} ${JSON.stringify(labels)} is not a label map: give an object such as { app: "httpbin" }`);
  }
  const entries = Object.entries(labels);
  if (!allowEmpty && entries.length === 0) {
    throw new Error(`${property} is empty: give at least one label, such as { app: "httpbin" }, so that only the intended pods are selected`);
  }
  for (const [key, value] of entries) {
    if (!isQualifiedName(key)) {
      throw new Error(`${property} key "${key}" is not a valid label key: use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.'`);
    }
    if (typeof value !== 'string' || value.length > 63 || !LABEL_VALUE.test(value)) {
      throw new Error(`${property}["${key}"] value ${JSON.stringify(value)} is not a valid label value: use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit`);
    }
  }
  return { ...labels };
}

/**
 * An Istio host as used in Gateway servers and VirtualServices: "*", "*.example.com", "example.com",
 * optionally prefixed with "namespace/" (Gateway server hosts only).
 */
export function checkHostname(property: string, value: string, allowNamespacePrefix = false): string {
  const host = allowNamespacePrefix && typeof value === 'string' && value.includes('/') ? value.slice(value.indexOf('/') + 1) : value;
  const ns = allowNamespacePrefix && typeof value === 'string' && value.includes('/') ? value.slice(0, value.indexOf('/')) : undefined;
  const hostOk = typeof host === 'string' && host.length <= 253 && (host === '*' || /^(\*\.)?([a-z0-9]([-a-z0-9]*[a-z0-9])?)(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(host));
  const nsOk = ns === undefined || ns === '*' || ns === '.' || (ns.length <= 63 && DNS1123_LABEL.test(ns));
  if (!hostOk || !nsOk) {
    throw new Error(`${property} "${value}" is not a valid host: use a DNS name such as "app.example.com", a wildcard such as "*.example.com" or "*"${allowNamespacePrefix ? ', optionally prefixed with "namespace/"' : ''}`);
  }
  return value;
}

/** True for a Kubernetes qualified name: an optional DNS subdomain prefix and '/', then a 63-character name. */
function isQualifiedName(key: string): boolean {
  const slash = key.lastIndexOf('/');
  const name = slash === -1 ? key : key.slice(slash + 1);
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const prefixOk = prefix === undefined || (prefix.length <= 253 && DNS1123_SUBDOMAIN.test(prefix));
  return name.length > 0 && name.length <= 63 && LABEL_KEY_NAME.test(name) && prefixOk;
}

/** Kubernetes annotations: qualified-name keys and string values. */
export function checkAnnotations(property: string, annotations: { [key: string]: string } | undefined): { [key: string]: string } {
  if (annotations === undefined) return {};
  if (typeof annotations !== 'object' || annotations === null || Array.isArray(annotations)) {
    throw new Error(`${property} ${JSON.stringify(annotations)} is not an annotation map: give an object such as { "example.com/key": "value" }`);
  }
  for (const [key, value] of Object.entries(annotations)) {
    if (!isQualifiedName(key)) {
      throw new Error(`${property} key "${key}" is not a valid annotation key: use an optional DNS subdomain prefix and '/', then at most 63 letters, digits, '-', '_' or '.'`);
    }
    if (typeof value !== 'string') {
      throw new Error(`${property}["${key}"] value ${formatValue(value)} is not a string: annotation values are strings, e.g. "true" or "80,443"`);
    }
  }
  return { ...annotations };
}

/** `spec.loadBalancerClass`: a label-style key with a domain prefix, e.g. "service.k8s.aws/nlb". */
export function checkLoadBalancerClass(property: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !value.includes('/') || !isQualifiedName(value)) {
    throw new Error(`${property} ${JSON.stringify(value)} is not a valid load balancer class: use a domain-prefixed name such as "service.k8s.aws/nlb"`);
  }
  return value;
}

const PATH_MARK = ' (construct "';

/** Runs `resolve`, naming the construct `path` in an error it throws. */
export function resolveWithPath<T>(path: string, resolve: () => T): T {
  try {
    return resolve();
  } catch (e) {
    throw withConstructPath(e, path);
  }
}

/** The path a construct with `id` under `scope` will have, for messages thrown before it exists. */
export function constructPathOf(scope: { node: { path: string } }, id: string): string {
  return scope.node.path === '' ? id : `${scope.node.path}/${id}`;
}

/**
 * Names the construct in an error thrown while its props are resolved (once: the innermost construct wins), so
 * the message says where as well as what. Returns the error for `throw`.
 */
export function withConstructPath(error: unknown, path: string): unknown {
  if (error instanceof Error && error.constructor === Error && !error.message.includes(PATH_MARK)) {
    error.message = `${error.message}${PATH_MARK}${path}")`;
  }
  return error;
}

/**
 * A target's selector that a policy or filter copies: an empty one would reach every pod of `namespace` (Istio applies
 * an AuthorizationPolicy or EnvoyFilter without selector labels to the whole namespace), so it is refused; the only
 * way to a namespace-wide object is an explicit scope. Returns the message, or undefined when the selector has labels.
 *
 * @param property the property that gives the target, for the message
 * @param who the target as the message names it (its construct path)
 * @param selector the target's pod selector
 * @param namespace the namespace the object lands in
 * @param object what would be written, e.g. "an AuthorizationPolicy"
 */
export function emptySelectorProblem(property: string, who: string | (() => string), selector: { [key: string]: string } | undefined,
  namespace: string, object: string | (() => string)): string | undefined {
  if (selector !== undefined && selector !== null && typeof selector === 'object' && Object.keys(selector).length > 0) return undefined;
  return `${property} "${typeof who === 'function' ? who() : who}" selects its pods with selector ${JSON.stringify(selector ?? {})}, which is not allowed: ${typeof object === 'function' ? object() : object} with an empty selector applies to every workload in namespace "${namespace}", not only the target's pods; `
    + 'give the pods labels (on a Deployment or other ApiObject: spec.template.metadata.labels and the same spec.selector.matchLabels, e.g. { app: "httpbin" })';
}

/** Throws `emptySelectorProblem`'s message when the selector is empty; returns the selector. */
export function checkTargetSelector(property: string, who: string | (() => string), selector: { [key: string]: string } | undefined,
  namespace: string, object: string | (() => string)): { [key: string]: string } {
  const problem = emptySelectorProblem(property, who, selector, namespace, object);
  if (problem !== undefined) throw new Error(problem);
  return selector!;
}
