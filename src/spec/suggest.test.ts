import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { didYouMean, levenshtein } from './suggest.js';

void describe('levenshtein', () => {
  void it('counts edits', () => {
    assert.equal(levenshtein('', ''), 0);
    assert.equal(levenshtein('abc', ''), 3);
    assert.equal(levenshtein('replica', 'replicas'), 1);
    assert.equal(levenshtein('kitten', 'sitting'), 3);
    assert.equal(levenshtein('helth', 'health'), 1);
  });
});

void describe('didYouMean', () => {
  const keys = ['image', 'replicas', 'port', 'listen', 'health', 'http', 'tcp', 'maxSurge'];
  void it('suggests close keys, ignoring case', () => {
    assert.equal(didYouMean('replica', keys), 'replicas');
    assert.equal(didYouMean('imgae', keys), 'image');
    assert.equal(didYouMean('maxsurge', keys), 'maxSurge');
    assert.equal(didYouMean('Port', keys), 'port');
  });
  void it('stays quiet when nothing is close', () => {
    assert.equal(didYouMean('colour', keys), undefined);
    assert.equal(didYouMean('xy', keys), undefined);
    assert.equal(didYouMean('anything', []), undefined);
  });
});
