// Graceful close: listeners stop accepting, requests in flight finish, keep-alive clients are
// told to go, and the process exits on SIGTERM without being forced.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'node:test';
import { ProxyClient } from './control/control-client.js';
import { freePort, request, sleep, startProxy, startUpstream, tempDir } from './test-support.js';

test('close lets in-flight requests finish and does not wait for idle keep-alive clients', async () => {
  const p = await startProxy(undefined, { closeGraceMs: 5000 });
  const slow = await startUpstream('slow', (_req, res) => {
    setTimeout(() => res.end('done'), 300);
  });
  try {
    const port = await freePort();
    await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
    await p.client.addBackend('web', { id: 's', revision: 1, address: slow.address });
    const agent = new http.Agent({ keepAlive: true });
    // One keep-alive connection left idle, one busy when close starts.
    assert.equal((await request(port, { agent })).status, 200);
    const busy = request(port, { agent: new http.Agent({ keepAlive: true }) });
    await sleep(50);
    const started = Date.now();
    await p.proxy.close();
    const elapsed = Date.now() - started;
    const reply = await busy;
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'done');
    assert.equal(reply.headers.connection, 'close');
    assert.ok(elapsed < 2000, `close took ${elapsed} ms`);
    agent.destroy();
  } finally {
    await p.proxy.close();
    await slow.close();
  }
});

test('SIGTERM closes gracefully and the process exits by itself', async () => {
  const dir = tempDir();
  const socketPath = join(dir, 'proxy.sock');
  const main = new URL('./main.js', import.meta.url).href;
  const script = `
    import { runProxy } from ${JSON.stringify(main)};
    await runProxy({ controlSocket: ${JSON.stringify(socketPath)}, stateFile: ${JSON.stringify(join(dir, 'routes.json'))} });
    process.stdout.write('ready\\n');
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = once(child, 'exit');
  await once(child.stdout, 'data');
  const slow = await startUpstream('slow', (_req, res) => {
    setTimeout(() => res.end('done'), 300);
  });
  try {
    const client = new ProxyClient({ socketPath });
    const port = await freePort();
    await client.ensureService('web', { listen: `127.0.0.1:${port}` });
    await client.addBackend('web', { id: 's', revision: 1, address: slow.address });
    assert.equal((await client.health()).pid, child.pid);
    const inFlight = request(port);
    await sleep(50);
    child.kill('SIGTERM');
    assert.equal((await inFlight).body.toString(), 'done');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, stderr);
    // The proxy's logger: JSON lines on a stderr that is not a terminal.
    assert.match(stderr, /^\{.*"component":"proxy".*"msg":"SIGTERM: closing gracefully"\}$/m);
  } finally {
    child.kill('SIGKILL');
    await slow.close();
  }
});
