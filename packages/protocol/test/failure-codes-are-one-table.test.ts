import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FAILURES, FAILURE_CODES, failure, formatFailure, parseFailure } from '../src/index';

describe('failure codes', () => {
  it('every code formats to one FAILURE line and reads back with its code', () => {
    for (const code of FAILURE_CODES) {
      const f = failure(code, 'Some detail\nover two lines.');
      const line = formatFailure(f);
      expect(line.split('\n')).toHaveLength(2);
      expect(line.startsWith(`FAILURE ${FAILURES[code]}`)).toBe(true);
      expect(parseFailure(line)).toEqual(f);
    }
  });

  it('a duplicate registration reads as the seed expects: "FAILURE entry exists."', () => {
    expect(formatFailure(failure('ENTRY_EXISTS', 'x'))).toMatch(/^FAILURE entry exists\./);
  });

  it('every code is documented in docs/protocol.md, and every documented code exists', () => {
    const doc = readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');
    const table = doc.slice(doc.indexOf('## Failures'), doc.indexOf('## Discovery protocol'));
    const documented = [...table.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...FAILURE_CODES].sort());
  });
});
