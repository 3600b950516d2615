import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatDuration, MAX_DURATION_MS, parseDuration } from './duration.js';

void describe('parseDuration', () => {
  void it('reads every unit, fractions and bare seconds', () => {
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration('1m'), 60_000);
    assert.equal(parseDuration('1.5h'), 5_400_000);
    assert.equal(parseDuration(2), 2000);
    assert.equal(parseDuration(0.25), 250);
    assert.equal(parseDuration('3'), 3000);
    assert.equal(parseDuration('0s'), 0);
    assert.equal(parseDuration(' 10s '), 10_000);
  });

  void it('rounds to whole milliseconds', () => {
    assert.equal(parseDuration('1.6ms'), 2);
    assert.equal(parseDuration(0.0004), 0);
  });

  void it('explains what is wrong', () => {
    assert.equal(parseDuration('2 sec'), 'unknown unit "sec"; use ms, s, m or h');
    assert.equal(parseDuration('5d'), 'unknown unit "d"; use ms, s, m or h');
    assert.equal(parseDuration('-1s'), 'negative');
    assert.equal(parseDuration(-3), 'negative');
    assert.equal(parseDuration('fast'), 'not a number followed by ms, s, m or h');
    assert.equal(parseDuration('1.2.3s'), 'not a number followed by ms, s, m or h');
    assert.equal(parseDuration(Infinity), 'not a finite number');
    assert.equal(parseDuration(true), 'not a number or a string');
    assert.equal(parseDuration(null), 'not a number or a string');
  });

  void it('refuses durations Node timers cannot hold', () => {
    assert.equal(parseDuration('596h'), MAX_DURATION_MS);
    assert.equal(parseDuration('597h'), 'longer than the 596h limit');
    assert.ok(MAX_DURATION_MS < 2 ** 31 - 1);
  });
});

void describe('formatDuration', () => {
  void it('picks the largest exact unit', () => {
    assert.equal(formatDuration(0), '0ms');
    assert.equal(formatDuration(250), '250ms');
    assert.equal(formatDuration(1500), '1.5s');
    assert.equal(formatDuration(30_000), '30s');
    assert.equal(formatDuration(60_000), '1m');
    assert.equal(formatDuration(90_000), '90s');
    assert.equal(formatDuration(7_200_000), '2h');
  });

  void it('round-trips through parseDuration', () => {
    for (const ms of [1, 999, 1000, 1500, 61_000, 3_600_000])
      assert.equal(parseDuration(formatDuration(ms)), ms);
  });
});

void describe('parseDuration: compound durations', () => {
  void it('reads 1m30s and 1h2m3s500ms as Compose and Go write them', () => {
    assert.equal(parseDuration('1m30s'), 90_000);
    assert.equal(parseDuration('1h2m3s500ms'), 3_723_500);
    assert.equal(parseDuration('1m30x'), 'unknown unit "x"; use ms, s, m or h');
  });
});
