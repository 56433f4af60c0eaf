/*
 * Names and values in manifests are untrusted text. The table and Mermaid renderings show them with control
 * characters, line breaks and bidirectional overrides made visible (a right-to-left override can make a
 * terminal or a rendered Markdown page show another name than the one in the manifest); JSON keeps them exact.
 */

// C0 and C1 controls, DEL, line and paragraph separators, bidi embeddings/overrides/isolates and marks,
// zero-width characters and the byte-order mark.
const UNSAFE = /[\u0000-\u001F\u007F-\u009F\u061C\u200B-\u200F\u2028-\u202E\u2060-\u2069\uFEFF]/g;

const NAMED: { [char: string]: string } = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with every unsafe character written as an escape such as `\n` or `\u202E`. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, c => NAMED[c] ?? `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`);
}

/** `text` for a Mermaid label in `["..."]`: terminal-safe, and without characters that end the label or open HTML. */
export function escapeForMermaid(text: string): string {
  return escapeForTerminal(text)
    .replace(/#/g, '#35;')
    .replace(/&/g, '#amp;')
    .replace(/"/g, '#quot;')
    .replace(/</g, '#lt;')
    .replace(/>/g, '#gt;')
    .replace(/`/g, '#96;');
}
