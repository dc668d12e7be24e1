import { describe, expect, it } from 'vitest';
import * as api from '../src/index';

describe('public door', () => {
  it('exports named members only', () => {
    expect(Object.keys(api).length).toBeGreaterThan(0);
    expect('default' in api).toBe(false);
  });
});
