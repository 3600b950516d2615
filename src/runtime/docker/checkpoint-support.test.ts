import assert from 'node:assert/strict';
import { test } from 'node:test';
import { detectCheckpointSupport } from './checkpoint-support.js';

const engine = (experimental: boolean) => ({
  json: <T>() => Promise.resolve({ ExperimentalBuild: experimental } as T),
});
const vdsoFailure = {
  version: '3.17.1',
  ok: false,
  output:
    'Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds\nError (criu/vdso.c:613): vdso: Failed to fill self vdso symtable\n',
};

test('every reason is named: engine not experimental, criu check failing on the vDSO', async () => {
  const r = await detectCheckpointSupport(engine(false), () => Promise.resolve(vdsoFailure));
  assert.deepEqual(r, {
    supported: false,
    reason:
      'the Docker engine runs without experimental features (dockerd --experimental); criu check failed (CRIU 3.17.1): Error (criu/vdso.c:381): vdso: Unexpected rt vDSO area bounds',
  });
});

test('no criu binary, and the supported case', async () => {
  const none = await detectCheckpointSupport(engine(true), () =>
    Promise.resolve({ version: null, ok: false, output: '' }),
  );
  assert.deepEqual(none, { supported: false, reason: 'criu is not installed' });
  const ok = await detectCheckpointSupport(engine(true), () =>
    Promise.resolve({ version: '4.0', ok: true, output: 'Looks good.' }),
  );
  assert.equal(ok.supported, true);
  assert.match(ok.reason, /CRIU 4\.0 passes criu check/);
});
