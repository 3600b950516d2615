// Reads a V8 .cpuprofile (what `node --cpu-prof` writes) and aggregates it: self time per
// function (functionName + file:line), inclusive time of the proxy's own functions, and self
// time per category (GC, node's http, streams, net, hotswap's code, …). Positions in compiled
// files under dist/ are mapped back to the TypeScript source through their .js.map.
import { existsSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface FunctionTime {
  /** functionName (or "(anonymous)") and where it is. */
  name: string;
  location: string;
  category: string;
  ms: number;
  /** Percent of all samples (idle included). */
  pct: number;
  /** Percent of busy samples ((idle) excluded). */
  busyPct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  samples: number;
  topSelf: FunctionTime[];
  /** Inclusive time of functions in hotswap's own code (src/proxy). */
  topInclusiveOwn: FunctionTime[];
  /** Inclusive time of all functions but the event loop's plumbing (see PLUMBING). */
  topInclusive: FunctionTime[];
  categories: { category: string; ms: number; busyPct: number }[];
}

// ------------------------------------------------------------------ source maps

interface Mapping {
  genLine: number;
  genCol: number;
  src: number;
  line: number;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeVlq(segment: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of segment) {
    const digit = B64.indexOf(ch);
    value += (digit & 31) << shift;
    if (digit & 32) shift += 5;
    else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

class SourceMap {
  private readonly byLine: Mapping[][] = [];
  readonly sources: string[];

  constructor(json: { mappings: string; sources: string[]; sourceRoot?: string }, dir: string) {
    this.sources = json.sources.map((s) => new URL(s, `file://${dir}/`).pathname);
    let src = 0;
    let line = 0;
    json.mappings.split(';').forEach((group, genLine) => {
      const list: Mapping[] = [];
      let genCol = 0;
      for (const seg of group.split(',')) {
        if (seg === '') continue;
        const v = decodeVlq(seg);
        genCol += v[0] ?? 0;
        if (v.length >= 4) {
          src += v[1]!;
          line += v[2]!;
          list.push({ genLine, genCol, src, line });
        }
      }
      this.byLine[genLine] = list;
    });
  }

  /** Source file and 1-based line of a 0-based generated position. */
  lookup(genLine: number, genCol: number): { file: string; line: number } | undefined {
    const list = this.byLine[genLine];
    if (list === undefined || list.length === 0) return undefined;
    let best = list[0]!;
    for (const m of list) {
      if (m.genCol <= genCol) best = m;
      else break;
    }
    const file = this.sources[best.src];
    return file === undefined ? undefined : { file, line: best.line + 1 };
  }
}

const mapCache = new Map<string, SourceMap | null>();

function sourceMapFor(path: string): SourceMap | null {
  let map = mapCache.get(path);
  if (map !== undefined) return map;
  map = null;
  const mapFile = `${path}.map`;
  if (existsSync(mapFile)) {
    try {
      const json = JSON.parse(readFileSync(mapFile, 'utf8')) as {
        mappings: string;
        sources: string[];
      };
      map = new SourceMap(json, path.slice(0, path.lastIndexOf('/')));
    } catch {
      map = null;
    }
  }
  mapCache.set(path, map);
  return map;
}

// ------------------------------------------------------------------ aggregation

function locate(frame: CallFrame, root: string): string {
  const url = frame.url;
  if (url === '') return '';
  const line = frame.lineNumber + 1;
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    const mapped = sourceMapFor(path)?.lookup(frame.lineNumber, frame.columnNumber);
    if (mapped !== undefined) return `${relative(root, mapped.file)}:${mapped.line}`;
    return `${relative(root, path)}:${line}`;
  }
  return `${url}:${line}`;
}

export function categoryOf(frame: CallFrame): string {
  const { functionName: fn, url } = frame;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(idle)') return 'idle';
  if (fn === '(program)') return 'V8/native (program)';
  if (url === '') return 'native builtins';
  if (url.includes('/src/proxy/')) return 'hotswap proxy code';
  if (url.startsWith('file://')) return 'other app JS';
  if (/^node:_http_|^node:http$|internal\/http/.test(url)) return 'node http';
  if (/streams?/.test(url)) return 'node streams';
  if (/^node:net$|stream_base_commons|internal\/net|dns/.test(url)) return 'node net';
  if (/events/.test(url)) return 'node events';
  if (/timers|async_hooks|process\/task_queues/.test(url)) return 'node timers/ticks';
  if (/crypto/.test(url)) return 'node crypto';
  return 'node other';
}

/** Frames that sit under almost everything: left out of the inclusive ranking. */
const PLUMBING = new Set([
  '(root)',
  '(program)',
  '(idle)',
  '(garbage collector)',
  '(anonymous)',
  'emit',
  'processTicksAndRejections',
  'listOnTimeout',
  'processTimers',
  'onStreamRead',
  'afterWriteDispatched',
  'addChunk',
  'readableAddChunk',
  'Readable.push',
  'emitAfterScript',
  'runNextTicks',
]);

export function summarizeProfile(file: string, root: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);

  // Self time per node from samples and their time deltas (µs); hitCount as a fallback.
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  if (samples.length > 0 && deltas.length === samples.length) {
    for (let i = 0; i < samples.length; i++) {
      // The delta before sample i+1 is the time spent in sample i.
      const d = Math.max(0, deltas[i + 1] ?? 0);
      selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + d);
    }
  } else {
    const total = profile.endTime - profile.startTime;
    const hits = profile.nodes.reduce((a, n) => a + (n.hitCount ?? 0), 0) || 1;
    for (const n of profile.nodes) selfUs.set(n.id, ((n.hitCount ?? 0) * total) / hits);
  }
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  let idleUs = 0;
  for (const n of profile.nodes) {
    if (n.callFrame.functionName === '(idle)') idleUs += selfUs.get(n.id) ?? 0;
  }
  const busyUs = Math.max(1, totalUs - idleUs);

  const keyOf = new Map<number, { key: string; name: string; location: string; cat: string }>();
  for (const n of profile.nodes) {
    const name = n.callFrame.functionName || '(anonymous)';
    const location = locate(n.callFrame, root);
    keyOf.set(n.id, {
      key: `${name} ${location}`,
      name,
      location,
      cat: categoryOf(n.callFrame),
    });
  }

  const selfByKey = new Map<string, number>();
  const catUs = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const k = keyOf.get(id)!;
    selfByKey.set(k.key, (selfByKey.get(k.key) ?? 0) + us);
    catUs.set(k.cat, (catUs.get(k.cat) ?? 0) + us);
  }

  // Inclusive time: a node's self time counts for every distinct function on its stack.
  const inclByKey = new Map<string, number>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const [id, us] of selfUs) {
    if (us === 0) continue;
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf.get(cur)!.key;
      if (seen.has(k)) continue;
      seen.add(k);
      inclByKey.set(k, (inclByKey.get(k) ?? 0) + us);
    }
  }

  const info = new Map<string, { name: string; location: string; cat: string }>();
  for (const v of keyOf.values()) info.set(v.key, v);
  const row = (key: string, us: number): FunctionTime => {
    const i = info.get(key)!;
    return {
      name: i.name,
      location: i.location,
      category: i.cat,
      ms: Math.round(us / 100) / 10,
      pct: Math.round((1000 * us) / totalUs) / 10,
      busyPct: Math.round((1000 * us) / busyUs) / 10,
    };
  };
  const topSelf = [...selfByKey]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => row(k, us));
  const topInclusiveOwn = [...inclByKey]
    .filter(([k]) => info.get(k)!.cat === 'hotswap proxy code')
    .sort((a, b) => b[1] - a[1])
    .slice(0, 10)
    .map(([k, us]) => row(k, us));
  const topInclusive = [...inclByKey]
    .filter(([k]) => !PLUMBING.has(info.get(k)!.name))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([k, us]) => row(k, us));
  const categories = [...catUs]
    .filter(([cat]) => cat !== 'idle')
    .sort((a, b) => b[1] - a[1])
    .map(([category, us]) => ({
      category,
      ms: Math.round(us / 1000),
      busyPct: Math.round((1000 * us) / busyUs) / 10,
    }));
  return {
    file,
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    samples: samples.length,
    topSelf,
    topInclusiveOwn,
    topInclusive,
    categories,
  };
}
