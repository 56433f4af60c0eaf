import { IConstruct } from 'constructs';

/**
 * The root of the construct tree `c` is in (the app), found by walking up the scopes: constructs' `node.root` builds
 * the array of every scope on the way, and the library asks for the root several times per construct and synthesis.
 */
export function appRootOf(c: IConstruct): IConstruct {
  let root = c;
  while (root.node.scope !== undefined) root = root.node.scope;
  return root;
}
