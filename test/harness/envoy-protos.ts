import * as fs from 'fs';
import * as path from 'path';
import * as protobuf from 'protobufjs';
import { contentHash, isComplete, packageVersion, preparedDir, writeAtomically } from './prepared-cache';

/**
 * Validates the Envoy configuration inside EnvoyFilter patches against Envoy's own protos, as shipped in
 * `@grpc/grpc-js-xds` (deps/envoy-api), loaded with protobufjs and checked with the proto3 JSON mapping:
 * field names in snake_case or lowerCamelCase, wrapper types as plain values, Duration as strings, enums by
 * name or number, `google.protobuf.Any` by its `@type`, and the protoc-gen-validate rules Envoy declares
 * (required messages and oneofs, string length, integer bounds).
 */

const DEPS = path.dirname(require.resolve('@grpc/grpc-js-xds/package.json'));
const INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate']
  .map(d => path.join(DEPS, 'deps', d))
  .concat([path.dirname(require.resolve('protobufjs/package.json'))]);

/** Files whose imports (opencensus, opentelemetry, prometheus) are not shipped; nothing we emit uses them. */
const UNLOADABLE = [
  /^envoy\/service\//,
  /^envoy\/config\/trace\/v3\/(opencensus|trace)\.proto$/,
  /^envoy\/extensions\/access_loggers\/open_telemetry\/v3\/logs_service\.proto$/,
];

/**
 * Fields newer than the protos shipped in @grpc/grpc-js-xds 1.14 (they predate Envoy 1.32). Declared here
 * by number and type exactly as in envoyproxy/envoy api/envoy/extensions/http/original_ip_detection/xff/v3/xff.proto,
 * so that patches using them are still checked field by field. Remove when the shipped protos have them.
 */
function addFieldsNewerThanShippedProtos(root: protobuf.Root): void {
  addLocalRateLimitFieldsNewerThanShippedProtos(root);
  const xff = root.lookupType('envoy.extensions.http.original_ip_detection.xff.v3.XffConfig');
  if (xff.fields.xff_trusted_cidrs) return;
  const cidrs = new protobuf.Type('XffTrustedCidrs');
  cidrs.add(new protobuf.Field('cidrs', 1, 'envoy.config.core.v3.CidrRange', 'repeated'));
  xff.parent!.add(cidrs);
  xff.add(new protobuf.Field('xff_trusted_cidrs', 2, 'XffTrustedCidrs'));
  xff.add(new protobuf.Field('skip_xff_append', 3, 'google.protobuf.BoolValue'));
  root.resolveAll();
}

/**
 * Envoy 1.34's dynamic descriptors (envoyproxy/envoy#36623), declared as in envoyproxy/envoy
 * api/envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto (`google.protobuf.UInt32Value
 * max_dynamic_descriptors = 18`, `uint32 = {gte: 1}` on the wrapper) and api/envoy/extensions/common/ratelimit/v3/
 * ratelimit.proto (a descriptor entry's `value` lost its `min_len: 1`: an empty value is the wildcard).
 */
function addLocalRateLimitFieldsNewerThanShippedProtos(root: protobuf.Root): void {
  const local = root.lookupType('envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit');
  if (!local.fields.max_dynamic_descriptors) {
    local.add(new protobuf.Field('max_dynamic_descriptors', 18, 'google.protobuf.UInt32Value', undefined, undefined, { '(validate.rules).uint32.gte': 1 }));
  }
  const entry = root.lookupType('envoy.extensions.common.ratelimit.v3.RateLimitDescriptor.Entry');
  if (entry.fields.value.options?.['(validate.rules).string.min_len'] === 1) delete entry.fields.value.options['(validate.rules).string.min_len'];
  root.resolveAll();
}

function protoFiles(dir: string, rel = ''): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
    const p = path.posix.join(rel, e.name);
    if (e.isDirectory()) out.push(...protoFiles(dir, p));
    else if (e.name.endsWith('.proto') && /\/v3\//.test(p) && !UNLOADABLE.some(r => r.test(p))) out.push(p);
  }
  return out;
}

let cachedRoot: protobuf.Root | undefined;

const ROOT_JSON = 'envoy-root.json';

/** Where the prepared proto descriptors live, keyed by the shipped protos' package version and this harness. */
function preparedProtosDir(): string {
  const inputs = [__filename.replace(/\.js$/, '.ts'), path.join(__dirname, 'prepared-cache.ts')].filter(f => fs.existsSync(f));
  return preparedDir('envoy-protos', contentHash(inputs, [packageVersion('@grpc/grpc-js-xds'), packageVersion('protobufjs')]));
}

function loadEnvoyProtoFiles(): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => {
    for (const d of INCLUDE_DIRS) {
      const p = path.join(d, target);
      if (fs.existsSync(p)) return p;
    }
    return target;
  };
  const envoyApi = path.join(DEPS, 'deps', 'envoy-api');
  root.loadSync(protoFiles(envoyApi, 'envoy'), { keepCase: true });
  root.resolveAll();
  addFieldsNewerThanShippedProtos(root);
  return root;
}

/** Loads Envoy's protos once per test run (jest globalSetup) and stores their descriptors as JSON. */
export function prepareEnvoyProtos(): void {
  const dir = preparedProtosDir();
  if (isComplete(dir)) return;
  const json = JSON.stringify(loadEnvoyProtoFiles().toJSON());
  writeAtomically(dir, tmp => fs.writeFileSync(path.join(tmp, ROOT_JSON), json));
}

/** All Envoy v3 protos shipped in @grpc/grpc-js-xds: from the prepared descriptors when present, else parsed here. */
export function envoyRoot(): protobuf.Root {
  if (!cachedRoot) {
    const dir = preparedProtosDir();
    if (isComplete(dir)) {
      const root = protobuf.Root.fromJSON(JSON.parse(fs.readFileSync(path.join(dir, ROOT_JSON), 'utf-8')));
      root.resolveAll();
      cachedRoot = root;
    } else {
      cachedRoot = loadEnvoyProtoFiles();
    }
  }
  return cachedRoot;
}

const TYPE_URL_PREFIX = 'type.googleapis.com/';
const INT32 = [-(2 ** 31), 2 ** 31 - 1];
const UINT32 = [0, 2 ** 32 - 1];

interface Ctx {
  readonly errors: string[];
  /** True for a MERGE patch body: required fields may come from the config being merged into. */
  readonly partial: boolean;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkInteger(v: unknown, [min, max]: number[], p: string, ctx: Ctx, allowString: boolean): void {
  const n = typeof v === 'string' && allowString && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
    ctx.errors.push(`${p}: ${JSON.stringify(v)} is not an integer in [${min}, ${max}]`);
  }
}

function checkScalar(type: string, v: unknown, p: string, ctx: Ctx): void {
  switch (type) {
    case 'bool':
      if (typeof v !== 'boolean') ctx.errors.push(`${p}: expected a boolean, got ${JSON.stringify(v)}`);
      return;
    case 'string':
    case 'bytes':
      if (typeof v !== 'string') ctx.errors.push(`${p}: expected a string, got ${JSON.stringify(v)}`);
      return;
    case 'double':
    case 'float':
      if (typeof v !== 'number' && !['NaN', 'Infinity', '-Infinity'].includes(v as string)) {
        ctx.errors.push(`${p}: expected a number, got ${JSON.stringify(v)}`);
      }
      return;
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      return checkInteger(v, INT32, p, ctx, true);
    case 'uint32':
    case 'fixed32':
      return checkInteger(v, UINT32, p, ctx, true);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return checkInteger(v, [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], p, ctx, true);
    case 'uint64':
    case 'fixed64':
      return checkInteger(v, [0, Number.MAX_SAFE_INTEGER], p, ctx, true);
    default:
      ctx.errors.push(`${p}: unsupported scalar type ${type}`);
  }
}

const WRAPPERS: Record<string, string> = {
  'google.protobuf.BoolValue': 'bool',
  'google.protobuf.StringValue': 'string',
  'google.protobuf.BytesValue': 'bytes',
  'google.protobuf.UInt32Value': 'uint32',
  'google.protobuf.Int32Value': 'int32',
  'google.protobuf.UInt64Value': 'uint64',
  'google.protobuf.Int64Value': 'int64',
  'google.protobuf.DoubleValue': 'double',
  'google.protobuf.FloatValue': 'float',
};

/** Handles the well-known types' special JSON forms; returns false for ordinary messages. */
function checkWellKnown(name: string, v: unknown, p: string, ctx: Ctx): boolean {
  if (WRAPPERS[name]) {
    checkScalar(WRAPPERS[name], v, p, ctx);
    return true;
  }
  switch (name) {
    case 'google.protobuf.Duration':
      if (typeof v !== 'string' || !/^-?\d+(\.\d{1,9})?s$/.test(v)) ctx.errors.push(`${p}: expected a Duration string such as "1.5s", got ${JSON.stringify(v)}`);
      return true;
    case 'google.protobuf.Timestamp':
    case 'google.protobuf.FieldMask':
      if (typeof v !== 'string') ctx.errors.push(`${p}: expected a string, got ${JSON.stringify(v)}`);
      return true;
    case 'google.protobuf.Struct':
      if (!isPlainObject(v)) ctx.errors.push(`${p}: expected an object, got ${JSON.stringify(v)}`);
      return true;
    case 'google.protobuf.ListValue':
      if (!Array.isArray(v)) ctx.errors.push(`${p}: expected a list, got ${JSON.stringify(v)}`);
      return true;
    case 'google.protobuf.Value':
      return true;
    case 'google.protobuf.Empty':
      if (!isPlainObject(v) || Object.keys(v).length) ctx.errors.push(`${p}: expected {}, got ${JSON.stringify(v)}`);
      return true;
    case 'google.protobuf.Any':
      checkAny(v, p, ctx);
      return true;
    default:
      return false;
  }
}

/** The message type a `google.protobuf.Any` names, or an error when `@type` is missing or unknown. */
function checkAny(v: unknown, p: string, ctx: Ctx): void {
  if (!isPlainObject(v)) {
    ctx.errors.push(`${p}: expected an object with "@type", got ${JSON.stringify(v)}`);
    return;
  }
  const typeUrl = v['@type'];
  if (typeof typeUrl !== 'string' || !typeUrl.startsWith(TYPE_URL_PREFIX)) {
    ctx.errors.push(`${p}: missing or malformed "@type" (got ${JSON.stringify(typeUrl)}); Envoy looks extensions up by type URL only`);
    return;
  }
  const typeName = typeUrl.slice(TYPE_URL_PREFIX.length);
  const type = lookupMessage(typeName);
  if (!type) {
    ctx.errors.push(`${p}: unknown type "${typeUrl}"`);
    return;
  }
  if (typeName === 'udpa.type.v1.TypedStruct' || typeName === 'xds.type.v3.TypedStruct') {
    const inner = typeof v.type_url === 'string' ? v.type_url : '';
    checkAny({ '@type': inner, ...(isPlainObject(v.value) ? v.value : {}) }, `${p}.value`, ctx);
    return;
  }
  const rest = { ...v };
  delete rest['@type'];
  if (WRAPPERS[typeName] || typeName.startsWith('google.protobuf.')) {
    checkWellKnown(typeName, rest.value, `${p}.value`, ctx);
    return;
  }
  checkMessage(type, rest, p, ctx);
}

function lookupMessage(fullName: string): protobuf.Type | undefined {
  try {
    return envoyRoot().lookupType(fullName);
  } catch {
    return undefined;
  }
}

function fieldByJsonKey(type: protobuf.Type, key: string): protobuf.Field | undefined {
  return type.fields[key] ?? type.fieldsArray.find(f => (f as any).json === key || camel(f.name) === key);
}

function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
}

function checkPgvRules(field: protobuf.Field, v: unknown, p: string, ctx: Ctx): void {
  const o = field.options ?? {};
  for (const kind of ['uint32', 'int32', 'uint64', 'int64', 'double']) {
    const n = typeof v === 'number' ? v : Number(v);
    const lt = o[`(validate.rules).${kind}.lt`];
    const lte = o[`(validate.rules).${kind}.lte`];
    const gt = o[`(validate.rules).${kind}.gt`];
    const gte = o[`(validate.rules).${kind}.gte`];
    if (lt !== undefined && !(n < lt)) ctx.errors.push(`${p}: ${n} must be < ${lt}`);
    if (lte !== undefined && !(n <= lte)) ctx.errors.push(`${p}: ${n} must be <= ${lte}`);
    if (gt !== undefined && !(n > gt)) ctx.errors.push(`${p}: ${n} must be > ${gt}`);
    if (gte !== undefined && !(n >= gte)) ctx.errors.push(`${p}: ${n} must be >= ${gte}`);
  }
  const minLen = o['(validate.rules).string.min_len'];
  if (minLen !== undefined && typeof v === 'string' && v.length < minLen) ctx.errors.push(`${p}: must have at least ${minLen} characters`);
  const minItems = o['(validate.rules).repeated.min_items'];
  if (minItems !== undefined && Array.isArray(v) && v.length < minItems) ctx.errors.push(`${p}: must have at least ${minItems} items`);
}

function checkValue(field: protobuf.Field, v: unknown, p: string, ctx: Ctx): void {
  const resolved = field.resolve().resolvedType;
  if (resolved instanceof protobuf.Enum) {
    const ok = typeof v === 'string' ? v in resolved.values : Object.values(resolved.values).includes(v as number);
    if (!ok) ctx.errors.push(`${p}: ${JSON.stringify(v)} is not a value of ${resolved.fullName.slice(1)} (${Object.keys(resolved.values).join(', ')})`);
    return;
  }
  if (resolved instanceof protobuf.Type) {
    const name = resolved.fullName.slice(1);
    if (checkWellKnown(name, v, p, ctx)) return;
    checkMessage(resolved, v, p, { errors: ctx.errors, partial: false });
    return;
  }
  checkScalar(field.type, v, p, ctx);
  checkPgvRules(field, v, p, ctx);
}

/** Checks one JSON object as message `type`; appends readable errors to `ctx.errors`. */
function checkMessage(type: protobuf.Type, v: unknown, p: string, ctx: Ctx): void {
  if (!isPlainObject(v)) {
    ctx.errors.push(`${p}: expected a ${type.fullName.slice(1)} object, got ${JSON.stringify(v)}`);
    return;
  }
  const setFields = new Set<string>();
  for (const [key, value] of Object.entries(v)) {
    const fp = `${p}.${key}`;
    const field = fieldByJsonKey(type, key);
    if (!field) {
      ctx.errors.push(`${fp}: unknown field in ${type.fullName.slice(1)}`);
      continue;
    }
    if (setFields.has(field.name)) ctx.errors.push(`${fp}: field ${field.name} given twice`);
    setFields.add(field.name);
    if (value === null) continue;
    if (field instanceof protobuf.MapField) {
      if (!isPlainObject(value)) ctx.errors.push(`${fp}: expected a map object`);
      else for (const [k, item] of Object.entries(value)) checkValue(field, item, `${fp}[${k}]`, ctx);
    } else if (field.repeated) {
      if (!Array.isArray(value)) {ctx.errors.push(`${fp}: expected a list, got ${JSON.stringify(value)}`);} else {
        checkPgvRules(field, value, fp, ctx);
        value.forEach((item, i) => checkValue(field, item, `${fp}[${i}]`, ctx));
      }
    } else {
      checkValue(field, value, fp, ctx);
      if (field.resolvedType) checkPgvRules(field, value, fp, ctx);
    }
  }
  for (const oneof of type.oneofsArray) {
    const set = oneof.oneof.filter(n => setFields.has(n));
    if (set.length > 1) ctx.errors.push(`${p}: only one of ${oneof.oneof.join(', ')} may be set, got ${set.join(', ')}`);
    if (!ctx.partial && set.length === 0 && oneof.options?.['(validate.required)']) {
      ctx.errors.push(`${p}: one of ${oneof.oneof.join(', ')} is required in ${type.fullName.slice(1)}`);
    }
  }
  if (!ctx.partial) {
    for (const f of type.fieldsArray) {
      if (f.options?.['(validate.rules).message.required'] && !setFields.has(f.name)) {
        ctx.errors.push(`${p}.${f.name}: required in ${type.fullName.slice(1)}`);
      }
    }
  }
}

/** What each EnvoyFilter `applyTo` patches, as an Envoy message. */
const APPLY_TO_TYPE: Record<string, string> = {
  LISTENER: 'envoy.config.listener.v3.Listener',
  FILTER_CHAIN: 'envoy.config.listener.v3.FilterChain',
  NETWORK_FILTER: 'envoy.config.listener.v3.Filter',
  HTTP_FILTER: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  LISTENER_FILTER: 'envoy.config.listener.v3.ListenerFilter',
  CLUSTER: 'envoy.config.cluster.v3.Cluster',
  ROUTE_CONFIGURATION: 'envoy.config.route.v3.RouteConfiguration',
  VIRTUAL_HOST: 'envoy.config.route.v3.VirtualHost',
  HTTP_ROUTE: 'envoy.config.route.v3.Route',
  EXTENSION_CONFIG: 'envoy.config.core.v3.TypedExtensionConfig',
};

const FILTER_KINDS = new Set(['LISTENER_FILTER', 'NETWORK_FILTER', 'HTTP_FILTER']);

/**
 * Errors for every patch of an EnvoyFilter manifest. A filter that is added without a `typed_config`
 * carrying an `@type` is an error (istio/istio#49836), as is any unknown field, wrong type or enum name.
 */
export function validateEnvoyFilter(manifest: any): string[] {
  const errors: string[] = [];
  const patches: any[] = manifest?.spec?.configPatches ?? [];
  patches.forEach((cp, i) => {
    const p = `EnvoyFilter/${manifest.metadata?.name} configPatches[${i}]`;
    const op = cp?.patch?.operation;
    if (op === 'REMOVE') return;
    const typeName = APPLY_TO_TYPE[cp?.applyTo];
    if (!typeName) {
      errors.push(`${p}.applyTo: ${JSON.stringify(cp?.applyTo)} has no Envoy message to validate against`);
      return;
    }
    const value = cp?.patch?.value;
    if (value === undefined) {
      errors.push(`${p}.patch.value: missing for operation ${op}`);
      return;
    }
    const partial = op === 'MERGE' || op === 'MERGE_AND_REPLACE_LIST';
    if (FILTER_KINDS.has(cp.applyTo) && !isPlainObject(value?.typed_config) && !isPlainObject(value?.typedConfig)) {
      errors.push(`${p}.patch.value.typed_config: required with "@type" (a filter named without a typed_config is rejected by Envoy, istio/istio#49836)`);
    }
    // A MERGE body is partial at the patched object and its own typed_config (merged into the existing
    // config); anything nested deeper is a complete new message and must satisfy Envoy's required rules.
    checkMessage(envoyRoot().lookupType(typeName), value, `${p}.patch.value`, { errors, partial });
  });
  return errors;
}

/** Errors for one Envoy message given in proto3 JSON; used by tests of single Envoy snippets. */
export function validateEnvoyMessage(typeName: string, value: unknown, partial = false): string[] {
  const errors: string[] = [];
  const type = lookupMessage(typeName);
  if (!type) return [`unknown Envoy type ${typeName}`];
  checkMessage(type, value, typeName.split('.').pop()!, { errors, partial });
  return errors;
}
