import { describe, expect, it } from 'vitest';
import { parseQuery } from '../src/query';

describe('parseQuery', () => {
  it('reads the amount first or last, as words or one quoted string', () => {
    const expected = { ok: true, value: { from: '$', to: 'cm', amount: 56.34 } };
    expect(parseQuery(['56.34', '$', 'cm'])).toEqual(expected);
    expect(parseQuery(['$', 'cm', '56.34'])).toEqual(expected);
    expect(parseQuery(['$ cm 56.34'])).toEqual(expected);
    expect(parseQuery(['56.34 $ cm'])).toEqual(expected);
  });

  it('explains how to ask when the question has the wrong number of words', () => {
    expect(parseQuery(['56.34', '$'])).toEqual({
      ok: false,
      failure: {
        code: 'BAD_ARITY',
        message: `wrong number of arguments. ask as "conv <amount> <from> <to>" (e.g. conv 56.34 '$' cm), got 2 words.`,
      },
    });
  });

  it('refuses an amount that is not a number', () => {
    const result = parseQuery(['ft', 'in', 'twelve']);
    expect(result.ok ? 'ok' : result.failure.code).toBe('BAD_AMOUNT');
  });
});
