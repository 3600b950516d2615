import { readFileSync } from 'node:fs';
const snap = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const m = snap.snapshot.meta; const nf = m.node_fields.length;
const types = m.node_types[0]; const strings = snap.strings; const nodes = snap.nodes;
const iType = m.node_fields.indexOf('type'), iName = m.node_fields.indexOf('name'), iSize = m.node_fields.indexOf('self_size');
const agg = new Map(); let total = 0;
for (let i = 0; i < nodes.length; i += nf) {
  const t = types[nodes[i+iType]]; let n = strings[nodes[i+iName]];
  const key = t === 'object' || t === 'native' ? `${t}:${n}` : t === 'code' ? 'code' : t === 'string' || t==='concatenated string'||t==='sliced string' ? 'string' : t;
  const s = nodes[i+iSize]; total += s;
  agg.set(key, (agg.get(key) ?? 0) + s);
}
console.log('total', (total/1048576).toFixed(1), 'MiB');
for (const [k, v] of [...agg].sort((a,b)=>b[1]-a[1]).slice(0, 30)) console.log((v/1048576).toFixed(2).padStart(7), k.slice(0,100));
