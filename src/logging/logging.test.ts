import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  CappedFile,
  createLog,
  followLogs,
  formatRecord,
  parseLine,
  readLog,
  selectRecords,
  type LogRecord,
} from './index.js';

const dir = () => mkdtempSync(join(tmpdir(), 'hotswap-logging-'));

test('a JSON line reads back with its fields; any other line is kept as text', () => {
  const r = parseLine(
    '{"level":"warn","time":"2026-01-01T00:00:00.000Z","component":"daemon","service":"web","rollout":3,"revision":2,"msg":"rollback.started: x"}',
    'daemon',
  );
  assert.deepEqual(
    [r.level, r.service, r.rollout, r.revision, r.msg],
    ['warn', 'web', 3, 2, 'rollback.started: x'],
  );
  const stack = parseLine('    at main (file.js:1:1)', 'proxy');
  assert.deepEqual(stack, { level: 'info', component: 'proxy', msg: '    at main (file.js:1:1)' });
  assert.equal(parseLine('{not json', 'daemon').msg, '{not json');
});

test('a plain line shows time, component, level, where, message and the other fields', () => {
  const line = formatRecord({
    time: '2026-01-01T00:00:00.000Z',
    level: 'warn',
    component: 'daemon',
    pid: 7,
    service: 'web',
    rollout: 3,
    revision: 2,
    event: 'rollout.failed',
    msg: 'rollout.failed: rollout #3 failed',
    reason: 'probe deadline',
  });
  assert.equal(
    line,
    '2026-01-01T00:00:00.000Z daemon WARN [web #3 r2] rollout.failed: rollout #3 failed (reason=probe deadline)',
  );
  assert.equal(
    formatRecord({ level: 'info', component: 'proxy', msg: 'closing' }),
    '- proxy closing',
  );
});

function rec(time: string | undefined, msg: string, service?: string): LogRecord {
  return { ...(time ? { time } : {}), level: 'info', component: 'daemon', msg, service };
}

test('records of two logs merge in time order, filtered by service and since, last N kept', () => {
  const daemon = [
    rec('2026-01-01T00:00:01Z', 'd1', 'web'),
    rec('2026-01-01T00:00:03Z', 'd3'),
    rec(undefined, '  at stack'), // follows d3
    rec('2026-01-01T00:00:05Z', 'd5', 'api'),
  ];
  const proxy = [rec('2026-01-01T00:00:02Z', 'p2', 'web'), rec('2026-01-01T00:00:04Z', 'p4')];
  const msgs = (rs: LogRecord[]) => rs.map((r) => r.msg);
  assert.deepEqual(msgs(selectRecords([daemon, proxy], {}, undefined)), [
    'd1',
    'p2',
    'd3',
    '  at stack',
    'p4',
    'd5',
  ]);
  assert.deepEqual(msgs(selectRecords([daemon, proxy], { service: 'web' }, undefined)), [
    'd1',
    'p2',
  ]);
  const since = Date.parse('2026-01-01T00:00:03Z');
  assert.deepEqual(msgs(selectRecords([daemon, proxy], { sinceMs: since }, undefined)), [
    'd3',
    '  at stack',
    'p4',
    'd5',
  ]);
  assert.deepEqual(msgs(selectRecords([daemon, proxy], {}, 2)), ['p4', 'd5']);
  assert.deepEqual(msgs(selectRecords([daemon, proxy], { sinceMs: since + 500 }, undefined)), [
    'p4',
    'd5',
  ]);
});

test('the logger writes JSON lines with service, rollout and revision to its file', () => {
  const file = join(dir(), 'daemon.log');
  const log = createLog({ component: 'daemon', file, stderr: false });
  log('rollout #4: r1 → r2', { service: 'web', rollout: 4, revision: 2, event: 'rollout.started' });
  log.warn('rollback.started: analysis failed', { service: 'web', rollout: 4, revision: 2 });
  log.error('unhandled rejection: boom');
  log.close();
  const lines = readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as LogRecord);
  assert.equal(lines.length, 3);
  assert.deepEqual(
    lines.map((l) => [l.level, l.component, l.service, l.rollout, l.revision, l.msg]),
    [
      ['info', 'daemon', 'web', 4, 2, 'rollout #4: r1 → r2'],
      ['warn', 'daemon', 'web', 4, 2, 'rollback.started: analysis failed'],
      ['error', 'daemon', undefined, undefined, undefined, 'unhandled rejection: boom'],
    ],
  );
  assert.ok(!Number.isNaN(Date.parse(lines[0]!.time!)));
  assert.deepEqual(
    readLog({ component: 'daemon', path: file }).map((r) => r.msg),
    lines.map((l) => l.msg),
  );
});

test('past its cap a log file is copied to .1 and started again; both are read back', () => {
  const path = join(dir(), 'proxy.log');
  const f = new CappedFile(path, 100);
  for (let i = 0; i < 5; i++)
    f.write(`${JSON.stringify({ msg: `line ${i}`, pad: 'x'.repeat(20) })}\n`);
  f.close();
  assert.ok(existsSync(`${path}.1`));
  assert.ok(readFileSync(path).length <= 100);
  assert.ok(readFileSync(`${path}.1`).length <= 100);
  const msgs = readLog({ component: 'proxy', path }).map((r) => r.msg);
  assert.deepEqual(msgs, ['line 2', 'line 3', 'line 4']); // line 0 and 1 went with the older copy
});

test('following sees appended lines, a partial line once complete, and a rotation', async () => {
  const path = join(dir(), 'daemon.log');
  writeFileSync(path, '{"msg":"old"}\n');
  const seen: string[] = [];
  const stop = new AbortController();
  const done = followLogs(
    [{ component: 'daemon', path }],
    (r) => seen.push(r.msg),
    stop.signal,
    20,
  );
  const f = new CappedFile(path, 60);
  await new Promise((r) => setTimeout(r, 50));
  f.write('{"msg":"new 1"}\n');
  await new Promise((r) => setTimeout(r, 80));
  f.write('{"msg":"new 2 is longer than the rest"}\n'); // past the cap: rotated first
  await new Promise((r) => setTimeout(r, 80));
  stop.abort();
  await done;
  f.close();
  assert.deepEqual(seen, ['new 1', 'new 2 is longer than the rest']);
});
