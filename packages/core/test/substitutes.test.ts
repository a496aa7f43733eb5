import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseModel, loadCoreConfig, parseModelSubstitutes } from '../src/index.js';
import { withTempDir } from './helpers.js';

describe('MODEL_SUBSTITUTES', () => {
  it('parses name=name pairs of known models and refuses anything else', () => {
    expect(parseModelSubstitutes('u2net=u2netp, u2net_human_seg=u2netp')).toEqual({
      u2net: 'u2netp',
      u2net_human_seg: 'u2netp',
    });
    expect(parseModelSubstitutes(undefined)).toEqual({});
    expect(() => parseModelSubstitutes('u2net')).toThrow(/expected name=name/);
    expect(() => parseModelSubstitutes('u2net=rembg2')).toThrow(/Unknown model "rembg2"/);
    expect(() => loadCoreConfig({ MODEL_SUBSTITUTES: 'x=y' })).toThrow(/Unknown model/);
  });

  it('runs the substitute only when the named model is missing, and says so', async () => {
    await withTempDir('substitutes', async (dir) => {
      const settings = {
        modelsDir: dir.path,
        defaultModel: undefined,
        modelSubstitutes: { u2net: 'u2netp' as const },
      };
      expect(await chooseModel('u2net', settings)).toEqual({
        model: 'u2netp',
        warnings: ['u2net is not installed on this server; u2netp ran instead (MODEL_SUBSTITUTES)'],
      });
      expect(await chooseModel('u2net_human_seg', settings)).toEqual({
        model: 'u2net_human_seg',
        warnings: [],
      });
      await writeFile(join(dir.path, 'u2net.onnx'), 'installed');
      expect(await chooseModel('u2net', settings)).toEqual({ model: 'u2net', warnings: [] });
    });
  });
});
