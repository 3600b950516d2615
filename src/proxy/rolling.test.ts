// A rolling update under load, as the controller will drive it: add the new instance, shift the
// weights, drain the old one, stop it. Not one client request may fail.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import { test } from 'node:test';
import {
  echo,
  freePort,
  json,
  request,
  sleep,
  startProxy,
  startUpstream,
  type EchoReply,
} from './test-support.js';

const TOTAL = 2000;
const CONCURRENCY = 16;

/** An app that answers after 0-3 ms, like a real one would. */
function app(name: string): http.RequestListener {
  const reply = echo(name);
  return (req, res) => {
    setTimeout(() => reply(req, res), Math.floor(Math.random() * 4));
  };
}

test('zero failed requests while a backend is added, weights shift and the old one drains', async () => {
  const p = await startProxy();
  const port = await freePort();
  const oldApp = await startUpstream('old', app('old'));
  let newApp: Awaited<ReturnType<typeof startUpstream>> | undefined;
  try {
    await p.client.ensureService('web', { listen: `127.0.0.1:${port}` });
    await p.client.addBackend('web', { id: 'old-1', revision: 1, address: oldApp.address });
    await p.client.setWeights('web', { '1': 1 });

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY });
    const body = randomBytes(4096);
    const sum = createHash('sha256').update(body).digest('hex');
    let done = 0;
    const failures: string[] = [];
    const servedBy = { old: 0, new: 0 } as Record<string, number>;
    const waiters: { at: number; resolve: () => void }[] = [];
    const reached = (at: number): Promise<void> =>
      new Promise((resolve) => waiters.push({ at, resolve }));

    async function worker(): Promise<void> {
      while (done + CONCURRENCY <= TOTAL + CONCURRENCY - 1 && done < TOTAL) {
        const post = Math.random() < 0.3;
        try {
          const reply = await request(port, {
            agent,
            method: post ? 'POST' : 'GET',
            body: post ? body : undefined,
            headers: post ? { 'content-length': body.length } : undefined,
          });
          const e = json<EchoReply>(reply);
          if (reply.status !== 200) failures.push(`status ${reply.status}`);
          else if (post && e.sha256 !== sum) failures.push('body corrupted');
          else servedBy[e.name] = (servedBy[e.name] ?? 0) + 1;
        } catch (err) {
          failures.push((err as Error).message);
        }
        done++;
        for (const w of waiters.filter((x) => done >= x.at)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    }

    async function rollout(): Promise<void> {
      await reached(200);
      newApp = await startUpstream('new', app('new'));
      await p.client.addBackend('web', { id: 'new-1', revision: 2, address: newApp.address });
      await p.client.setWeights('web', { '1': 1, '2': 1 });
      assert.equal(await p.client.verifyWeights('web', { '1': 1, '2': 1 }), true);
      await reached(700);
      await p.client.setWeights('web', { '1': 0, '2': 1 });
      const drained = await p.client.drain('web', 'old-1', 5000);
      assert.equal(drained.drained, true);
      // The old instance stops, as after SIGTERM: every connection it still has is cut.
      await oldApp.close();
      await sleep(10);
    }

    const load = Promise.all(Array.from({ length: CONCURRENCY }, () => worker()));
    await Promise.all([load, rollout()]);
    agent.destroy();

    assert.deepEqual(failures, []);
    assert.ok(servedBy.old! > 100 && servedBy.new! > 100, JSON.stringify(servedBy));
    const stats = await p.client.stats('web');
    const total = stats.revisions['1']!.requests + stats.revisions['2']!.requests;
    assert.ok(total >= TOTAL, `${total} requests counted`);
    assert.equal(stats.revisions['1']!.errors + stats.revisions['2']!.errors, 0);
    assert.deepEqual(
      (await p.client.table()).services.web!.backends.map((b) => b.id),
      ['new-1'],
    );
  } finally {
    await p.proxy.close();
    await oldApp.close();
    await newApp?.close();
  }
});
