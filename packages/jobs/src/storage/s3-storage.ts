import { createReadStream, createWriteStream } from 'node:fs';
import { stat as statFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { ByteRange, PutOptions, Storage, StoredObjectInfo } from './storage.js';
import { assertSafeKey, StorageNotFoundError } from './storage.js';

/** Settings for an S3-compatible bucket (AWS, MinIO, R2, Ceph...). */
export interface S3StorageSettings {
  bucket: string;
  region: string;
  /** Custom endpoint for S3-compatible services; undefined means AWS. */
  endpoint: string | undefined;
  forcePathStyle: boolean;
  /** Explicit credentials; undefined uses the AWS SDK's default chain (env, IAM role...). */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Optional key prefix inside the bucket. */
  prefix: string;
}

/**
 * Storage in an S3-compatible bucket, so API servers and workers on different machines share
 * inputs and results. Streams of unknown length are sent as multipart uploads. For expiry, a
 * bucket lifecycle rule is cheaper at scale; `deleteOlderThan` works without one.
 */
export class S3Storage implements Storage {
  private readonly client: S3Client;

  constructor(private readonly settings: S3StorageSettings) {
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      // The SDK's default (checksums on every upload, sent aws-chunked) is not understood by
      // several S3-compatible services; only send checksums where the operation needs one.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
  }

  private objectKey(key: string): string {
    return `${this.settings.prefix}${assertSafeKey(key)}`;
  }

  async put(
    key: string,
    body: Buffer | Readable,
    contentType: string,
    options: PutOptions = {},
  ): Promise<void> {
    const metadata = metadataOf(options);
    if (Buffer.isBuffer(body)) {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.settings.bucket,
          Key: this.objectKey(key),
          Body: body,
          ContentType: contentType,
          Metadata: metadata,
        }),
      );
      return;
    }
    await new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: this.objectKey(key),
        Body: body,
        ContentType: contentType,
        Metadata: metadata,
      },
    }).done();
  }

  async putFile(
    key: string,
    path: string,
    contentType: string,
    options: PutOptions = {},
  ): Promise<void> {
    const { size } = await statFile(path);
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.settings.bucket,
        Key: this.objectKey(key),
        Body: createReadStream(path),
        ContentLength: size,
        ContentType: contentType,
        Metadata: metadataOf(options),
      }),
    );
  }

  async read(key: string, range?: ByteRange): Promise<Readable> {
    try {
      const response = await this.client.send(
        new GetObjectCommand({
          Bucket: this.settings.bucket,
          Key: this.objectKey(key),
          ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}),
        }),
      );
      return response.Body as Readable;
    } catch (error) {
      if (isNotFound(error)) throw new StorageNotFoundError(key);
      throw error;
    }
  }

  async downloadToFile(key: string, path: string): Promise<void> {
    await pipeline(await this.read(key), createWriteStream(path));
  }

  async stat(key: string): Promise<StoredObjectInfo | undefined> {
    try {
      const head = await this.client.send(
        new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }),
      );
      return {
        size: head.ContentLength ?? 0,
        contentType: head.ContentType ?? 'application/octet-stream',
        lastModified: head.LastModified ?? new Date(0),
        ...downloadNameOf(head.Metadata),
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }),
    );
  }

  async deleteOlderThan(prefix: string, cutoff: Date): Promise<number> {
    let removed = 0;
    let continuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.settings.bucket,
          Prefix: `${this.settings.prefix}${prefix}`,
          ContinuationToken: continuationToken,
        }),
      );
      const expired = (page.Contents ?? []).filter(
        (object) => object.Key && object.LastModified && object.LastModified < cutoff,
      );
      if (expired.length > 0) {
        await this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.settings.bucket,
            Delete: { Objects: expired.map((object) => ({ Key: object.Key })) },
          }),
        );
        removed += expired.length;
      }
      continuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (continuationToken);
    return removed;
  }

  /** Closes the HTTP connections the client keeps. */
  destroy(): void {
    this.client.destroy();
  }
}

/**
 * S3 user metadata travels as HTTP headers, so only ASCII is safe there: the download name is
 * stored percent-encoded (`x-amz-meta-download-name`).
 */
function metadataOf(options: PutOptions): Record<string, string> {
  return options.downloadName === undefined
    ? {}
    : { 'download-name': encodeURIComponent(options.downloadName) };
}

function downloadNameOf(metadata: Record<string, string> | undefined): { downloadName?: string } {
  const encoded = metadata?.['download-name'];
  if (encoded === undefined) return {};
  try {
    return { downloadName: decodeURIComponent(encoded) };
  } catch {
    return {};
  }
}

function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.name === 'NoSuchKey' ||
      error.name === 'NotFound' ||
      error.$metadata.httpStatusCode === 404)
  );
}
