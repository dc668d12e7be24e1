import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnitSchema, canonicalHost, firstWord, isUnit, tokenize } from '../src/index';

// The registry validates every add and every restored row with these; they are written for
// speed, so they are pinned against the definitions they shortcut.
describe('fast checks agree with their schemas', () => {
  it('isUnit says yes exactly when UnitSchema does', () => {
    const unit = fc.oneof(fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 40 }), fc.constantFrom('ft', 'µm', '$', ' ', 'a\u200b', 'u'.repeat(32), 'u'.repeat(33)));
    fc.assert(
      fc.property(unit, (value) => {
        expect(isUnit(value)).toBe(UnitSchema.safeParse(value).success);
      }),
      { numRuns: 2000 },
    );
    expect(isUnit(42)).toBe(false);
  });

  it('tokenize and firstWord give what splitting on runs of blanks gives', () => {
    const line = fc.array(fc.constantFrom('a', 'LOOKUP', 'µm', ' ', '  ', '\t', '', '\r', '\u00a0'), { maxLength: 8 }).map((parts) => parts.join(''));
    fc.assert(
      fc.property(line, (value) => {
        const trimmed = value.replace(/^[ \t]+|[ \t]+$/g, '');
        const words = trimmed === '' ? [] : trimmed.split(/[ \t]+/);
        expect(tokenize(value)).toEqual(words);
        expect(firstWord(value)).toBe(words[0] ?? '');
      }),
      { numRuns: 2000 },
    );
  });

  it('the dotted-quad shortcut of canonicalHost changes no answer', () => {
    // Four runs of digits: the slow path reads them as an IPv4 address, valid without leading
    // zeros and up to 255 each. Octets include leading zeros and out-of-range values.
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '0255', '1000'));
    const quad = fc.tuple(octet, octet, octet, octet).map((parts) => parts.join('.'));
    fc.assert(
      fc.property(quad, (host) => {
        const labels = host.split('.');
        const valid = labels.every((label) => /^(0|[1-9][0-9]{0,2})$/.test(label) && Number(label) <= 255);
        expect(canonicalHost(host)).toBe(valid ? host : undefined);
      }),
      { numRuns: 5000 },
    );
  });
});
