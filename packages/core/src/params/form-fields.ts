import { z } from 'zod';
import { formatHexColor, isHexColor, parseHexColor } from './color.js';

/**
 * Field builders shared by the image and video schemas. Each accepts the typed value (from the
 * CLI or JSON) or the form string a multipart request carries ("true", "240"), treats an empty
 * string as "not given" so the default applies, and rejects anything else with a message that
 * states the allowed values. The field name is prefixed when the error is formatted.
 */

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

function blankToUndefined(value: unknown): unknown {
  if (value === null) return undefined;
  if (typeof value === 'string' && value.trim() === '') return undefined;
  return value;
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** A boolean given as true/false, 1/0, yes/no or on/off. */
export function formBoolean(defaultValue: boolean) {
  return z.preprocess(
    (raw) => {
      const value = blankToUndefined(raw);
      if (typeof value !== 'string') return value;
      const word = value.trim().toLowerCase();
      if (TRUE_WORDS.has(word)) return true;
      if (FALSE_WORDS.has(word)) return false;
      return value;
    },
    z
      .boolean({ error: (issue) => `must be true or false (got ${describe(issue.input)})` })
      .default(defaultValue),
  );
}

function integerSchema(min: number, max: number) {
  const message = (issue: { input: unknown }) =>
    `must be an integer from ${min} to ${max} (got ${describe(issue.input)})`;
  return z
    .number({ error: message })
    .int({ error: message })
    .min(min, { error: message })
    .max(max, { error: message });
}

/** Turns a form string into a number when it looks like one; `blankWords` mean "not given". */
function integerInput(blankWords: readonly string[]) {
  return (raw: unknown): unknown => {
    const value = blankToUndefined(raw);
    if (typeof value !== 'string') return value;
    const text = value.trim();
    if (blankWords.includes(text.toLowerCase())) return undefined;
    return /^[+-]?\d+(\.\d+)?$/.test(text) ? Number(text) : value;
  };
}

/** An integer within [min, max] with a default. */
export function formInteger(min: number, max: number, defaultValue: number) {
  return z.preprocess(integerInput([]), integerSchema(min, max).default(defaultValue));
}

/** An integer within [min, max] that may be left out (or given as one of `blankWords`). */
export function optionalFormInteger(min: number, max: number, blankWords: readonly string[]) {
  return z.preprocess(integerInput(blankWords), integerSchema(min, max).optional());
}

/** One of `values`, case-insensitive, with a default. */
export function formEnum<const T extends readonly [string, ...string[]]>(
  values: T,
  defaultValue: T[number],
) {
  return z.preprocess(
    (raw) => {
      const value = blankToUndefined(raw);
      return typeof value === 'string' ? value.trim().toLowerCase() : value;
    },
    z
      .enum(values, {
        error: (issue) => `must be one of ${values.join(', ')} (got ${describe(issue.input)})`,
      })
      .default(defaultValue),
  );
}

/** A hex colour (#rgb, #rgba, #rrggbb, #rrggbbaa), normalised to lower-case #rrggbb[aa]. */
export function formHexColor(defaultValue: string) {
  return z.preprocess(
    blankToUndefined,
    z
      .string({
        error: (issue) => `must be a hex colour such as #00ff00 (got ${describe(issue.input)})`,
      })
      .refine(isHexColor, {
        error: (issue) =>
          `must be a hex colour such as #00ff00: #rgb, #rrggbb or #rrggbbaa (got ${describe(issue.input)})`,
      })
      .transform((text) => formatHexColor(parseHexColor(text)))
      .default(defaultValue),
  );
}
