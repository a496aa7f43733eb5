/**
 * Where results live and how they are downloaded: one home for the key and URL shapes that the
 * worker (which stores results), the API (which serves them) and the chat replies (which link
 * to them) share.
 */
import { safeFileName } from './storage/storage.js';

/** The storage key of a job's result: `results/<jobId>/<safe name>` (never the raw name). */
export function resultStorageKey(jobId: string, resultName: string): string {
  return `results/${jobId}/${safeFileName(resultName)}`;
}

/**
 * The API path a stored result downloads from: `results/<job>/<file>` becomes
 * `/v1/files/<job>/<file>`, each segment URL-encoded.
 */
export function resultDownloadPath(resultKey: string): string {
  const [, jobId = '', ...rest] = resultKey.split('/');
  return `/v1/files/${encodeURIComponent(jobId)}/${encodeURIComponent(rest.join('/'))}`;
}

/** The absolute download URL of a stored result on the API at `publicBaseUrl`. */
export function resultDownloadUrl(publicBaseUrl: string, resultKey: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}${resultDownloadPath(resultKey)}`;
}
