/**
 * The inference thread moved to `../inference/inference-thread.ts` (images use it too); this
 * re-export keeps the video modules that still import it from here working until they import
 * it from there.
 */
export {
  closeInferenceThread,
  loadThreadedModel,
  type ThreadedModel,
} from '../inference/inference-thread.js';
