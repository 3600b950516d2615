import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalCdf, normalSf } from './normal.js';

// Reference values of the standard normal distribution (any printed table gives the first
// digits; the full digits are scipy.stats.norm 1.17.1, computed offline).
const close = (actual: number, expected: number, rel = 1e-6): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${actual} vs ${expected}`);

test('normal CDF and upper tail match the standard table', () => {
  close(normalCdf(0), 0.5);
  close(normalCdf(1.96), 0.9750021048517795);
  close(normalCdf(-1), 0.15865525393145707);
  close(normalSf(3), 0.0013498980316300933);
  close(normalSf(-1.96), 0.9750021048517795);
});

test('far upper tail keeps relative precision (p-values of 1e-9 and below still compare)', () => {
  close(normalSf(6), 9.865876450376946e-10);
});
