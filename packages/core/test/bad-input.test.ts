import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { BgRemoverError, releaseModels, removeImageBackground } from '../src/index.js';
import { fixturePath, pngBomb, realConfig, syntheticSubject, withTempDir } from './helpers.js';

const config = realConfig();
afterAll(releaseModels);

async function refusal(
  input: Buffer | string,
  params: Record<string, unknown> = {},
  extra: { background?: Buffer; config?: typeof config } = {},
): Promise<BgRemoverError> {
  const error = await removeImageBackground(input, params, {
    config: extra.config ?? config,
    ...(extra.background ? { background: extra.background } : {}),
  }).catch((caught: unknown) => caught);
  expect(error).toBeInstanceOf(BgRemoverError);
  return error as BgRemoverError;
}

describe('bad input gets a clear error', () => {
  it('zero bytes', async () => {
    const error = await refusal(Buffer.alloc(0));
    expect(error.code).toBe('empty_input');
    expect(error.message).toBe('The file is empty (0 bytes)');
  });

  it('a truncated JPEG', async () => {
    const jpeg = await readFile(fixturePath('rocket.jpg'));
    const error = await refusal(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    expect(error.code).toBe('corrupt_input');
    expect(error.message).toMatch(/^The file is corrupt or truncated/);
  });

  it('a text file named .png', async () => {
    await withTempDir('text', async (dir) => {
      const path = `${dir.path}/photo.png`;
      await (await import('node:fs/promises')).writeFile(path, 'hello, I am not a picture\n');
      const error = await refusal(path);
      expect(error.code).toBe('unsupported_input');
      expect(error.message).toContain('not an image');
      expect(error.message).toContain('JPEG, PNG, WebP, GIF, TIFF or AVIF');
    });
  });

  it('a PDF sent as an image names what it is', async () => {
    const error = await refusal(Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n'));
    expect(error.code).toBe('unsupported_input');
    expect(error.message).toContain('application/pdf');
  });

  it('a 50000x50000 PNG header (decompression bomb) is refused before decoding', async () => {
    const error = await refusal(await pngBomb(50_000, 50_000));
    expect(error.code).toBe('input_too_large');
    expect(error.message).toContain('50000x50000');
    expect(error.message).toContain('MAX_INPUT_PIXELS');
  });

  it('an unsupported image format (SVG) is refused', async () => {
    const svg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>',
    );
    const error = await refusal(svg);
    expect(error.code).toBe('unsupported_input');
    expect(error.message).toContain('SVG');
  });

  it('a model whose file is missing', async () => {
    const scene = await syntheticSubject();
    await withTempDir('no-models', async (dir) => {
      const error = await refusal(
        scene.png,
        { model: 'u2net_human_seg' },
        {
          // An air-gapped site: nothing is downloaded, and the error says how to install it.
          config: { ...config, modelsDir: dir.path, modelAutoDownload: false },
        },
      );
      expect(error.code).toBe('model_not_installed');
      expect(error.message).toContain('removebg models pull u2net_human_seg');
    });
  });

  it.each([
    {
      title: 'an unknown model',
      params: { model: 'u2net_cloth' },
      code: 'invalid_parameter',
      field: 'model',
      message: 'u2net, u2net_human_seg, u2netp',
    },
    {
      title: 'a bad hex colour',
      params: { bg_type: 'color', bg_color_value: '#ggg' },
      code: 'invalid_parameter',
      field: 'bg_color_value',
      message: 'hex colour',
    },
    {
      title: 'bg_type=image without a background picture',
      params: { bg_type: 'image' },
      code: 'missing_background',
      field: 'bg_image',
      message: undefined,
    },
  ])('$title', async ({ params, code, field, message }) => {
    const scene = await syntheticSubject();
    const error = await refusal(scene.png, params);
    expect(error.code).toBe(code);
    expect(error.field).toBe(field);
    if (message !== undefined) expect(error.message).toContain(message);
  });

  it('a corrupt background picture names bg_image', async () => {
    const scene = await syntheticSubject();
    const error = await refusal(
      scene.png,
      { bg_type: 'image' },
      { background: Buffer.from('nope') },
    );
    expect(error.field).toBe('bg_image');
    expect(error.message).toContain('The background image (bg_image)');
  });

  it('out-of-range parameters are refused before any work', async () => {
    const error = await refusal(Buffer.alloc(0), { alpha_erode: '99' });
    expect(error.code).toBe('invalid_parameter');
    expect(error.field).toBe('alpha_erode');
  });

  it('a good image right after bad ones still works', async () => {
    const small = await sharp(fixturePath('coffee.png')).resize(120).png().toBuffer();
    const result = await removeImageBackground(small, {}, { config });
    expect(result.width).toBe(120);
  });
});
