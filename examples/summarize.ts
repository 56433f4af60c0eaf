import * as fs from 'fs';
import * as path from 'path';
import { parseAllDocuments } from 'yaml';

/** Prints one line per synthesised object: file, kind, namespace/name and the apiVersion. */
function summarize(dir: string): void {
  const files = fs.readdirSync(dir).filter(f => f.endsWith('.yaml')).sort();
  let count = 0;
  for (const file of files) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf-8'))) {
      const o = doc.toJS();
      if (!o) continue;
      count++;
      const ns = o.metadata?.namespace ? `${o.metadata.namespace}/` : '';
      console.log(`${file.padEnd(28)} ${String(o.kind).padEnd(24)} ${(ns + o.metadata?.name).padEnd(52)} ${o.apiVersion}`);
    }
  }
  console.log(`${count} objects in ${files.length} files under ${dir}`);
}

summarize(process.argv[2] ?? 'dist');
