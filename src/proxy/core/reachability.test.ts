import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostAnswers } from './reachability.js';
import { freePort, startBlackhole, startUpstream } from '../test-support.js';

test('hostAnswers: a listener and a refused port answer; a host that drops SYNs does not', async () => {
  const up = await startUpstream('up');
  const hole = await startBlackhole();
  try {
    assert.equal(await hostAnswers('127.0.0.1', up.port), true);
    assert.equal(await hostAnswers('127.0.0.1', await freePort()), true, 'refused: the host is up');
    await hole.fill();
    const port = Number(hole.address.split(':')[1]);
    assert.equal(await hostAnswers('127.0.0.1', port, 300), false);
  } finally {
    await up.close();
    await hole.close();
  }
});
