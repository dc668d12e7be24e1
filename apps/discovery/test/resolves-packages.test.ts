import { describe, expect, it } from 'vitest';
import * as registry from '@conv/registry';

describe('workspace packages', () => {
  it('resolve to their TypeScript source without a build', () => {
    expect(registry.PACKAGE_NAME).toBe('placeholder');
  });
});
