import sharp, { type Sharp } from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { closeMattingWorker, releaseModels, removeImageBackground } from '../src/index.js';
import { decodeRaw, fixturePath, iou, realConfig, syntheticSubject } from './helpers.js';

const config = realConfig();
afterAll(async () => {
  await releaseModels();
  await closeMattingWorker();
});

async function maskOf(input: Buffer | string, params: Record<string, unknown> = {}) {
  const result = await removeImageBackground(input, { ...params, only_mask: true }, { config });
  const raw = await decodeRaw(result.data);
  expect(raw.channels).toBe(1);
  return { ...raw, result };
}

type Box = readonly [left: number, top: number, right: number, bottom: number];

function meanIn(mask: { data: Buffer; width: number }, [left, top, right, bottom]: Box): number {
  let sum = 0;
  for (let y = top; y < bottom; y++) {
    for (let x = left; x < right; x++) sum += mask.data[y * mask.width + x]!;
  }
  return sum / ((right - left) * (bottom - top));
}

describe('the real u2netp on a synthetic subject', () => {
  it('finds the known shape (IoU >= 0.9) at the original size', async () => {
    const scene = await syntheticSubject();
    const mask = await maskOf(scene.png, { model: 'u2netp' });
    expect([mask.width, mask.height]).toEqual([scene.width, scene.height]);
    expect(iou(mask.data, scene.truth)).toBeGreaterThanOrEqual(0.9);
    expect(mask.result.model).toBe('u2netp');
  });
});

describe('the real u2netp on the fixture photos', () => {
  // Regions checked by eye on the photos: certainly subject, certainly background.
  const cases: { file: string; size: [number, number]; subject: Box[]; background: Box[] }[] = [
    {
      file: 'astronaut.png',
      size: [512, 512],
      subject: [
        [200, 80, 260, 140], // face
        [120, 300, 280, 480], // suit
      ],
      background: [
        [400, 10, 500, 140],
        [10, 10, 100, 100],
      ],
    },
    {
      file: 'chelsea.png',
      size: [451, 300],
      subject: [[150, 80, 300, 220]], // the cat's face
      background: [[400, 100, 445, 250]],
    },
    {
      file: 'coffee.png',
      size: [600, 400],
      subject: [[250, 150, 350, 250]], // the cup
      background: [
        [0, 0, 60, 60],
        [540, 340, 600, 400],
      ],
    },
    {
      file: 'rocket.jpg',
      size: [640, 427],
      subject: [[315, 180, 328, 340]], // the rocket's body
      background: [
        [20, 20, 250, 120],
        [420, 20, 620, 200],
      ],
    },
  ];

  it.each(cases)('$file: subject regions opaque, background regions clear', async (fixture) => {
    const mask = await maskOf(fixturePath(fixture.file));
    expect([mask.width, mask.height]).toEqual(fixture.size);
    for (const box of fixture.subject) expect(meanIn(mask, box)).toBeGreaterThan(220);
    for (const box of fixture.background) expect(meanIn(mask, box)).toBeLessThan(20);
  });
});

describe('output', () => {
  it('keeps straight colour: every visible pixel has its source colour, soft edges included', async () => {
    const source = fixturePath('chelsea.png');
    const result = await removeImageBackground(source, {}, { config });
    expect(result.contentType).toBe('image/png');
    const out = await decodeRaw(result.data);
    const original = await decodeRaw(await sharp(source).png().toBuffer());
    expect(out.channels).toBe(4);
    let softPixels = 0;
    for (let pixel = 0; pixel < out.width * out.height; pixel++) {
      const alpha = out.data[pixel * 4 + 3]!;
      if (alpha === 0) continue;
      if (alpha > 100 && alpha < 156) softPixels++;
      for (let channel = 0; channel < 3; channel++) {
        expect(out.data[pixel * 4 + channel]).toBe(original.data[pixel * 3 + channel]);
      }
    }
    expect(softPixels).toBeGreaterThan(50);
  });

  it('composes a half-transparent pixel over a colour without darkening it', async () => {
    const scene = await syntheticSubject();
    const transparent = await decodeRaw(
      (await removeImageBackground(scene.png, {}, { config })).data,
    );
    const overRed = await decodeRaw(
      (
        await removeImageBackground(
          scene.png,
          { bg_type: 'color', bg_color_value: '#00f' },
          { config },
        )
      ).data,
    );
    expect(overRed.channels).toBe(3);
    let checked = 0;
    for (let pixel = 0; pixel < scene.width * scene.height; pixel++) {
      const alpha = transparent.data[pixel * 4 + 3]! / 255;
      if (alpha < 0.3 || alpha > 0.7) continue;
      const background = [0, 0, 255];
      for (let channel = 0; channel < 3; channel++) {
        const fg = transparent.data[pixel * 4 + channel]!;
        const expected = fg * alpha + background[channel]! * (1 - alpha);
        expect(Math.abs(overRed.data[pixel * 3 + channel]! - expected)).toBeLessThanOrEqual(2);
      }
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
  });

  it('puts the subject over a translucent colour as RGBA', async () => {
    const scene = await syntheticSubject();
    const result = await removeImageBackground(
      scene.png,
      { bg_type: 'color', bg_color_value: '#00ff0080' },
      { config },
    );
    const out = await decodeRaw(result.data);
    expect(out.channels).toBe(4);
    const corner = [...out.data.subarray(0, 4)];
    expect(corner[1]).toBe(255);
    expect(corner[3]).toBeGreaterThanOrEqual(127);
    expect(corner[3]).toBeLessThanOrEqual(129);
  });

  it('puts the subject over a background picture, cover-fitted with aspect kept', async () => {
    const scene = await syntheticSubject(); // 480x360
    // A 200x400 picture: left half blue, right half yellow. Cover-fitting to 480x360 scales it
    // to 480x960 and crops the middle, so the left edge stays blue and the right yellow.
    const halves = Buffer.alloc(200 * 400 * 3);
    for (let pixel = 0; pixel < 200 * 400; pixel++) {
      const right = pixel % 200 >= 100;
      halves.set(right ? [255, 255, 0] : [0, 0, 255], pixel * 3);
    }
    const background = await sharp(halves, { raw: { width: 200, height: 400, channels: 3 } })
      .png()
      .toBuffer();
    const result = await removeImageBackground(
      scene.png,
      { bg_type: 'image' },
      { config, background },
    );
    const out = await decodeRaw(result.data);
    expect([out.width, out.height]).toEqual([480, 360]);
    // An opaque picture behind: the result is opaque, written without an alpha channel.
    expect(out.channels).toBe(3);
    const at = (x: number, y: number) => [
      ...out.data.subarray((y * 480 + x) * 3, (y * 480 + x) * 3 + 3),
    ];
    expect(at(5, 350)).toEqual([0, 0, 255]);
    expect(at(474, 350)).toEqual([255, 255, 0]);
    expect(at(170, 160)).toEqual([220, 40, 40]); // the subject stays on top
  });

  it('applies EXIF orientation before segmenting', async () => {
    const scene = await syntheticSubject();
    // Store the picture rotated by 90° clockwise with EXIF orientation 8 (rotate 90° CCW to show).
    const stored = await sharp(scene.png)
      .rotate(90)
      .jpeg({ quality: 95 })
      .withMetadata({ orientation: 8 })
      .toBuffer();
    const mask = await maskOf(stored);
    expect([mask.width, mask.height]).toEqual([scene.width, scene.height]);
    expect(iou(mask.data, scene.truth)).toBeGreaterThanOrEqual(0.9);
  });

  it.each([
    ['webp', (s: Sharp) => s.webp({ quality: 90 })],
    ['gif', (s: Sharp) => s.gif()],
    ['tiff', (s: Sharp) => s.tiff()],
    ['avif', (s: Sharp) => s.avif({ quality: 70 })],
    ['grey png', (s: Sharp) => s.greyscale().png()],
    ['16-bit png', (s: Sharp) => s.toColourspace('rgb16').png()],
  ])('reads %s input', async (_label, encode) => {
    const scene = await syntheticSubject();
    const input = await encode(sharp(scene.png)).toBuffer();
    const mask = await maskOf(input);
    expect([mask.width, mask.height]).toEqual([scene.width, scene.height]);
    expect(iou(mask.data, scene.truth)).toBeGreaterThanOrEqual(0.85);
  });

  it('keeps an input alpha channel: transparent source pixels stay transparent', async () => {
    const scene = await syntheticSubject();
    const rgba = await sharp(scene.png).ensureAlpha().raw().toBuffer();
    for (let y = 130; y < 190; y++) {
      for (let x = 140; x < 200; x++) rgba[(y * 480 + x) * 4 + 3] = 0;
    }
    const withHole = await sharp(rgba, { raw: { width: 480, height: 360, channels: 4 } })
      .png()
      .toBuffer();
    const out = await decodeRaw((await removeImageBackground(withHole, {}, { config })).data);
    expect(out.data[(160 * 480 + 170) * 4 + 3]).toBe(0); // inside the hole, inside the subject
    expect(out.data[(100 * 480 + 170) * 4 + 3]).toBeGreaterThan(200); // subject, outside the hole
  });

  it('applies alpha matting for every output kind, at the original size, without warnings', async () => {
    const scene = await syntheticSubject();
    const params = { alpha_matting: 'true', model: 'u2netp' };
    const cutout = await removeImageBackground(scene.png, params, { config });
    expect(cutout.warnings).toEqual([]);
    expect(cutout.timings.matting).toBeGreaterThan(0);
    const rgba = await decodeRaw(cutout.data);
    expect([rgba.width, rgba.height, rgba.channels]).toEqual([480, 360, 4]);
    const alpha = new Uint8Array(480 * 360).map((_, i) => rgba.data[i * 4 + 3]!);
    expect(iou(alpha, scene.truth)).toBeGreaterThanOrEqual(0.9);
    const mask = await maskOf(scene.png, params);
    expect(mask.result.warnings).toEqual([]);
    expect(iou(mask.data, scene.truth)).toBeGreaterThanOrEqual(0.9);
    // The matted mask is the cut-out's alpha.
    expect(Buffer.compare(Buffer.from(alpha), mask.data)).toBe(0);
    const green = await removeImageBackground(
      scene.png,
      { ...params, bg_type: 'color', bg_color_value: '#00ff00' },
      { config },
    );
    const flat = await decodeRaw(green.data);
    expect(flat.channels).toBe(3);
    expect([...flat.data.subarray((10 * 480 + 470) * 3, (10 * 480 + 470) * 3 + 3)]).toEqual([
      0, 255, 0,
    ]);
  });

  it('falls back to the plain mask with a warning when the trimap is degenerate', async () => {
    const scene = await syntheticSubject();
    // alpha_bg=0 leaves no sure background (no mask value is below 0).
    const result = await removeImageBackground(
      scene.png,
      { alpha_matting: true, alpha_bg: 0, only_mask: true },
      { config },
    );
    expect(result.warnings.join(' ')).toContain('alpha_matting was not applied');
    expect(result.warnings.join(' ')).toContain('no sure background');
    const plain = await removeImageBackground(scene.png, { only_mask: true }, { config });
    expect(Buffer.compare(result.data, plain.data)).toBe(0);
  });

  it('reports stage timings', async () => {
    const scene = await syntheticSubject();
    const { timings } = await removeImageBackground(scene.png, {}, { config });
    for (const value of Object.values(timings)) expect(value).toBeGreaterThanOrEqual(0);
    expect(timings.total).toBeGreaterThanOrEqual(timings.inference);
  });
});
