// The supervisor with the real proxy, through a fault-injecting entry point: while a flag file
// exists the "proxy" exits at start with code 3, otherwise it is the real proxy. Checks that a
// failed start is reported at once, that failed restarts back off instead of looping, and that
// a hung proxy (SIGSTOP) is killed and replaced.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ProxyClient } from '../proxy/index.js';
import { homePaths } from './paths.js';
import { waitForExit } from './process-exit.js';
import { HUNG_AFTER_MS, ProxySupervisor } from './proxy-supervisor.js';

const REAL_BIN = fileURLToPath(new URL('../proxy/bin.js', import.meta.url));

function harness(): { bin: string; fail: (on: boolean) => void; home: string } {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-sup-unit-'));
  const flag = join(dir, 'fail');
  const bin = join(dir, 'proxy-bin.mjs');
  writeFileSync(
    bin,
    `import { existsSync } from 'node:fs';
     if (existsSync(${JSON.stringify(flag)})) { process.stderr.write('injected failure\\n'); process.exit(3); }
     await import(${JSON.stringify(REAL_BIN)});`,
  );
  return {
    bin,
    home: dir,
    fail: (on) => (on ? writeFileSync(flag, '') : rmSync(flag, { force: true })),
  };
}

test('a proxy that exits at start is reported at once, not after the start timeout', async () => {
  const h = harness();
  h.fail(true);
  const lines: string[] = [];
  const sup = new ProxySupervisor(homePaths(h.home), (l) => lines.push(l), h.bin);
  const t0 = Date.now();
  await assert.rejects(sup.start(), /the proxy exited at start \(exit code 3\)/);
  assert.ok(Date.now() - t0 < 3_000, `${Date.now() - t0} ms`);
});

test('failed restarts back off; a hung proxy is killed and replaced; stop kills a hung one', async () => {
  const h = harness();
  const paths = homePaths(h.home);
  const lines: string[] = [];
  const sup = new ProxySupervisor(paths, (l) => lines.push(l), h.bin);
  const client = new ProxyClient({ socketPath: paths.proxySocket, timeoutMs: 1000 });
  await sup.start();
  try {
    // Dead, and every restart fails for 3.5 s: attempts at about 0, 0.5, 1.5 and 3.5 s.
    h.fail(true);
    const first = (await client.health()).pid;
    process.kill(first, 'SIGKILL');
    await sleep(3_500);
    const failures = lines.filter((l) => l.startsWith('proxy restart failed')).length;
    assert.ok(failures >= 2 && failures <= 4, `${failures} failed restarts:\n${lines.join('\n')}`);
    assert.match(lines.join('\n'), /next attempt in 1000 ms/);
    h.fail(false);
    const second = await waitForPid(client, (pid) => pid !== first, 40_000, lines);
    await waitForLine(lines, new RegExp(`proxy pid ${second} serves`));

    // Hung: killed and replaced.
    const t0 = Date.now();
    process.kill(second, 'SIGSTOP');
    const third = await waitForPid(client, (pid) => pid !== second, HUNG_AFTER_MS + 5_000, lines);
    assert.ok(Date.now() - t0 < HUNG_AFTER_MS + 2_000, `${Date.now() - t0} ms`);
    assert.ok(await waitForExit(second, 1000), 'the hung proxy is gone');
    assert.match(lines.join('\n'), /answered nothing on its control socket for 3000 ms/);

    // Hung at stop: killed, not waited for.
    process.kill(third, 'SIGSTOP');
    const t1 = Date.now();
    await sup.stop({ shutdownProxy: true });
    assert.ok(
      await waitForExit(third, 1000),
      `stop killed the hung proxy ${third}:\n${lines.join('\n')}`,
    );
    assert.ok(Date.now() - t1 < HUNG_AFTER_MS + 3_000, `${Date.now() - t1} ms`);
    assert.ok(existsSync(paths.proxyPid));
  } finally {
    await sup.stop({ shutdownProxy: true });
  }
});

async function waitForPid(
  client: ProxyClient,
  ok: (pid: number) => boolean,
  timeoutMs: number,
  log: string[],
): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pid = await client.health().then(
      (x) => x.pid,
      () => 0,
    );
    if (pid && ok(pid)) return pid;
    if (Date.now() > deadline) throw new Error(`no new proxy in time:\n${log.join('\n')}`);
    await sleep(50);
  }
}

async function waitForLine(lines: string[], re: RegExp): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!lines.some((l) => re.test(l))) {
    if (Date.now() > deadline) throw new Error(`no line ${re} in:\n${lines.join('\n')}`);
    await sleep(20);
  }
}
