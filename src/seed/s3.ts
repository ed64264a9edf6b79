/** A few artifacts on an S3-compatible store, registered as s3://bucket/key like the SDK does. */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { SeedS3 } from './types.js';

export class S3Seeder {
  private readonly client: S3Client;
  private bucketReady?: Promise<void>;
  files = 0;
  bytes = 0;

  constructor(private readonly cfg: SeedS3) {
    this.client = new S3Client({
      region: cfg.region ?? 'us-east-1',
      endpoint: cfg.endpoint,
      forcePathStyle: Boolean(cfg.endpoint),
      credentials: { accessKeyId: cfg.accessKey, secretAccessKey: cfg.secretKey },
    });
  }

  /** uploads one object and returns its s3:// URI */
  async put(key: string, body: Buffer, contentType: string): Promise<string> {
    this.bucketReady ??= this.ensureBucket();
    await this.bucketReady;
    await this.client.send(new PutObjectCommand({ Bucket: this.cfg.bucket, Key: key, Body: body, ContentType: contentType }));
    this.files++;
    this.bytes += body.length;
    return `s3://${this.cfg.bucket}/${key}`;
  }

  close(): void {
    this.client.destroy();
  }

  private async ensureBucket(): Promise<void> {
    try {
      await this.client.send(new CreateBucketCommand({ Bucket: this.cfg.bucket }));
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
    }
  }
}
