/**
 * Compiles core's WebAssembly kernels from their WAT templates: the placeholders filled from the
 * TypeScript modules that share the kernels' offsets, then wabt (the WebAssembly Binary
 * Toolkit's wat2wasm, compiled to JavaScript). Used by the build (`build-kernels.ts`) and by the
 * test that checks the built kernels are current.
 */

import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import wabt from 'wabt';
import { fillPngKernelTemplate } from '../src/image/kernels/png-kernel-template.js';
import { fillKernelTemplate } from '../src/matting/kernels/kernel-template.js';

/** One kernel module: its template, how to fill it, and the generated module it goes to. */
export interface KernelSource {
  name: string;
  /** The WAT template. */
  source: string;
  fill: (template: string) => string;
  /** The generated TypeScript module (ignored by git). */
  output: string;
  /** The name under which that module exports the binary, base64-encoded. */
  exportName: string;
}

const at = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));

/** Every kernel module of the package. */
export const KERNELS: KernelSource[] = [
  {
    name: 'stencil-kernels',
    source: at('src/matting/kernels/stencil-kernels.wat'),
    fill: fillKernelTemplate,
    output: at('src/matting/kernels/generated/stencil-kernels-wasm.ts'),
    exportName: 'STENCIL_KERNELS_WASM_BASE64',
  },
  {
    name: 'png-kernels',
    source: at('src/image/kernels/png-kernels.wat'),
    fill: fillPngKernelTemplate,
    output: at('src/image/kernels/generated/png-kernels-wasm.ts'),
    exportName: 'PNG_KERNELS_WASM_BASE64',
  },
];

/** A kernel module as a validated WebAssembly binary (fixed-width SIMD). */
export async function compileKernel(kernel: KernelSource): Promise<Uint8Array> {
  const text = kernel.fill(await readFile(kernel.source, 'utf8'));
  const toolkit = await wabt();
  const module = toolkit.parseWat(`${kernel.name}.wat`, text, { simd: true });
  try {
    module.resolveNames();
    module.validate();
    return new Uint8Array(module.toBinary({ canonicalize_lebs: true }).buffer);
  } finally {
    module.destroy();
  }
}
