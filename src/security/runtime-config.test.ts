import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig } from './config.js';

function home(text?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'hotswap-config-'));
  if (text !== undefined) writeFileSync(join(dir, 'config.yaml'), text);
  return dir;
}

test('runtime: the local engine by default, a Swarm manager when config.yaml says so', () => {
  assert.deepEqual(loadConfig(home()).runtime, { type: 'docker' });
  assert.deepEqual(loadConfig(home('metrics:\n  listen: 127.0.0.1:9464\n')).runtime, {
    type: 'docker',
  });
  const swarm = loadConfig(
    home(
      'runtime:\n  type: swarm\n  host: unix:///run/m.sock\n  proxy:\n    image: reg:5000/hotswap-proxy:1\n    ports: [8080]\n',
    ),
  ).runtime;
  assert.deepEqual(swarm, {
    type: 'swarm',
    host: 'unix:///run/m.sock',
    proxy: { image: 'reg:5000/hotswap-proxy:1', ports: [8080], controlPort: 7300 },
  });
});

test('a bad runtime section names the file, line:col and the field', () => {
  const dir = home(
    'runtime:\n  type: swarm\n  host: /run/m.sock\n  proxy:\n    image: x\n    ports: [0]\n',
  );
  assert.throws(
    () => loadConfig(dir),
    (err: Error) => {
      assert.match(
        err.message,
        /config\.yaml:3:9 runtime\.host: expected unix:\/\/\/path or tcp:\/\/host:port/,
      );
      assert.match(
        err.message,
        /config\.yaml:6:13 runtime\.proxy\.ports\.0: expected a port of 1\.\.65535/,
      );
      return true;
    },
  );
  assert.throws(() => loadConfig(home('runtime:\n  type: k8s\n')), /runtime\.type/);
});
