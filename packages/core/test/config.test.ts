import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadCoreConfig, videoModelLanesOf, withoutBlankValues } from '../src/index.js';

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

describe('VIDEO_MODEL_LANES', () => {
  it('defaults to one lane, takes 1-16, and keeps one lane on a batching (GPU) session', () => {
    expect(videoModelLanesOf(loadCoreConfig({}))).toBe(1);
    const two = loadCoreConfig({ VIDEO_MODEL_LANES: '2' });
    expect(two.videoModelLanes).toBe(2);
    expect(videoModelLanesOf(two)).toBe(2);
    expect(() => loadCoreConfig({ VIDEO_MODEL_LANES: '0' })).toThrow(/VIDEO_MODEL_LANES/);
    expect(() => loadCoreConfig({ VIDEO_MODEL_LANES: '17' })).toThrow(/VIDEO_MODEL_LANES/);
    expect(
      videoModelLanesOf(loadCoreConfig({ VIDEO_MODEL_LANES: '2', INFERENCE_BATCH: '4' })),
    ).toBe(1);
  });
});
