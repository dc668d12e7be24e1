import { describe, expect, it } from 'vitest';
import { canonicalHost, formatAmount, parseAmount, parseHost, parsePort, parseUnit, tokenize } from '../src/index';

describe('tokenize', () => {
  it('splits on runs of spaces and tabs and ignores them at both ends', () => {
    expect(tokenize(' \tADD  lbs\t\tb 127.0.0.1   4000 \t')).toEqual(['ADD', 'lbs', 'b', '127.0.0.1', '4000']);
    expect(tokenize(' \t ')).toEqual([]);
  });
});

describe('units', () => {
  it.each(['ft', '$', 'lbs', 'µm', 'gK', 'kWh', 'm3', '¥'])('accepts %s', (unit) => {
    expect(parseUnit(unit)).toEqual({ ok: true, value: unit });
  });

  it.each(['a\u0000b', 'x\u0007', '\u200bft', 'u'.repeat(33)])('refuses %j', (unit) => {
    const result = parseUnit(unit);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure.code).toBe('BAD_UNIT');
  });
});

describe('hosts', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1'],
    ['localhost', 'localhost'],
    ['Conv.Example.ORG.', 'conv.example.org'],
    ['::1', '::1'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:db8:0:0:0:0:2:1', '2001:db8::2:1'],
    ['::ffff:127.0.0.1', '::ffff:7f00:1'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['1:0:3:4:5:6:7:8', '1:0:3:4:5:6:7:8'],
    ['::', '::'],
  ])('reads %s as %s', (input, canonical) => {
    expect(canonicalHost(input)).toBe(canonical);
  });

  it.each([
    '256.0.0.1',
    '127.0.0',
    '127.000.0.1',
    '010.0.0.1',
    '1.2.3.4.5',
    '-bad.example',
    'bad-.example',
    'under_score.example',
    'a b',
    'h'.repeat(300),
    `${'a'.repeat(64)}.example`,
    ':::1',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '12345::1',
    'fe80::1%eth0',
    '',
  ])('refuses %j', (host) => {
    const result = parseHost(host);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure.code).toBe('BAD_HOST');
  });
});

describe('ports', () => {
  it.each([
    ['1', 1],
    ['5555', 5555],
    ['65535', 65535],
  ])('accepts %s', (token, port) => {
    expect(parsePort(token)).toEqual({ ok: true, value: port });
  });

  it.each(['0', '65536', '-1', '08', '1.5', '1e3', 'b', '', '99999999999999999999'])('refuses %j', (token) => {
    const result = parsePort(token);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.failure).toEqual({ code: 'BAD_PORT', message: `bad port. ${JSON.stringify(token)} is not a whole number from 1 to 65535.` });
  });
});

describe('amounts', () => {
  it.each([
    ['15', 15],
    ['-2.5', -2.5],
    ['1.25e3', 1250],
    ['.5', 0.5],
    ['5.', 5],
    ['+3', 3],
    ['1E-3', 0.001],
    ['-0', -0],
    ['56.34', 56.34],
  ])('accepts %s as %d', (token, amount) => {
    expect(parseAmount(token)).toEqual({ ok: true, value: amount });
  });

  it.each(['NaN', 'Infinity', '-Infinity', '0x10', '0x1F', '1,5', '1_000', '', '.', 'e5', '1e', '1.2.3', '١٢', '0b1'])(
    'refuses %j as not a number',
    (token) => {
      const result = parseAmount(token);
      expect(result.ok).toBe(false);
      if (!result.ok) expect(result.failure.code).toBe('BAD_AMOUNT');
    },
  );

  it('refuses numbers too large to compute with', () => {
    expect(parseAmount('1e400')).toEqual({
      ok: false,
      failure: { code: 'BAD_AMOUNT', message: 'bad amount. "1e400" is too large to compute with.' },
    });
  });
});

describe('formatAmount', () => {
  it.each([
    [0.30479999999999996, '0.3048'],
    [15, '15'],
    [2.5, '2.5'],
    [-0, '0'],
    [0.1 + 0.2, '0.3'],
    [1 / 3, '0.333333333333333'],
    [1e21, '1e+21'],
    [1.5e-7, '1.5e-7'],
    [123456789012345680, '123456789012346000'],
    [-Number.MAX_VALUE, '-1.7976931348623157e+308'],
  ])('writes %d as %s', (amount, text) => {
    expect(formatAmount(amount)).toBe(text);
  });

  it('refuses to write what is not a finite number', () => {
    expect(() => formatAmount(Number.NaN)).toThrow(RangeError);
    expect(() => formatAmount(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
