import { describe, expect, it } from 'vitest';
import * as api from '../src/index';

describe('public door', () => {
  it('exports exactly the documented runtime names, and no default', () => {
    expect(Object.keys(api).sort()).toEqual(
      [
        'BANANA_FACT_SOURCES',
        'BASE_UNIT',
        'BananaFactsSchema',
        'CONVERSION_ERROR_CODES',
        'ConversionError',
        'DEFAULT_BANANA_FACTS',
        'PATH_CACHE_LIMIT',
        'PathFinder',
        'UNIT_KINDS',
        'UnitGraph',
        'catalog',
        'convert',
        'createCatalog',
      ].sort(),
    );
    expect('default' in api).toBe(false);
  });
});
