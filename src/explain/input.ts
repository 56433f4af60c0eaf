import { readdirSync, statSync } from 'fs';
import { join } from 'path';
import { escapeForTerminal } from './escape';

/*
 * Reading manifest text for explain: YAML or JSON, one or many documents, `List`s flattened. Input that cannot
 * be read at all (not text, not YAML, nested too deeply, aliases that expand without bound) is refused with an
 * error that names the file, the document and what was expected; the CLI exits 2 on it. A document that is read but
 * is not a map (a stray scalar) is kept as a `NonObjectDocument`, which explain lists as skipped. Every object
 * read remembers where it came from, so that findings and skipped objects can point at it.
 */

/** Limits on what explain reads; each keeps work and memory linear in the size of the input. */
export const INPUT_LIMITS = {
  /** Nesting levels of one document; Kubernetes and Istio objects need about 20. */
  maxDepth: 100,
  /** Values a document may expand to through YAML aliases: this floor, plus `expansionPerByte` per byte of input. */
  minExpandedValues: 100_000,
  expansionPerByte: 4,
};

const INPUT_ERRORS = new WeakSet<Error>();

/**
 * Input explain cannot read: a plain Error (like every error of the library) whose message names the file and,
 * where known, the document; the CLI tells it from a bug with isManifestInputError.
 */
export function manifestInputError(source: string, message: string, document?: number): Error {
  const error = new Error(`${source}: ${document !== undefined ? `document ${document} ` : ''}${message}`);
  INPUT_ERRORS.add(error);
  return error;
}

/** True for the errors of unreadable input (CLI exit code 2). */
export function isManifestInputError(e: unknown): e is Error {
  return e instanceof Error && INPUT_ERRORS.has(e);
}

/** Where an object was read from. */
export interface ManifestOrigin {
  readonly source: string;
  /** 1-based document number in the source; 0 for an object explain made itself (from Helm values, say). */
  readonly document: number;
  /** 0-based index in the document's `List` items, when it came from a List. */
  readonly item?: number;
}

const ORIGINS = new WeakMap<object, ManifestOrigin>();

/** Where `o` was read from, if it was read from text. */
export function originOf(o: unknown): ManifestOrigin | undefined {
  return o !== null && typeof o === 'object' ? ORIGINS.get(o) : undefined;
}

/** Records where an object explain made itself (a gateway from Helm values) comes from, for messages. */
export function rememberOrigin(o: object, origin: ManifestOrigin): void {
  if (!ORIGINS.has(o)) ORIGINS.set(o, origin);
}

/** Gives an object the origin of another it stands for (a replica the stream kept for its group). */
export function moveOrigin(o: object, origin: ManifestOrigin): void {
  ORIGINS.set(o, origin);
}

/** "a.yaml document 3, List item 2", for messages. */
export function describeOrigin(origin: ManifestOrigin | undefined): string | undefined {
  if (origin === undefined) return undefined;
  if (origin.document === 0) return origin.source;
  return `${origin.source} document ${origin.document}${origin.item !== undefined ? `, List item ${origin.item}` : ''}`;
}

/** The text of a file, refused when it is not text: binary data is never echoed. */
export function checkText(text: string, source: string): void {
  const nul = text.indexOf('\u0000');
  const replaced = text.indexOf('\uFFFD');
  const at = nul === -1 ? replaced : replaced === -1 ? nul : Math.min(nul, replaced);
  if (text.startsWith('\uFFFD\uFFFD')) {
    throw manifestInputError(source, 'is not UTF-8: it starts with a UTF-16 byte-order mark; save it as UTF-8 (e.g. iconv -f UTF-16 -t UTF-8)');
  }
  if (at !== -1) {
    throw manifestInputError(source, `is not text: it has ${text[at] === '\u0000' ? 'a NUL byte' : 'bytes that are not UTF-8'} at character ${at}; give YAML or JSON manifests (binary content is not shown)`);
  }
}

/** Where a piece of a stream sits: its document number, and its List item when the stream split a List. */
export interface StreamPosition {
  readonly document: number;
  readonly item?: number;
  /** The index of the first item of a List read whole after some of its items were streamed. */
  readonly firstItem?: number;
}

/**
 * Splits YAML or JSON text into manifest objects; a document that is a `List` is flattened. Throws
 * a manifest input error when the text cannot be read. `at` places a piece of a stream (one document or one List
 * item, see stream.ts) in its source, for origins and messages.
 */
export function readManifestText(text: string, source = 'input', at?: StreamPosition): any[] {
  checkText(text, source);
  const limit = INPUT_LIMITS.minExpandedValues + INPUT_LIMITS.expansionPerByte * text.length;
  const first = at?.document ?? 1;
  const documents = parseDocuments(text, source, first);
  const out: any[] = [];
  documents.forEach((value, i) => {
    const document = first + i;
    const here: ManifestOrigin = at?.item !== undefined ? { source, document, item: at.item } : { source, document };
    if (value === null || value === undefined) return;
    if (typeof value !== 'object') {
      // kubectl refuses such a document but reads the others: explain lists it as skipped and reads the rest.
      out.push(nonObjectDocument(value, here));
      return;
    }
    checkShape(value, source, document, limit);
    // A List (kind List or <Kind>List, as kubectl reads it), or a JSON array of objects (chart.toJson() saved to a
    // file), is read item by item.
    const items = Array.isArray(value) ? value : isListObject(value) ? value.items : undefined;
    if (items) {
      items.forEach((item: unknown, j: number) => {
        if (item === null || item === undefined) return;
        if (typeof item !== 'object') {
          out.push(nonObjectDocument(item, { source, document, item: (at?.firstItem ?? 0) + j }));
          return;
        }
        if (!ORIGINS.has(item)) ORIGINS.set(item, { source, document, item: (at?.firstItem ?? 0) + j });
        out.push(item);
      });
      return;
    }
    if (typeof value === 'object' && !ORIGINS.has(value)) ORIGINS.set(value, here);
    out.push(value);
  });
  return out;
}

/** True when `path` names a directory (false for files, "-" and paths that do not exist). */
export function isDirectory(path: string): boolean {
  return path !== '-' && statSync(path, { throwIfNoEntry: false })?.isDirectory() === true;
}

/**
 * The manifest files of a directory, as explain and the validation plugin read it: every `.yaml` and `.yml` file in
 * it and in its subdirectories (`cdk8s synth` writes one subdirectory per chart with the output type
 * FOLDER_PER_CHART_FILE_PER_RESOURCE), sorted by path, so that the report does not depend on the file system's order.
 * Throws a manifest input error when there is none.
 */
export function manifestFilesIn(dir: string, source = dir): string[] {
  const files: string[] = [];
  const walk = (relative: string): void => {
    for (const entry of readdirSync(join(dir, relative), { withFileTypes: true })) {
      const path = relative === '' ? entry.name : join(relative, entry.name);
      // Symbolic links are followed to files only: a link to a directory could loop.
      const stat = entry.isSymbolicLink() ? statSync(join(dir, path), { throwIfNoEntry: false }) : entry;
      if (stat?.isDirectory() && !entry.isSymbolicLink()) walk(path);
      else if (stat?.isFile() && /\.ya?ml$/.test(entry.name)) files.push(path);
    }
  };
  walk('');
  if (files.length === 0) {
    throw manifestInputError(source, 'is a directory without .yaml or .yml files: give the directory cdk8s synth writes to (e.g. dist) or the manifest files');
  }
  // Code-unit order, not the locale's: the same on every machine.
  return files.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(f => join(dir, f));
}

/**
 * Reads a Helm values file: one YAML (or JSON) map, empty meaning no values. Throws a manifest input error
 * when the text cannot be read or is not one map.
 */
export function readValuesText(text: string, source = 'values'): { [key: string]: any } {
  checkText(text, source);
  const limit = INPUT_LIMITS.minExpandedValues + INPUT_LIMITS.expansionPerByte * text.length;
  const documents = parseDocuments(text, source, 1).filter(d => d !== null && d !== undefined);
  if (documents.length > 1) {
    throw manifestInputError(source, `holds ${documents.length} YAML documents: a Helm values file is one map; give each release's values in its own file`);
  }
  const value = documents[0] ?? {};
  if (!isPlainObject(value)) {
    throw manifestInputError(source, `is ${Array.isArray(value) ? 'a list' : `${typeof value} ${escapeForTerminal(JSON.stringify(value).slice(0, 40))}`}, not a map of Helm values (e.g. meshConfig: or service:)`, 1);
  }
  checkShape(value, source, 1, limit);
  return value;
}

function parseDocuments(text: string, source: string, first: number): unknown[] {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    // JSON (kubectl get -o json) is read exactly and fast; anything JSON.parse refuses may still be YAML flow style.
    try {
      return [JSON.parse(text)];
    } catch {
      // fall through to YAML
    }
  }
  const documents: unknown[] = [];
  try {
    const options = { filename: source, schema: yaml().CORE_SCHEMA, maxDepth: INPUT_LIMITS.maxDepth };
    yaml().loadAll(text, (doc: unknown) => { documents.push(doc); }, options as any);
  } catch (e) {
    throw yamlError(e, source, text, documents.length + 1, first - 1);
  }
  return documents;
}

function yamlError(e: unknown, source: string, text: string, parsed: number, before: number): Error {
  if (e instanceof RangeError) {
    return manifestInputError(source, `is too deeply nested to read: ${e.message}; manifests need about 20 levels`, before + parsed);
  }
  const error = e as { reason?: string; mark?: { line: number; column: number }; message?: string };
  const document = before + (error.mark ? documentAt(text, error.mark.line) : parsed);
  const where = error.mark ? ` at line ${error.mark.line + 1}, column ${error.mark.column + 1}` : '';
  const reason = error.reason ?? String(error.message ?? e).split('\n')[0];
  if (/maxDepth/.test(reason)) {
    return manifestInputError(source, `is too deeply nested${where}: more than ${INPUT_LIMITS.maxDepth} levels; Kubernetes and Istio objects need about 20`, document);
  }
  return manifestInputError(source, `is not valid YAML${where}: ${escapeForTerminal(reason)}`, document);
}

/**
 * One pass over a document, each distinct node once: refuses nesting deeper than the limit, an alias that
 * contains itself, and aliases that expand to more values than the limit (an alias bomb), because code that
 * walks the objects would do that much work.
 */
function checkShape(root: unknown, source: string, document: number, limit: number): void {
  const sizes = new Map<object, number>();
  const inProgress = new Set<object>();
  interface Frame { readonly node: object; readonly children: unknown[]; index: number; size: number }
  const stack: Frame[] = [];
  const enter = (node: object): void => {
    if (stack.length >= INPUT_LIMITS.maxDepth) {
      throw manifestInputError(source, `is too deeply nested: more than ${INPUT_LIMITS.maxDepth} levels; Kubernetes and Istio objects need about 20`, document);
    }
    inProgress.add(node);
    stack.push({ node, children: Array.isArray(node) ? node : Object.values(node), index: 0, size: 1 });
  };
  if (root === null || typeof root !== 'object') return;
  enter(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1];
    if (frame.index < frame.children.length) {
      const child = frame.children[frame.index++];
      if (child === null || typeof child !== 'object') {
        frame.size += 1;
      } else if (sizes.has(child)) {
        frame.size += sizes.get(child)!;
      } else if (inProgress.has(child)) {
        throw manifestInputError(source, 'contains itself through a YAML alias (an anchor used inside its own value); write the value out instead', document);
      } else {
        enter(child);
      }
      if (frame.size > limit) throw aliasBomb(source, document, limit);
      continue;
    }
    stack.pop();
    inProgress.delete(frame.node);
    sizes.set(frame.node, frame.size);
    if (stack.length > 0) {
      const parent = stack[stack.length - 1];
      parent.size += frame.size;
      if (parent.size > limit) throw aliasBomb(source, document, limit);
    }
  }
}

function aliasBomb(source: string, document: number, limit: number): Error {
  return manifestInputError(source, `expands through YAML aliases to more than ${limit} values (${INPUT_LIMITS.minExpandedValues} plus ${INPUT_LIMITS.expansionPerByte} per byte of input); write fewer aliases or expand them`, document);
}

/** The 1-based number of the document that holds 0-based `line`: "---" lines after some content start a new one. */
function documentAt(text: string, line: number): number {
  let document = 1;
  let content = false;
  let start = 0;
  for (let i = 0; i <= line && start <= text.length; i++) {
    const end = text.indexOf('\n', start);
    const current = text.slice(start, end === -1 ? text.length : end);
    if (/^---(\s|$)/.test(current)) {
      if (content) document++;
      content = current.slice(3).trim() !== '' && !current.slice(3).trim().startsWith('#');
    } else if (current.trim() !== '' && !current.trimStart().startsWith('#') && !current.startsWith('%')) {
      content = true;
    }
    if (end === -1) break;
    start = end + 1;
  }
  return document;
}

/**
 * A document (or List item) that is a scalar, not a map: kept in the input so that explain lists it as skipped,
 * with where it was, instead of refusing the whole file.
 */
export class NonObjectDocument {
  /** @param value the scalar as YAML read it */
  public constructor(public readonly value: unknown) {}
}

function nonObjectDocument(value: unknown, origin: ManifestOrigin): NonObjectDocument {
  const wrapped = new NonObjectDocument(value);
  ORIGINS.set(wrapped, origin);
  return wrapped;
}

/** A List as kubectl reads it: kind `List` or `<Kind>List` (what the API returns) with an `items` list. */
export function isListObject(v: unknown): v is { kind: string; items: unknown[] } {
  return isPlainObject(v) && typeof v.kind === 'string' && /^([A-Z][A-Za-z0-9]*)?List$/.test(v.kind) && Array.isArray(v.items);
}

function isPlainObject(v: unknown): v is { [key: string]: any } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** js-yaml, loaded on first use: only explain needs it, and constructs should not pay for it at `require`. */
function yaml(): typeof import('js-yaml') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('js-yaml');
}

/**
 * Parses a YAML document embedded in a manifest (a ConfigMap's data.mesh) with the limits of a manifest: nesting,
 * self-containing aliases and alias expansion. Throws on bad YAML and on input past the limits.
 */
export function parseEmbeddedDocument(text: string, source: string): unknown {
  const value = parseEmbeddedYaml(text);
  checkShape(value, source, 1, INPUT_LIMITS.minExpandedValues + INPUT_LIMITS.expansionPerByte * text.length);
  return value;
}

/** Parses one YAML or JSON value embedded in a manifest (an annotation), for explain. Throws on bad YAML. */
export function parseEmbeddedYaml(text: string): unknown {
  return yaml().load(text, { schema: yaml().CORE_SCHEMA, maxDepth: INPUT_LIMITS.maxDepth } as any);
}
