import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { findMalformedPartHeader, PartHeaderScanner } from '../src/part-headers.js';
import { multipartBody } from './raw-http.js';

const boundary = '----formdata-test-42';
const headers = [
  'Content-Disposition: form-data; name="convert_to"',
  'Content-Disposition: form-data; name="files"; filename="a\r\nb.png"\r\nContent-Type: image/png',
  'Content-Disposition: form-data; name="files"; filename="ok.png"\r\nContent-Type: image/png',
];
const body = multipartBody(boundary, [
  { headers: headers[0] ?? '', body: 'image-backgroundremover' },
  { headers: headers[1] ?? '', body: randomBytes(5000) },
  { headers: headers[2] ?? '', body: randomBytes(70_000) },
]);

describe('PartHeaderScanner', () => {
  it('finds every part header however the body is split', () => {
    for (const size of [1, 2, 7, 33, 1000, 65_536, body.length]) {
      const scanner = new PartHeaderScanner(boundary);
      const found: string[] = [];
      for (let at = 0; at < body.length; at += size)
        found.push(...scanner.push(body.subarray(at, at + size)));
      expect({ size, found }).toEqual({ size, found: headers });
    }
  });

  it('flags only the header whose filename holds a raw line break', () => {
    expect(headers.map((header) => findMalformedPartHeader(header) !== undefined)).toEqual([
      false,
      true,
      false,
    ]);
    expect(
      findMalformedPartHeader('Content-Disposition: form-data; name="f"; filename="a\nb"'),
    ).toContain('field "f" has a filename holding a raw line break');
  });
});
