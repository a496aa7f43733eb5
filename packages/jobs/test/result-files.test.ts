import { describe, expect, it } from 'vitest';
import {
  assertSafeKey,
  displayFileName,
  resultDownloadPath,
  resultDownloadUrl,
  resultStorageKey,
  safeFileName,
  UnsafeStorageKeyError,
} from '../src/index.js';

/** Names that browsers, phones and chat apps really send. */
const everydayNames = [
  'my photo.png',
  'IMG_0001(1).png',
  'фото.png',
  'q"x;y=z.png',
  "it's [final] {v2}.JPG",
  'tab\there\r\nnewline.png',
  '..\\..\\windows\\evil.png',
  '../../etc/passwd',
  '.png',
  '___.png',
  '写真 2024-01-01 12.00.00.heic',
  `${'a'.repeat(300)}.png`,
  '',
];

describe('file names', () => {
  it('turns every everyday name into a safe storage key segment', () => {
    for (const name of everydayNames) {
      const safe = safeFileName(name);
      expect(safe, name).toMatch(/^[A-Za-z0-9][A-Za-z0-9._-]*$/);
      expect(safe.length, name).toBeLessThanOrEqual(120);
      expect(() => assertSafeKey(resultStorageKey('job-1', name)), name).not.toThrow();
    }
  });

  it.each([
    ['my photo.png', 'my_photo.png'],
    ['IMG_0001(1).png', 'IMG_0001_1.png'],
    ['фото.png', 'file.png'],
    ['q"x;y=z.png', 'q_x_y_z.png'],
    ['photo.JPG', 'photo.jpg'],
    ['../../etc/passwd', 'passwd'],
    [`${'a'.repeat(300)}.png`, `${'a'.repeat(116)}.png`],
  ])('keeps what it can of the name and its extension: %j', (name, safe) => {
    expect(safeFileName(name)).toBe(safe);
  });

  it.each([
    ['фото.png', 'фото.png'],
    ['q"x;y=z.png', 'q"x;y=z.png'],
    ['tab\there\r\nnewline.png', 'tab here newline.png'],
    ['C:\\Users\\me\\my photo.png', 'my photo.png'],
    ['\u202Egnp.exe', 'gnp.exe'],
    ['', 'file'],
  ])('shows the person their own name, without control characters or paths: %j', (name, shown) => {
    expect(displayFileName(name)).toBe(shown);
  });

  it('shortens a long name to 200 characters and keeps its extension', () => {
    const long = displayFileName(`${'я'.repeat(300)}.png`);
    expect(Array.from(long)).toHaveLength(200);
    expect(long.endsWith('.png')).toBe(true);
  });

  it('refuses unsafe keys with an error that names no key', () => {
    expect(() => assertSafeKey('results/x/my photo.png')).toThrow(UnsafeStorageKeyError);
    try {
      assertSafeKey('results/../../secret');
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
    }
  });
});

describe('result URLs', () => {
  it('encodes each path segment once', () => {
    expect(resultDownloadPath('results/abc/x_processed.png')).toBe('/v1/files/abc/x_processed.png');
    expect(resultDownloadUrl('https://bg.example.com/', 'results/slack-Ev1-F1/big photo.png')).toBe(
      'https://bg.example.com/v1/files/slack-Ev1-F1/big%20photo.png',
    );
  });
});
