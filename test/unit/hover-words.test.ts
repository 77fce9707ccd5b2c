/** Element types in plain words for hovers, instead of numpy's codes ("labels |u1"). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dtypeInWords } from '../../server/src/engine/report';

test('numpy dtype codes and NIfTI datatype names in words', () => {
  const cases: [string, string][] = [
    ['|u1', '8-bit unsigned integers'],
    ['<f4', '32-bit floating-point numbers'],
    ['<f8', '64-bit floating-point numbers'],
    ['>i2', '16-bit signed integers, big-endian'],
    ['|i1', '8-bit signed integers'],
    ['|b1', 'booleans (true/false)'],
    ['<c8', '64-bit complex numbers'],
    ['uint8', '8-bit unsigned integers'],
    ['float32', '32-bit floating-point numbers'],
    ['int16', '16-bit signed integers'],
    ['O', 'type O'],
  ];
  for (const [code, words] of cases) assert.equal(dtypeInWords(code), words, code);
});
