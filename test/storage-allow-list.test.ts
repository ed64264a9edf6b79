import { AllowList, classifyUrl, createStorage, parseRoot } from '../src/storage/index.js';
import type { StorageConfig } from '../src/config/types.js';

const storage: StorageConfig = {
  s3: {
    key: 'k',
    secret: 's',
    credentials: [
      { bucket: 'bucket-a', key: 'a', secret: 'b' },
      { bucket: 'minio-bucket', host: 'minio.local:9000', key: 'a', secret: 'b', secure: false },
      { bucket: 'named-host-bucket', host: 'ceph.internal' },
    ],
  },
  gcs: { credentials: [{ bucket: 'gcs-bucket' }] },
  azure: {
    containers: [
      { accountName: 'acct', accountKey: 'x', containerName: 'models' },
      { accountName: 'other', accountKey: 'x' },
    ],
  },
};

const store = createStorage({
  filesServer: 'http://files.local:8081',
  storage,
  allowRoots: ['s3://scoped-bucket/clearml', 'file:///data/clearml', 'https://files.example.com'],
});

describe('classifyUrl', () => {
  it('splits every URL form ClearML writes', () => {
    expect(classifyUrl('s3://bucket-a/p/t.1/artifacts/x/file.pkl')).toMatchObject({ backend: 's3', bucket: 'bucket-a', key: 'p/t.1/artifacts/x/file.pkl' });
    expect(classifyUrl('s3://minio.local:9000/minio-bucket/a/b.bin')).toMatchObject({ backend: 's3', host: 'minio.local:9000', bucket: 'minio-bucket', key: 'a/b.bin' });
    expect(classifyUrl('s3://ceph.internal/named-host-bucket/k', { s3Hosts: ['ceph.internal'] })).toMatchObject({ host: 'ceph.internal', bucket: 'named-host-bucket', key: 'k' });
    expect(classifyUrl('gs://gcs-bucket/dir/m.pt')).toMatchObject({ backend: 'gs', bucket: 'gcs-bucket', key: 'dir/m.pt' });
    expect(classifyUrl('azure://acct.blob.core.windows.net/models/x/y.bin')).toMatchObject({ backend: 'azure', account: 'acct', container: 'models', blob: 'x/y.bin' });
    expect(classifyUrl('file:///data/clearml/a b.txt')).toMatchObject({ backend: 'file', path: '/data/clearml/a b.txt' });
    expect(classifyUrl('/data/clearml/x')).toMatchObject({ backend: 'file', path: '/data/clearml/x' });
    expect(classifyUrl('http://FILES.local:8081/p/t.1/metrics/loss%20a/img.png')).toMatchObject({
      backend: 'fileserver',
      origin: 'http://files.local:8081',
      segments: ['p', 't.1', 'metrics', 'loss a', 'img.png'],
    });
    expect(classifyUrl('ftp://x/y').backend).toBe('unknown');
    expect(classifyUrl('relative/path').backend).toBe('unknown');
  });

  it('flags traversal before any normalisation can hide it', () => {
    expect(classifyUrl('http://files.local:8081/p/../../etc/passwd').unsafe).toBe('path traversal');
    expect(classifyUrl('http://files.local:8081/p/%2e%2e/secret').unsafe).toBe('path traversal');
    expect(classifyUrl('http://files.local:8081/p/a%2Fb').unsafe).toBe('encoded path separator');
    expect(classifyUrl('file:///data/clearml/../etc/passwd').unsafe).toBe('path traversal');
    expect(classifyUrl('s3://bucket-a/x/../y').unsafe).toBe('path traversal');
  });
});

describe('allow-list', () => {
  const allowed = (url: string) => store.classify(url).allowed;

  it('allows URLs under the files server, configured buckets, containers and extra roots', () => {
    expect(allowed('http://files.local:8081/proj/task.abc/artifacts/a/a.pkl')).toBe(true);
    expect(allowed('https://files.example.com/p/x.png')).toBe(true);
    expect(allowed('s3://bucket-a/any/key')).toBe(true);
    expect(allowed('s3://minio.local:9000/minio-bucket/k')).toBe(true);
    expect(allowed('s3://ceph.internal/named-host-bucket/k')).toBe(true);
    expect(allowed('s3://scoped-bucket/clearml/p/x')).toBe(true);
    expect(allowed('gs://gcs-bucket/x')).toBe(true);
    expect(allowed('azure://acct.blob.core.windows.net/models/x.bin')).toBe(true);
    expect(allowed('file:///data/clearml/p/x.bin')).toBe(true);
  });

  it('refuses a foreign host, another port, another bucket or container', () => {
    expect(store.classify('http://datasets.someone-else.com/p/x.bin')).toMatchObject({ allowed: false, refusal: { reason: 'not-allowed' } });
    expect(allowed('http://files.local:9999/p/x.bin')).toBe(false);
    expect(allowed('https://files.local:8081/p/x.bin')).toBe(false);
    expect(allowed('s3://other-bucket/k')).toBe(false);
    expect(allowed('s3://other.host:9000/minio-bucket/k')).toBe(false);
    expect(allowed('s3://minio-bucket/k')).toBe(false); // same bucket name on AWS is another bucket
    expect(allowed('gs://bucket-a/x')).toBe(false);
    expect(allowed('azure://acct.blob.core.windows.net/datasets/x.bin')).toBe(false);
    // an account without a container name grants nothing
    expect(allowed('azure://other.blob.core.windows.net/any/x.bin')).toBe(false);
  });

  it('matches on whole path segments only', () => {
    expect(allowed('s3://bucket-ab/k')).toBe(false);
    expect(allowed('s3://scoped-bucket/clearml-other/x')).toBe(false);
    expect(allowed('s3://scoped-bucket/x')).toBe(false);
    expect(allowed('file:///data/clearml2/x')).toBe(false);
    expect(allowed('file:///data/x')).toBe(false);
  });

  it('refuses traversal, the root itself and folders', () => {
    expect(allowed('file:///data/clearml/../../etc/passwd')).toBe(false);
    expect(allowed('http://files.local:8081/p/%2e%2e/%2e%2e/x')).toBe(false);
    expect(allowed('s3://scoped-bucket/clearml/../private/x')).toBe(false);
    expect(allowed('file:///data/clearml')).toBe(false);
    expect(store.classify('s3://bucket-a/dir/')).toMatchObject({ allowed: false, refusal: { reason: 'folder' } });
    expect(store.classify('http://files.local:8081/')).toMatchObject({ allowed: false });
  });

  it('reports refusals as outcomes and never touches anything', async () => {
    const out = await store.deleteFiles(['http://evil.example.com/x.bin', 'ftp://a/b', 's3://bucket-a/']);
    expect(out.map((o) => [o.status, o.reason])).toEqual([
      ['refused', 'not-allowed'],
      ['refused', 'not-allowed'],
      ['refused', 'folder'],
    ]);
  });

  it('rejects roots that could never be safe', () => {
    expect(() => parseRoot('file:///')).toThrow(/whole disk/);
    expect(() => parseRoot('ftp://x')).toThrow(/not a storage URL/);
    expect(() => new AllowList({ allowRoots: ['s3://b/../c'] })).toThrow(/traversal/);
  });

  it('can ignore the configuration and trust only explicit roots', () => {
    const narrow = createStorage({ filesServer: 'http://files.local:8081', storage, useConfigRoots: false, allowRoots: ['http://files.local:8081/only-this'] });
    expect(narrow.classify('http://files.local:8081/only-this/a.bin').allowed).toBe(true);
    expect(narrow.classify('http://files.local:8081/other/a.bin').allowed).toBe(false);
    expect(narrow.classify('s3://bucket-a/k').allowed).toBe(false);
  });
});
