import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { interpolate, InterpolationError } from './interpolate.js';

const vars = { A: 'a', E: '' };

void describe('interpolate (Compose rules)', () => {
  void it('substitutes every form', () => {
    assert.equal(interpolate('$A-${A}', vars), 'a-a');
    assert.equal(interpolate('${E:-d}|${E-d}|${N-d}|${N:-${A}}', vars), 'd||d|a');
    assert.equal(interpolate('${A:+x}|${E:+x}|${E+x}|${N+x}', vars), 'x||x|');
    assert.equal(interpolate('$$A costs $$5', vars), '$A costs $5');
  });

  void it('refuses an unset variable, a required one, and bad syntax, with the offset of "$"', () => {
    const fails = (text: string, message: string, offset: number) =>
      assert.throws(
        () => interpolate(text, vars),
        (err: unknown) =>
          err instanceof InterpolationError && err.message === message && err.offset === offset,
      );
    fails('x ${N}', 'variable N is not set; set it or write ${N:-default}', 2);
    fails('${E:?must be set}', 'E: must be set', 0);
    fails('${N?}', 'variable N is not set', 0);
    fails('${E:?}', 'variable E is empty', 0);
    fails('${A', '"${" is never closed by "}"', 0);
    fails('${1A}', '"${1A}" does not start with a variable name', 0);
    fails('${A#x}', '"${A#x}": expected ":-", "-", ":?", "?", ":+" or "+" after A', 0);
  });
});
