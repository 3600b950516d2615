// The proxy logs what changes in its table, never a request: the request path (fast and full,
// success and upstream error) must not call the logger at all.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { cleanupAfterAll, proxyToUpstream, request } from './test-support.js';

const cleanup = cleanupAfterAll();

test('requests on the fast and the full path write no log line', async () => {
  const p = await proxyToUpstream(cleanup, (req, res) => {
    res.statusCode = req.url === '/fail' ? 500 : 200;
    res.end('ok');
  });
  await p.client.setWeights('web', { '1': 1 });
  const before = p.logs.length;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  for (let i = 0; i < 300; i++) {
    const path = i % 10 === 0 ? '/fail' : '/';
    // Every third request is chunked: it moves its connection to the full path.
    const chunked = i % 3 === 0;
    const r = await request(p.port, {
      path,
      agent: chunked ? false : agent,
      method: chunked ? 'POST' : 'GET',
      ...(chunked ? { headers: { 'transfer-encoding': 'chunked' }, body: 'x' } : {}),
    });
    assert.equal(r.status, path === '/fail' ? 500 : 200);
  }
  agent.destroy();
  assert.deepEqual(p.logs.slice(before), [], 'no line per request');
});
