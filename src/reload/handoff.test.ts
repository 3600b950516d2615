// Hand-off between two small HTTP servers standing in for the old and the new instance, and
// through a fake exec runtime.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import type { HandoffSpec } from '../spec/types.js';
import { handOff, HANDOFF_FILE } from './handoff.js';
import type { ReloadRuntime } from './runtime.js';

const servers: http.Server[] = [];
after(() => servers.forEach((s) => s.close()));

async function serve(handler: http.RequestListener): Promise<{ id: string; address: string }> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  return { id: 'x', address: `127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const httpSpec = (over: Partial<HandoffSpec> = {}): HandoffSpec => ({
  export: { type: 'http', path: '/state' },
  import: { type: 'http', path: '/state' },
  timeoutMs: 2000,
  maxBytes: 10 * 1024 * 1024,
  onFail: 'fail',
  ...over,
});

/** An old instance that writes `size` bytes in 64 KiB chunks. */
const exporter = (size: number) =>
  serve((_, res) => {
    const chunk = Buffer.alloc(64 * 1024, 'a');
    let left = size;
    const write = (): void => {
      while (left > 0) {
        const part = chunk.subarray(0, Math.min(left, chunk.length));
        left -= part.length;
        if (!res.write(part)) return void res.once('drain', write);
      }
      res.end();
    };
    write();
  });

/** A new instance that counts what it was given; `complete` tells whether the body ended. */
function importer() {
  const seen = { bytes: 0, complete: false };
  const ready = serve((req, res) => {
    req.on('data', (c: Buffer) => (seen.bytes += c.length));
    req.on('end', () => {
      seen.complete = true;
      res.end('ok');
    });
  });
  return { seen, ready };
}

const noRuntime = (): ReloadRuntime => assert.fail('http hand-off needs no runtime');

test('the state streams from the old instance to the new one', async () => {
  const from = await exporter(5 * 1024 * 1024);
  const imp = importer();
  const r = await handOff(noRuntime, httpSpec(), from, await imp.ready);
  assert.equal(r.bytes, 5 * 1024 * 1024);
  assert.equal(imp.seen.bytes, 5 * 1024 * 1024);
  assert.equal(imp.seen.complete, true);
});

test('a state over maxBytes is cut, and the import never gets a whole body', async () => {
  const from = await exporter(1024 * 1024);
  const imp = importer();
  await assert.rejects(
    handOff(noRuntime, httpSpec({ maxBytes: 100_000 }), from, await imp.ready),
    /hand-off payload over maxBytes: more than 100000 bytes/,
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(imp.seen.complete, false);
  assert.ok(imp.seen.bytes <= 100_000, `import got ${imp.seen.bytes} bytes`);
});

test('an export that hangs is cut at the timeout', async () => {
  const from = await serve(() => undefined);
  const imp = importer();
  await assert.rejects(
    handOff(noRuntime, httpSpec({ timeoutMs: 200 }), from, await imp.ready),
    /hand-off took longer than 200 ms/,
  );
});

test('exec: export is stdout, import reads the state from HOTSWAP_HANDOFF_FILE', async () => {
  const written: Record<string, string> = {};
  const ran: Array<{ id: string; cmd: string[]; env?: Record<string, string> }> = [];
  const rt: ReloadRuntime = {
    inspectInstance: () => Promise.resolve(null),
    signalInstance: () => Promise.resolve(),
    readFile: () => Promise.reject(new Error('unused')),
    putFiles: (id, dir, files) => {
      for (const [n, d] of Object.entries(files))
        written[`${id}:${dir}${n}`] = Buffer.from(d).toString();
      return Promise.resolve();
    },
    exec: (id, cmd, opts) => {
      ran.push({ id, cmd, env: opts?.env });
      return Promise.resolve({ exitCode: 0, stdout: '{"s1":"v1"}', output: '' });
    },
  };
  const spec = httpSpec({
    export: { type: 'exec', command: ['dump'] },
    import: { type: 'exec', command: ['load'] },
  });
  const r = await handOff(
    () => rt,
    spec,
    { id: 'old', address: 'unused' },
    { id: 'new', address: 'unused' },
  );
  assert.equal(r.bytes, 11);
  assert.equal(written[`new:/${HANDOFF_FILE.slice(1)}`], '{"s1":"v1"}');
  assert.deepEqual(ran, [
    { id: 'old', cmd: ['dump'], env: undefined },
    { id: 'new', cmd: ['load'], env: { HOTSWAP_HANDOFF_FILE: HANDOFF_FILE } },
  ]);
});
