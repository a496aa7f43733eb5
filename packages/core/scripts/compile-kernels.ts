/**
 * Compiles the matting solver's WebAssembly kernels: `stencil-kernels.wat` with its
 * placeholders filled from the shared stencil layout (`fillKernelTemplate`), through wabt
 * (the WebAssembly Binary Toolkit's wat2wasm, compiled to JavaScript). Used by the build
 * (`build-kernels.ts`) and by the test that checks the built kernels are current.
 */

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';
import { fillKernelTemplate } from '../src/matting/kernels/kernel-template.js';

/** The kernels' WAT template. */
export const KERNEL_SOURCE = fileURLToPath(
  new URL('../src/matting/kernels/stencil-kernels.wat', import.meta.url),
);

/** The kernels as a validated WebAssembly binary (fixed-width SIMD). */
export async function compileStencilKernels(): Promise<Uint8Array> {
  const text = fillKernelTemplate(await readFile(KERNEL_SOURCE, 'utf8'));
  const toolkit = await wabt();
  const module = toolkit.parseWat('stencil-kernels.wat', text, { simd: true });
  try {
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({ canonicalize_lebs: true }).buffer);
  } finally {
    module.destroy();
  }
}
