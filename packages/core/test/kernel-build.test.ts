import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { compileKernel, KERNELS } from '../scripts/compile-kernels.js';
import { fillPngKernelTemplate } from '../src/image/kernels/png-kernel-template.js';
import { CRC_TABLE_BYTES, HISTOGRAM_STRIDE } from '../src/image/png-layout.js';
import { fillWatTemplate } from '../src/wasm/wat-template.js';

describe("core's WebAssembly kernels, built from WAT", () => {
  it.each(KERNELS.map((kernel) => [kernel.name, kernel] as const))(
    '%s: the generated module holds what the WAT and the shared layout compile to',
    async (_name, kernel) => {
      const generated = await readFile(kernel.output, 'utf8');
      const base64 = [...generated.matchAll(/'([A-Za-z0-9+/=]+)'/g)].map((m) => m[1]).join('');
      const fresh = await compileKernel(kernel);
      // A mismatch means the generated module is stale: run `npm run build:kernels`.
      expect(Buffer.from(base64, 'base64').equals(Buffer.from(fresh))).toBe(true);
    },
  );

  it("fill the PNG kernel's offsets from png-layout.ts", () => {
    expect(fillPngKernelTemplate('{{crcTable(0)}} {{crcTable(7)}}')).toBe(
      `0 ${7 * CRC_TABLE_BYTES}`,
    );
    expect(fillPngKernelTemplate('{{histogram(3)}}')).toBe(`${3 * HISTOGRAM_STRIDE}`);
    expect(() => fillPngKernelTemplate('{{crcTable(8)}}')).toThrow(/no CRC table 8/);
  });

  it('refuse placeholders they cannot read', () => {
    const values = { constants: { A: 1 }, functions: {} };
    expect(fillWatTemplate('(i32.const {{A}})', values)).toBe('(i32.const 1)');
    expect(() => fillWatTemplate('{{B}}', values)).toThrow(/no constant B/);
    expect(() => fillWatTemplate('{{f(1)}}', values)).toThrow(/no function f/);
    expect(() => fillWatTemplate('{{A', values)).toThrow(/cannot read the placeholder/);
    expect(() => fillWatTemplate('{{toString}}', values)).toThrow(/no constant toString/);
  });
});
