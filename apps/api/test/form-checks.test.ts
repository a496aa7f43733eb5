/** The limits on a /v1/convert/ form as it is read (form-checks.ts), on plain data. */
import { describe, expect, it } from 'vitest';
import {
  fieldProblem,
  filePartProblem,
  inflightProblem,
  MAX_FIELD_BYTES,
  tooManyFilesMessage,
} from '../src/form-checks.js';

describe('fieldProblem', () => {
  it('refuses a field cut at the length limit, naming the limit', () => {
    expect(MAX_FIELD_BYTES).toBe(64 * 1024);
    expect(fieldProblem('bg_color', true, {})).toBe(
      'Parameter bg_color is longer than the limit of 64.0 KB',
    );
  });
  it('refuses a field sent twice, and takes a new one', () => {
    expect(fieldProblem('size', false, { size: 'auto' })).toBe(
      'Parameter size was sent more than once; send each parameter once',
    );
    expect(fieldProblem('size', false, { format: 'png' })).toBeUndefined();
  });
});

describe('filePartProblem', () => {
  const sofar = { inputs: 2, hasBackground: false, maxFiles: 3 };
  it('refuses one input more than MAX_FILES_PER_REQUEST', () => {
    expect(filePartProblem('input', 'files', sofar)).toBeUndefined();
    expect(filePartProblem('input', 'files', { ...sofar, inputs: 3 })).toBe(
      'Too many files: at most 3 per request (plus one background)',
    );
    expect(tooManyFilesMessage(3)).toBe(
      'Too many files: at most 3 per request (plus one background)',
    );
  });
  it('takes one background beside the inputs, and refuses a second', () => {
    expect(filePartProblem('background', 'bg_image', { ...sofar, inputs: 3 })).toBeUndefined();
    expect(filePartProblem('background', 'bg_video', { ...sofar, hasBackground: true })).toBe(
      'Only one background per request: bg_video repeats one already sent',
    );
  });
});

describe('inflightProblem', () => {
  it('takes files that fit under the limit, and names the figures when they do not', () => {
    expect(inflightProblem(2, 8, 10)).toBeUndefined();
    expect(inflightProblem(3, 8, 10)).toBe(
      "This request's 3 files would take this key to 11 files in progress (limit 10); send fewer or retry when some finish",
    );
  });
});
