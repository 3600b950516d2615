// A reload a crash interrupted is not resumed: it is finished as failed with what to do next.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Router } from '../proxy/types.js';
import type { Runtime } from '../runtime/types.js';
import { Store } from '../store/index.js';
import { silentReporter } from './progress.js';
import { recoverRollout } from './recovery.js';

test('an interrupted reload is finished as failed, not replayed as a rollout', async () => {
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-reload-rec-')), 'h.db'));
  const record = store.rollouts.start({
    service: 'web',
    kind: 'reload',
    from: 1,
    to: 1,
    strategy: 'reload',
  });
  const untouched = new Proxy({}, { get: () => assert.fail('recovery must not touch the world') });
  const found = await recoverRollout(
    { runtime: untouched as Runtime, router: untouched as Router, store },
    record,
    silentReporter,
  );
  assert.equal(found, null);
  const after = store.rollouts.get(record.id)!;
  assert.equal(after.status, 'failed');
  assert.match(after.reason ?? '', /interrupted by a restart; .*run `hotswap reload`/);
  store.close();
});
