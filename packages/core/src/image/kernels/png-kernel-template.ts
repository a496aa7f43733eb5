/**
 * The values for the placeholders of `png-kernels.wat`, from the memory layout `encode.ts`
 * uses (`png-layout.ts`): `crcTable(k)`, the byte offset of the k-th CRC table, and
 * `histogram(k)`, that of the k-th lit/length histogram from the first.
 */

import { fillWatTemplate } from '../../wasm/wat-template.js';
import { crcTableOffset, histogramOffset } from '../png-layout.js';

/** `png-kernels.wat` with every placeholder replaced; throws on an unknown one. */
export function fillPngKernelTemplate(template: string): string {
  return fillWatTemplate(template, {
    constants: {},
    functions: {
      crcTable: { arity: 1, value: (table) => crcTableOffset(table!) },
      histogram: { arity: 1, value: (histogram) => histogramOffset(histogram!) },
    },
  });
}
