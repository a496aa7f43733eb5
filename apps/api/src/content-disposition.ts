/**
 * `Content-Disposition: attachment` for a download name in any script, the standard way (RFC 6266
 * with RFC 5987's `filename*`): an ASCII `filename` for old clients (quotes, backslashes and
 * non-ASCII replaced), then `filename*=UTF-8''<percent-encoded>` that modern browsers prefer.
 * Control characters never reach the header.
 */
export function attachmentDisposition(name: string): string {
  const clean = name.replace(/[\p{Cc}\p{Cf}]+/gu, ' ').trim() || 'download';
  const fallback = clean.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  if (fallback === clean) return `attachment; filename="${clean}"`;
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(clean)}`;
}

/** RFC 5987 `value-chars`: percent-encoded UTF-8, leaving only the attr-char set bare. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
