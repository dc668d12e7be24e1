import { describe, expect, it } from 'vitest';
import * as api from '../src/index';

describe('public door', () => {
  it('exports exactly the documented runtime names, none by default', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ChangeFeed',
      'DEFAULT_CHANGE_HISTORY',
      'DEFAULT_HEALTH_POLICY',
      'MemoryRegistryStore',
      'MemorySharedRegistryStore',
      'REGISTRY_APPLICATION_ID',
      'REGISTRY_ERROR_CODES',
      'REGISTRY_SCHEMA_VERSION',
      'Registry',
      'RegistryError',
      'SharedRegistry',
      'SqliteRegistryStore',
      'endpointOf',
      'isUnitPair',
      'unitPair',
      'validateHealthPolicy',
    ]);
    expect('default' in api).toBe(false);
  });
});
