import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadCoreConfig, withoutBlankValues } from '../src/index.js';

describe('environment parsing', () => {
  it('treats empty values (FOO= in an .env file) as not set', () => {
    expect(withoutBlankValues({ A: '', B: ' ', C: 'x' })).toEqual({ C: 'x' });
    const config = loadCoreConfig({
      ORT_INTRA_OP_THREADS: '',
      MAX_INPUT_PIXELS: '',
      DEFAULT_MODEL: '',
    });
    expect(config.intraOpThreads).toBe(availableParallelism());
    expect(config.maxInputPixels).toBe(50_000_000);
    expect(config.defaultModel).toBeUndefined();
  });
});
