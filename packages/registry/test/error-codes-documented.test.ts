import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REGISTRY_ERROR_CODES, RegistryError } from '../src/index';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const documented = new Map(
  [...readme.matchAll(/^\| `([A-Z_]+)` \| (.+) \|$/gm)].map((m) => [m[1]!, m[2]!.replaceAll('`', '')]),
);

describe('error codes', () => {
  it('are each documented in the README with the same sentence, and the README documents no others', () => {
    expect([...documented.keys()].sort()).toEqual(Object.keys(REGISTRY_ERROR_CODES).sort());
    for (const [code, sentence] of Object.entries(REGISTRY_ERROR_CODES)) expect(documented.get(code), code).toBe(sentence);
  });

  it('travel on one error class with name, code and cause', () => {
    const cause = new Error('disk full');
    const error = new RegistryError('STORE_FAILED', 'The store refused a write: disk full.', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('RegistryError');
    expect(error.code).toBe('STORE_FAILED');
    expect(error.cause).toBe(cause);
  });
});
