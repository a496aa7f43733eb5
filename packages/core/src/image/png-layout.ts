/**
 * The PNG encoder's WebAssembly memory, shared by `encode.ts` and the kernels in
 * `kernels/png-kernels.wat` (the build fills the kernels' offsets from here, see
 * `kernels/png-kernel-template.ts`): the CRC tables, the length codes, room to copy bytes to
 * for their CRC, then what each encoding uses, from `KERNEL_BASE` on. Imports nothing, so the
 * build can load it before the kernels exist.
 */

/** The slicing-by-8 CRC-32 tables: eight of 256 32-bit entries, one after another. */
export const CRC_TABLES_AT = 0;
export const CRC_TABLE_COUNT = 8;
export const CRC_TABLE_BYTES = 256 * 4;
/** Deflate's length code (0-28) of each match length 0-258, one byte each. */
export const LENGTH_CODES_AT = CRC_TABLES_AT + CRC_TABLE_COUNT * CRC_TABLE_BYTES;
/** Where bytes are copied for their CRC, up to `CRC_SCRATCH_BYTES` at a time. */
export const CRC_SCRATCH_AT = LENGTH_CODES_AT + 272;
export const CRC_SCRATCH_BYTES = 65536;
/** The start of each encoding's buffers. */
export const KERNEL_BASE = CRC_SCRATCH_AT + CRC_SCRATCH_BYTES;

/** The lit/length histograms `tokenize` counts into: four of 286 counters (padded to 288). */
export const HISTOGRAM_COUNT = 4;
export const HISTOGRAM_STRIDE = 288 * 4;

/** Byte offset of the CRC table `table` (0-7). */
export function crcTableOffset(table: number): number {
  if (!(table >= 0 && table < CRC_TABLE_COUNT)) throw new RangeError(`no CRC table ${table}`);
  return CRC_TABLES_AT + table * CRC_TABLE_BYTES;
}

/** Byte offset of the histogram `histogram` (0-3) from the first. */
export function histogramOffset(histogram: number): number {
  if (!(histogram >= 0 && histogram < HISTOGRAM_COUNT)) {
    throw new RangeError(`no histogram ${histogram}`);
  }
  return histogram * HISTOGRAM_STRIDE;
}
