/** Synthetic scenes the matting tests share (no model, no sharp). */

/** A fixed-seed linear congruential generator of numbers in [0, 1). */
export function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

/**
 * A textured picture of `width` x `height` RGB floats, each `low + spread * random()` from
 * `seededRandom(seed)`, and a trimap whose value at (x, y) is `trimapAt(x, y)`.
 */
export function texturedScene(
  width: number,
  height: number,
  { seed, low, spread }: { seed: number; low: number; spread: number },
  trimapAt: (x: number, y: number) => number,
): { image: Float32Array; trimap: Uint8Array } {
  const image = new Float32Array(width * height * 3);
  const trimap = new Uint8Array(width * height);
  const random = seededRandom(seed);
  for (let i = 0; i < width * height; i++) {
    const x = i % width;
    const y = Math.floor(i / width);
    for (let c = 0; c < 3; c++) image[i * 3 + c] = low + spread * random();
    trimap[i] = trimapAt(x, y);
  }
  return { image, trimap };
}
