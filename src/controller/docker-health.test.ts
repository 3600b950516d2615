// `health.docker: true` on an image without a HEALTHCHECK is refused before any container starts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { sampleService } from '../spec/sample.js';
import { Store } from '../store/index.js';
import { Controller } from './controller.js';
import { silentReporter } from './progress.js';
import { FakeWorld } from './test-support.js';

const world = new FakeWorld();
before(() => world.open());
after(() => world.close());

test('an image without HEALTHCHECK and health.docker: refused, nothing started', async () => {
  world.images.add('img:v1');
  const store = Store.open(join(mkdtempSync(join(tmpdir(), 'hotswap-dh-')), 'hotswap.db'));
  const v = world.view();
  const runtime = Object.assign(v.runtime, { imageHasHealthcheck: () => Promise.resolve(false) });
  const c = new Controller(runtime, v.router, store);
  const base = sampleService();
  const spec = sampleService({
    image: 'img:v1',
    health: { ...base.health, check: { type: 'docker' } },
  });
  const before = world.containers.size;
  await assert.rejects(
    c.apply({ file: 't', services: [spec] }, undefined, silentReporter),
    /web: health.docker is true but image img:v1 declares no HEALTHCHECK/,
  );
  assert.equal(world.containers.size, before);
  assert.equal(store.revisions.list('web').length, 0);
  c.close();
});
