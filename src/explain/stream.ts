import { closeSync, openSync, readSync } from 'fs';
import { StringDecoder } from 'string_decoder';
import { checkText, manifestInputError, moveOrigin, originOf, readManifestText } from './input';
import { compactReplica } from './read/replicas';
import { isMeshConfigMapName, isReadKind } from './skipped';

/*
 * Streaming input for explain (the CLI): YAML is read line by line, one document at a time, and a `List` (as
 * `kubectl get -A -o yaml` prints it, items at column 0 under `items:`) one item at a time. Each document or item is
 * classified from its top-level lines (apiVersion, kind, metadata.name, the keys under data) before it is built: a
 * kind explain never reads (Events, Secrets, EndpointSlices, ...) is counted per kind and dropped without being
 * parsed; everything else goes through readManifestText, with its size, depth and alias limits, and keeps its
 * origin (document number, List item). JSON input (`-o json`) is read whole, as before.
 */

/** What a stream gave: the objects explain builds, and per kind the count of objects dropped unread. */
export interface StreamedManifests {
  readonly objects: any[];
  readonly notRead: Map<string, number>;
}

/** The keys of a Gateway API parametersRef ConfigMap that explain reads (Istio's gateway overlays). */
const OVERLAY_KEYS = ['deployment', 'service'];
/** Capitalised top-level keys: such an object is listed with its own reason, so it is built. */
const CAPITALISED_TOP = /^(ApiVersion|Kind|Metadata|Spec):/;
const TOP_KEY = /^([A-Za-z_][\w.-]*):(?:\s+(.*))?$/;

/**
 * Reads manifests from `chunks` (text pieces in order: a file read a megabyte at a time, or stdin) document by
 * document. Throws a manifest input error naming the document when one cannot be read.
 */
export function readManifestStream(chunks: Iterable<string>, source: string): StreamedManifests {
  const reader = new StreamReader(source);
  let first = true;
  let json: string[] | undefined;
  let carry = '';
  for (const chunk of chunks) {
    if (chunk.length === 0) continue;
    checkText(chunk, source);
    if (first) {
      first = false;
      const start = chunk.trimStart();
      // JSON (kubectl get -o json) is one value: read whole, exactly as before.
      if (start.startsWith('{') || start.startsWith('[')) json = [];
    }
    if (json) {
      json.push(chunk);
      continue;
    }
    const text = carry + chunk;
    const lines = text.split('\n');
    carry = lines.pop()!;
    for (const line of lines) reader.line(line);
  }
  if (json) return { objects: readManifestText(json.join(''), source), notRead: new Map() };
  if (carry !== '') reader.line(carry);
  reader.end();
  return { objects: reader.objects, notRead: reader.notRead };
}

/**
 * A file (or stdin for "-") 64 KiB at a time, decoded as UTF-8 across chunk boundaries: small pieces die young, so
 * that the garbage collector keeps the heap (and the peak RSS) near what explain holds (bigger pieces measured worse).
 */
export function* fileChunks(path: string, chunkBytes = 65_536): Generator<string> {
  const fd = path === '-' ? 0 : openSync(path, 'r');
  const buffer = Buffer.allocUnsafe(chunkBytes);
  const decoder = new StringDecoder('utf8');
  try {
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, chunkBytes, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        // A non-blocking stdin (a pipe some shells hand over) has nothing yet: wait a little and read again.
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
          continue;
        }
        if (code === 'EOF') break;
        throw e;
      }
      if (n === 0) break;
      yield decoder.write(buffer.subarray(0, n));
    }
    const rest = decoder.end();
    if (rest !== '') yield rest;
  } finally {
    if (fd !== 0) closeSync(fd);
  }
}

/** The top-level facts of one document or List item, read from its lines without parsing it. */
interface Head {
  kind?: string;
  apiVersion?: string;
  metadata: boolean;
  capitalised: boolean;
  name?: string;
  /** True when the item has data keys Istio's gateway overlays use. */
  overlayData: boolean;
}

/** True when an object with this head is of a kind explain never reads, so that it can be dropped unbuilt. */
function droppable(head: Head): boolean {
  const kind = head.kind;
  if (kind === undefined || head.apiVersion === undefined || !head.metadata || head.capitalised) return false;
  if (!/^[A-Za-z][A-Za-z0-9]*$/.test(kind) || /List$/.test(kind) || isReadKind(kind)) return false;
  if (kind === 'ConfigMap') {
    // The mesh ConfigMap (istio, istio-<revision>) and a Gateway's parametersRef ConfigMap (its overlays) are read.
    return head.apiVersion === 'v1' && head.name !== undefined && !isMeshConfigMapName(head.name) && !head.overlayData;
  }
  return true;
}

function scalar(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const v = value.replace(/\s+#.*$/, '').trim();
  if (v === '') return undefined;
  const quoted = /^"([^"\\]*)"$|^'([^']*)'$/.exec(v);
  if (quoted) return quoted[1] ?? quoted[2];
  return /^[^{[&*!|>'"%@`]/.test(v) ? v : undefined;
}

class StreamReader {
  public readonly objects: any[] = [];
  public readonly notRead = new Map<string, number>();
  /** What the replicas of one template share, held once, and the one replica kept per group (read/replicas.ts). */
  private readonly shared = new Map<string, { id: number; parts: any[] }>();
  private readonly replicaGroups = new Map<string, any>();
  private document = 1;
  /** Lines of the current document (or, in a List, of its non-item part). */
  private lines: string[] = [];
  private content = false;
  /** In a List: the current item's lines (de-indented), its 0-based index, and the objects of the items so far. */
  private item: string[] | undefined;
  private itemIndex = -1;
  private inItems = false;
  private itemsAt = 0;
  private listObjects: any[] = [];
  private listDropped = new Map<string, number>();
  /** Set when an anchor may be used by later items: the rest of the document is read whole, from item `firstItem`. */
  private whole = false;
  private firstItem = 0;

  public constructor(private readonly source: string) {}

  public line(raw: string): void {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (/^---(\s|$)/.test(line) || /^\.\.\.(\s|$)/.test(line)) {
      this.endDocument();
      // "--- value" starts a document with content on the separator line.
      if (line.startsWith('---') && line.slice(3).trim() !== '' && !line.slice(3).trim().startsWith('#')) {
        this.lines.push(line);
        this.content = true;
      }
      return;
    }
    const significant = line.trim() !== '' && !line.trimStart().startsWith('#');
    if (this.whole) {
      this.lines.push(line);
      if (significant && !line.startsWith('%')) this.content = true;
      return;
    }
    if (this.inItems) {
      if (line.startsWith('- ') || line === '-') {
        this.endItem();
        if (this.whole) {
          // The item just ended defines an anchor: this item and the rest are read with it.
          this.lines.push(line);
          return;
        }
        if (this.itemIndex < 0) this.lines[this.itemsAt] = 'items: []';
        this.item = [line.slice(2)];
        this.itemIndex++;
        return;
      }
      if (!significant || (line.startsWith(' ') && this.item !== undefined)) {
        // Lines of an item sit two columns in; a comment or blank line anywhere is kept as is.
        if (this.item) this.item.push(line.startsWith('  ') ? line.slice(2) : line.trimStart());
        else this.lines.push(line);
        return;
      }
      // A top-level key ends the items; items written further in are read with the whole document.
      this.endItem();
      this.inItems = false;
      if (this.whole) {
        this.lines.push(line);
        return;
      }
    }
    if (significant && !line.startsWith('%')) this.content = true;
    if (this.itemIndex < 0 && (line === 'items:' || /^items:\s+#/.test(line))) {
      // An anchor before the items may be used by them: such a List is read whole.
      if (this.lines.some(hasAnchor)) this.whole = true;
      else this.inItems = true;
      this.itemsAt = this.lines.length;
    }
    this.lines.push(line);
  }

  public end(): void {
    this.endDocument();
  }

  private endItem(): void {
    if (this.item === undefined) return;
    const text = this.item.join('\n');
    if (hasAnchor(text)) {
      // Later items may use this item's anchor: from here on, the document is read whole.
      this.lines[this.itemsAt] = 'items:';
      this.lines.push(...this.item.map((l, i) => (i === 0 ? `- ${l}` : `  ${l}`)));
      this.item = undefined;
      this.whole = true;
      this.inItems = false;
      this.firstItem = this.itemIndex;
      return;
    }
    this.item = undefined;
    const head = headOf(text);
    if (droppable(head)) {
      this.listDropped.set(head.kind!, (this.listDropped.get(head.kind!) ?? 0) + 1);
      return;
    }
    for (const o of readManifestText(text, this.source, { document: this.document, item: this.itemIndex })) this.keep(o, this.listObjects);
  }

  private endDocument(): void {
    this.endItem();
    this.inItems = false;
    const text = this.lines.join('\n');
    const streamed = this.itemIndex >= 0;
    if (this.whole) {
      if (this.content) {
        this.objects.push(...this.listObjects);
        for (const [k, n] of this.listDropped) this.count(k, n);
        this.objects.push(...readManifestText(text, this.source, { document: this.document, firstItem: this.firstItem }));
        this.document++;
      }
    } else if (this.content) {
      if (streamed) this.endList(text);
      else this.endPlainDocument(text);
      this.document++;
    } else if (streamed) {
      this.endList(text);
      this.document++;
    }
    this.lines = [];
    this.content = false;
    this.itemIndex = -1;
    this.whole = false;
    this.firstItem = 0;
    this.listObjects = [];
    this.listDropped = new Map();
  }

  private endPlainDocument(text: string): void {
    const head = headOf(text);
    if (droppable(head)) {
      this.count(head.kind!, 1);
      return;
    }
    for (const o of readManifestText(text, this.source, { document: this.document })) this.keep(o, this.objects);
  }

  /** A document whose items were streamed: a List keeps them; anything else with a top-level items list is refused. */
  private endList(text: string): void {
    const kind = headOf(text).kind;
    if (kind === undefined || !/^([A-Z][A-Za-z0-9]*)?List$/.test(kind)) {
      throw manifestInputError(this.source, `has a top-level "items:" list but is not a List (kind ${kind ?? 'missing'}): explain streams items only from a List (kind List or <Kind>List); give the objects as documents separated by ---`, this.document);
    }
    // The List's own fields (apiVersion, kind, metadata) are read for their limits; its items were read one by one.
    readManifestText(text, this.source, { document: this.document });
    this.objects.push(...this.listObjects);
    for (const [k, n] of this.listDropped) this.count(k, n);
  }

  /** Keeps an object built from the stream: a replica as its compact stub, one per group (the first by name). */
  private keep(o: any, into: any[]): void {
    const { object, group } = compactReplica(o, this.shared);
    if (group === undefined) {
      into.push(object);
      return;
    }
    const kept = this.replicaGroups.get(group);
    if (kept === undefined) {
      this.replicaGroups.set(group, object);
      into.push(object);
    } else if (object.metadata.name < kept.metadata.name) {
      // The kept stub stands where the group's first replica stood, with the name and origin of the first by name.
      kept.metadata.name = object.metadata.name;
      kept.spec = object.spec;
      const origin = originOf(object);
      if (origin) moveOrigin(kept, origin);
    }
  }

  private count(kind: string, n: number): void {
    this.notRead.set(kind, (this.notRead.get(kind) ?? 0) + n);
  }
}

/** True when the text may define a YAML anchor (`&name` after a space, a colon, a dash or a bracket). */
function hasAnchor(text: string): boolean {
  return /(^|[\s[{,:-])&[^\s,[\]{}]/.test(text);
}

/** Reads the head of one document or item: its top-level keys, metadata.name, and the keys under data. */
function headOf(text: string): Head {
  const head: Head = { metadata: false, capitalised: false, overlayData: false };
  let section: string | undefined;
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    if (!line.startsWith(' ')) {
      if (CAPITALISED_TOP.test(line)) head.capitalised = true;
      const top = TOP_KEY.exec(line);
      section = top?.[1];
      if (top === null) continue;
      if (top[1] === 'kind') head.kind = scalar(top[2]);
      else if (top[1] === 'apiVersion') head.apiVersion = scalar(top[2]);
      else if (top[1] === 'metadata') head.metadata = true;
      continue;
    }
    if (section === 'metadata' && /^ {2}name:/.test(line)) head.name = scalar(line.slice('  name:'.length));
    if (section === 'data') {
      const key = /^ {2}["']?([\w.-]+)["']?:/.exec(line)?.[1];
      if (key !== undefined && OVERLAY_KEYS.includes(key)) head.overlayData = true;
    }
  }
  return head;
}

