import { describe, expect, it } from 'vitest';
import * as protocol from '@conv/protocol';

describe('workspace packages', () => {
  it('resolve to their TypeScript source without a build', () => {
    expect(protocol.PACKAGE_NAME).toBe('placeholder');
  });
});
