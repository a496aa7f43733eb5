import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeMattingWorker, releaseModels, removeImageBackground } from '../src/index.js';
import { realConfig } from './helpers.js';
import {
  type AlphaErrors,
  makeQualitySet,
  meanErrors,
  type QualityScene,
  scoreCutout,
} from './quality-scenes.js';

const config = realConfig();

afterAll(async () => {
  await closeMattingWorker();
  await releaseModels();
});

/** Runs the real pipeline (u2netp) on a scene and scores its cut-out against the truth. */
async function score(scene: QualityScene, alphaMatting: boolean): Promise<AlphaErrors> {
  const output = await removeImageBackground(
    scene.png,
    { model: 'u2netp', alpha_matting: alphaMatting },
    { config },
  );
  expect(output.warnings).toEqual([]);
  return scoreCutout(scene, output.data);
}

describe('matting quality on composites with a known soft alpha (real u2netp)', () => {
  let scenes: QualityScene[];
  const plain: AlphaErrors[] = [];
  const matted: AlphaErrors[] = [];

  beforeAll(async () => {
    scenes = await makeQualitySet();
    for (const scene of scenes) {
      plain.push(await score(scene, false));
      matted.push(await score(scene, true));
    }
  }, 300_000);

  // On the striped background u2netp's own mask takes in stripes, so the trimap's sure
  // foreground holds background: matting cannot repair a wrong trimap (the report shows it).
  const modelFindsSubject = (scene: QualityScene) => scene.name !== 'feathered-disk over stripes';

  it('lowers the alpha error (SAD and MSE) on every scene where the model finds the subject', () => {
    for (const [index, scene] of scenes.entries()) {
      if (!modelFindsSubject(scene)) continue;
      expect(matted[index]!.sad, scene.name).toBeLessThan(plain[index]!.sad);
      expect(matted[index]!.mse, scene.name).toBeLessThan(plain[index]!.mse);
    }
  });

  it('cuts the alpha error of the feathered disk several-fold where the model finds it', () => {
    // A good trimap, so closed-form matting must recover the feather: a solver that returned
    // the model's mask, or stopped early, stays near 1x.
    for (const [index, scene] of scenes.entries()) {
      if (!scene.name.startsWith('feathered-disk') || !modelFindsSubject(scene)) continue;
      expect(matted[index]!.sad / plain[index]!.sad, scene.name).toBeLessThan(0.4);
      expect(matted[index]!.edgeColour / plain[index]!.edgeColour, scene.name).toBeLessThan(0.4);
    }
  });

  it('improves the set on average, alpha and edge colour', () => {
    const kept = scenes.map(modelFindsSubject);
    const before = meanErrors(plain.filter((_, index) => kept[index]));
    const after = meanErrors(matted.filter((_, index) => kept[index]));
    expect(after.sad / before.sad).toBeLessThan(0.8);
    expect(after.mse / before.mse).toBeLessThan(0.8);
    expect(after.edgeColour / before.edgeColour).toBeLessThan(0.75);
  });
});
