/** An sRGB colour with 8-bit channels; `a` is 255 for opaque. */
export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

const HEX_COLOR = /^#?([0-9a-f]{3}|[0-9a-f]{4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;

/** True when `text` is #rgb, #rgba, #rrggbb or #rrggbbaa (the # is optional). */
export function isHexColor(text: string): boolean {
  return HEX_COLOR.test(text.trim());
}

/**
 * Parses #rgb, #rgba, #rrggbb or #rrggbbaa (the # optional) into channels.
 * Throws when the text is not such a colour; validate with `isHexColor` first for a nice message.
 */
export function parseHexColor(text: string): Rgba {
  const match = HEX_COLOR.exec(text.trim());
  if (!match?.[1]) throw new Error(`not a hex colour: ${JSON.stringify(text)}`);
  let digits = match[1];
  if (digits.length <= 4) digits = [...digits].map((digit) => digit + digit).join('');
  const channel = (index: number) => Number.parseInt(digits.slice(index * 2, index * 2 + 2), 16);
  return { r: channel(0), g: channel(1), b: channel(2), a: digits.length === 8 ? channel(3) : 255 };
}

/** Writes a colour as lower-case #rrggbb, or #rrggbbaa when it is not opaque. */
export function formatHexColor(color: Rgba): string {
  const hex = (value: number) => value.toString(16).padStart(2, '0');
  const alpha = color.a === 255 ? '' : hex(color.a);
  return `#${hex(color.r)}${hex(color.g)}${hex(color.b)}${alpha}`;
}
