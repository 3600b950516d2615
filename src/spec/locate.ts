// Maps a field path (as zod reports it) back to where it is written in the YAML text, so every
// problem can be shown as file:line:col. Works on the parsed document, which keeps node ranges.
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type Document,
  type LineCounter,
  type Node,
  type Pair,
  type YAMLMap,
} from 'yaml';

export interface Position {
  line: number;
  col: number;
}

interface Step {
  key: Node | null;
  value: Node | null;
}

export class SpecLocator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** 1-based line and column of a character offset. */
  at(offset: number): Position {
    return this.lines.linePos(offset);
  }

  /** The YAML node at a path, if the path exists in the document. */
  node(path: readonly PropertyKey[]): Node | null {
    const steps = this.descend(path);
    return steps.length === path.length + 1 ? (steps.at(-1)?.value ?? null) : null;
  }

  /** Where the value at a path starts; an empty value points at its key instead. */
  value(path: readonly PropertyKey[]): Position {
    const steps = this.descend(path);
    // A path that is only partly written (e.g. a missing key) points at its deepest written part.
    for (let i = steps.length - 1; i >= 0; i--) {
      const step = steps[i];
      const offset = startOf(step?.value) ?? startOf(step?.key);
      if (offset !== undefined) return this.at(offset);
    }
    return { line: 1, col: 1 };
  }

  /** Where the key of the last path segment is written (for unknown keys and bad names). */
  key(path: readonly PropertyKey[]): Position {
    const steps = this.descend(path);
    const offset = steps.length === path.length + 1 ? startOf(steps.at(-1)?.key) : undefined;
    return offset === undefined ? this.value(path) : this.at(offset);
  }

  /** Where the mapping holding the last path segment starts (for missing required keys). */
  parent(path: readonly PropertyKey[]): Position {
    return this.value(path.slice(0, -1));
  }

  // The root step, then one step per path segment that exists in the document.
  private descend(path: readonly PropertyKey[]): Step[] {
    const steps: Step[] = [{ key: null, value: this.deref(this.doc.contents) }];
    for (const segment of path) {
      const current = steps.at(-1)?.value;
      const next = this.child(current ?? null, segment);
      if (next === undefined) break;
      steps.push({ key: next.key, value: this.deref(next.value) });
    }
    return steps;
  }

  private child(node: Node | null, segment: PropertyKey): Step | undefined {
    if (isMap(node)) {
      const pair = this.pairsOf(node).get(String(segment));
      return pair
        ? { key: pair.key as Node, value: (pair.value as Node | null) ?? null }
        : undefined;
    }
    if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      return item === undefined ? undefined : { key: null, value: item };
    }
    return undefined;
  }

  // Looking a key up by scanning would make locating every env value quadratic in a big spec.
  private readonly pairs = new WeakMap<YAMLMap, Map<string, Pair>>();

  private pairsOf(map: YAMLMap): Map<string, Pair> {
    let index = this.pairs.get(map);
    if (index === undefined) {
      index = new Map();
      for (const pair of map.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key !== undefined && !index.has(key)) index.set(key, pair);
      }
      this.pairs.set(map, index);
    }
    return index;
  }

  // An alias is followed to its anchor: a problem inside shared settings points at where they
  // are written once, not at each use.
  private deref(node: unknown): Node | null {
    if (isAlias(node)) return (node.resolve(this.doc) as Node | undefined) ?? null;
    return (node as Node | null) ?? null;
  }
}

// An empty value ("key:" with nothing after) has a zero-width range at the end of the line,
// which is a worse place to point at than its key.
function startOf(node: Node | null | undefined): number | undefined {
  const range = node?.range;
  if (!range) return undefined;
  if (isScalar(node) && node.value === null && range[0] === range[1]) return undefined;
  return range[0];
}

/** The field path of a node from a yaml visitor's ancestry: pairs give keys, sequences indexes. */
export function nodePath(ancestry: readonly unknown[], node: unknown): PropertyKey[] {
  const path: PropertyKey[] = [];
  const chain = [...ancestry, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const parent = chain[i];
    if (isPair(parent) && isScalar(parent.key)) path.push(String(parent.key.value));
    if (isSeq(parent)) path.push(parent.items.indexOf(chain[i + 1]));
  }
  return path;
}
