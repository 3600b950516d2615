// scratch: the proxy process alone with N services on one local backend; RSS at rest
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const { ProxyClient } = await import('../dist/src/proxy/index.js');
const flags = (process.env.PFLAGS ?? '--max-semi-space-size=4').split(' ').filter(Boolean);
const N = 50;
const dir = mkdtempSync(join(tmpdir(), 'pm-'));
const backend = http.createServer((q, r) => r.end('ok')).listen(0, '127.0.0.1');
await new Promise((r) => backend.once('listening', r));
const bport = backend.address().port;
const sock = join(dir, 'p.sock');
const child = spawn(process.execPath, [...flags, 'dist/src/proxy/bin.js', '--control', sock, '--state', join(dir, 'routes.json')], { stdio: 'ignore', env: { ...process.env } });
const c = new ProxyClient({ socketPath: sock });
for (let i = 0; i < 100; i++) { try { await c.health(); break; } catch { await new Promise(r => setTimeout(r, 50)); } }
const rss = () => { const s = readFileSync(`/proc/${child.pid}/status`, 'utf8'); return ['VmRSS', 'RssAnon', 'RssFile'].map(k => `${k}=${(Number(s.match(new RegExp(k + ':\\s+(\\d+)'))[1]) / 1024).toFixed(1)}`).join(' '); };
console.log('start   ', rss());
const base = 24000 + Math.floor(Math.random() * 4000);
await Promise.all(Array.from({ length: N }, async (_, i) => {
  const s = `s${i}`;
  await c.ensureService(s, { listen: `127.0.0.1:${base + i}` });
  await c.addBackend(s, { id: `i${i}`, revision: 1, address: `127.0.0.1:${bport}` });
  await c.setWeights(s, { '1': 1 });
}));
for (let i = 0; i < N; i++) await fetch(`http://127.0.0.1:${base + i}/`).then(r => r.text());
console.log('50 up   ', rss());
// idle chatter like the daemon's: /health 10/s, /routes 1/s
const t0 = Date.now();
while (Date.now() - t0 < 40000) { await c.health(); if ((Date.now() - t0) % 1000 < 110) await c.table(); await new Promise(r => setTimeout(r, 100)); }
console.log('idle 40s', rss());
child.kill('SIGKILL'); backend.close(); rmSync(dir, { recursive: true, force: true });
process.exit(0);
