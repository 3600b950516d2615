import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { after, test } from 'node:test';
import { backendAddress, backendAllowed, setBackendScope } from '../core/validate.js';
import { probeInput, runProbe } from './probe-route.js';

const server = createServer((req, res) => {
  res.writeHead(req.url === '/healthz' ? 200 : 503).end();
});
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as { port: number }).port;
after(() => server.close());

test('POST /probe runs the controller’s own http and tcp probes from the proxy', async () => {
  assert.deepEqual(
    await runProbe({ type: 'http', address: `127.0.0.1:${port}`, path: '/healthz' }),
    {
      ok: true,
      detail: 'GET /healthz → 200',
    },
  );
  assert.equal(
    (await runProbe({ type: 'http', address: `127.0.0.1:${port}`, path: '/x' })).ok,
    false,
  );
  assert.equal(
    (await runProbe({ type: 'tcp', address: `127.0.0.1:${port}`, timeoutMs: 1000 })).ok,
    true,
  );
  assert.throws(
    () => probeInput({ type: 'exec', address: '1.2.3.4:5' }),
    /type: must be "http" or "tcp"/,
  );
  assert.throws(() => probeInput({ type: 'tcp', address: 'nope' }), /address: must be host:port/);
  assert.throws(() => probeInput({ type: 'tcp', address: '1.2.3.4:5', timeoutMs: 0 }), /timeoutMs/);
});

test('backends: 127.0.0.1 only, unless the proxy runs on a Swarm (private addresses too)', () => {
  assert.equal(backendAllowed('172.24.1.5:8080', []), false);
  assert.equal(backendAllowed('127.0.0.1:8080', []), true);
  assert.throws(() => backendAddress('10.0.0.300:80'), /address/);
  setBackendScope('private');
  try {
    assert.equal(backendAllowed('172.24.1.5:8080', []), true);
    assert.equal(backendAllowed('10.0.0.1:80', []), true);
    assert.equal(backendAllowed('192.168.3.4:80', []), true);
    assert.equal(backendAllowed('8.8.8.8:80', []), false);
    assert.equal(backendAllowed('172.32.0.1:80', []), false);
  } finally {
    setBackendScope('local');
  }
});
