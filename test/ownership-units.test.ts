/**
 * The pure parts of issue 12: the ownership rule, URL normalisation of the reference index, URLs in
 * free text, and the new options' validation (hyperparameter and flags: one line, nothing opened).
 */
import { isOwnedBy, ownerFolderOf } from '../src/cleanup/ownership.js';
import { NO_OWNER, ReferenceIndex, urlsInText } from '../src/cleanup/references.js';
import { inReportFolder, writtenByClearML } from '../src/cleanup/orphans.js';
import { runPlanCommand } from '../src/commands/plan.js';
import { runOrphansCommand } from '../src/commands/orphans.js';
import { DEFAULT_PARAMS, InvalidParamsError, parseHyperParams, PARAM_SPECS, toHyperParams } from '../src/task/params.js';

const ID = '0123456789abcdef0123456789abcdef';
const OTHER = 'fedcba9876543210fedcba9876543210';

describe('ownership', () => {
  test('only below the task folder `<name>.<id>` or `reports/<id>`', () => {
    expect(isOwnedBy(`http://f:8081/p/train.${ID}/artifacts/a/x.bin`, ID)).toBe(true);
    expect(isOwnedBy(`http://f:8081/p/My%20Run.${ID.toUpperCase()}/models/m.pt`, ID)).toBe(true);
    expect(isOwnedBy(`s3://minio:9000/b/p/t.${ID}/metrics/l/s/i.png`, ID)).toBe(true);
    expect(isOwnedBy(`http://f/reports/${ID}/chart.png`, ID)).toBe(true);
    // the folder itself, a trailing slash, another task, a link elsewhere, a look-alike
    expect(isOwnedBy(`http://f/p/t.${ID}`, ID)).toBe(false);
    expect(isOwnedBy(`http://f/p/t.${ID}/artifacts/`, ID)).toBe(false);
    expect(isOwnedBy(`http://f/p/t.${OTHER}/artifacts/a/x.bin`, ID)).toBe(false);
    expect(isOwnedBy('http://f/shared/imagenet.v2', ID)).toBe(false);
    expect(isOwnedBy(`http://f/p/${ID}/x.bin`, ID)).toBe(false);
    expect(isOwnedBy(`http://f/p/t.${ID}x/a.bin`, ID)).toBe(false);
    expect(isOwnedBy(`http://f/p/t.${ID}/../../shared/x.bin`, ID)).toBe(false);
    expect(isOwnedBy('not a url', ID)).toBe(false);
    expect(ownerFolderOf(`http://f/p/t.${ID}/artifacts/a/x.bin`, ID)).toBe(`http://f/p/t.${ID}/`);
  });

  test('holdsBelow: a reference into a task folder, to it or above it holds the folder; a gone model holds nothing', () => {
    const idx = new ReferenceIndex({ fileServerPaths: ['/files'] }, false, {}, true);
    const other = `http://f:8081/p/u.${OTHER}`;
    try {
      expect(idx.holdsBelow(`http://f:8081/p/t.${ID}/`)).toBe(false);
      // a debug image of a kept task inside the folder, spelled through the proxy and %-encoded
      idx.add(`https://web/files/p/t.${ID}/metrics/a%20b/c/i.png`, NO_OWNER);
      expect(idx.holdsBelow(`http://f:8081/p/t.${ID}/`)).toBe(true);
      expect(idx.holdsBelow(`http://f:8081/p/t.${ID}`)).toBe(true);
      // a model that is going holds nothing; one that stays does
      idx.add(`${other}/models/m.pt`, NO_OWNER, false, 'model-going');
      expect(idx.holdsBelow(`${other}/`, new Set(['model-going']))).toBe(false);
      expect(idx.holdsBelow(`${other}/`)).toBe(true);
      // a reference to a folder above (an output_uri artifact) holds everything below it
      idx.add('http://f:8081/q', NO_OWNER);
      expect(idx.holdsBelow(`http://f:8081/q/t.${ID}/`)).toBe(true);
      expect(idx.holdsBelow(`http://f:8081/r/t.${ID}/`)).toBe(false);
      // a Report's folder
      idx.add(`http://f:8081/reports/${OTHER}/chart.png`, NO_OWNER);
      expect(idx.holdsBelow(`http://f:8081/reports/${OTHER}/`)).toBe(true);
      expect(() => new ReferenceIndex().holdsBelow(`http://f:8081/p/t.${ID}/`)).toThrow(/folder keys/);
    } finally {
      idx.close();
    }
  });

  test('what the sweep counts as written by ClearML', () => {
    expect(writtenByClearML(`s3://b/x/t.${ID}/a.bin`)).toBe(true);
    expect(inReportFolder(`http://f/reports/${ID}/a.png`)).toBe(true);
    expect(inReportFolder(`http://f/reports/${ID}`)).toBe(false);
    expect(writtenByClearML('http://f/shared/raw/train.csv')).toBe(false);
  });
});

describe('reference index normalisation (only ever merges spellings)', () => {
  const idx = () => new ReferenceIndex({ s3Hosts: ['minio'], fileServerPaths: ['https://clearml.example.com/fs'] });

  test('file-server URLs: host, scheme, port, encoding, the /files proxy, a configured base path', () => {
    const r = idx();
    r.add(`http://127.0.0.1:8081/p/t.${ID}/a%20b.bin`, 0);
    expect(r.ownerOf(`https://localhost/p/t.${ID}/a b.bin`)).toBe(0);
    expect(r.ownerOf(`http://web:8080/files/p/t.${ID}/a%20b.bin`)).toBe(0);
    expect(r.ownerOf(`https://clearml.example.com/fs/p/t.${ID}/a%20b.bin`)).toBe(0);
    expect(r.ownerOf(`http://127.0.0.1:8081/p/t.${ID}/other.bin`)).toBeUndefined();
    r.close();
  });

  test('S3: the endpoint host does not matter', () => {
    const r = idx();
    r.add(`s3://minio:9000/bkt/p/t.${ID}/x.pkl`, 0);
    expect(r.ownerOf(`s3://127.0.0.1:9000/bkt/p/t.${ID}/x.pkl`)).toBe(0);
    expect(r.ownerOf(`s3://bkt/p/t.${ID}/x.pkl`)).toBe(0);
    expect(r.ownerOf(`s3://127.0.0.1:9000/other/p/t.${ID}/x.pkl`)).toBeUndefined();
    r.close();
  });

  test('an exact (free-text) reference holds only its file; a model can look past its own', () => {
    const r = idx();
    r.add('s3://bkt/clearml', 0, true);
    expect(r.ownerOf('s3://bkt/clearml/p/t/x.pkl')).toBeUndefined();
    expect(r.ownerOf('s3://bkt/clearml')).toBe(0);
    r.add(`s3://bkt/p/t.${ID}/models/m.pt`, -1, false, 'model-a');
    expect(r.ownerOf(`s3://bkt/p/t.${ID}/models/m.pt`, new Set(['model-a']))).toBeUndefined();
    r.add(`s3://bkt/p/t.${ID}/models/m.pt`, -1, false, 'model-b');
    expect(r.ownerOf(`s3://bkt/p/t.${ID}/models/m.pt`, new Set(['model-a']))).toBe(-1);
    r.close();
  });

  test('URLs in free text', () => {
    expect(urlsInText(`see ![c](http://f/reports/${ID}/c.png), and "s3://b/k.csv".`).sort()).toEqual([`http://f/reports/${ID}/c.png`, 's3://b/k.csv']);
  });
});

describe('the new options', () => {
  test('delete_published_models is a described bool parsed strictly', () => {
    const spec = PARAM_SPECS.find((s) => s.name === 'delete_published_models')!;
    expect(spec).toMatchObject({ type: 'bool', key: 'deletePublishedModels' });
    expect(spec.description).toMatch(/published/);
    expect(DEFAULT_PARAMS.deletePublishedModels).toBe(false);
    const items = toHyperParams(DEFAULT_PARAMS).map((h) => (h.name === 'delete_published_models' ? { ...h, value: 'True' } : h));
    expect(parseHyperParams(items).params.deletePublishedModels).toBe(true);
    const bad = toHyperParams(DEFAULT_PARAMS).map((h) => (h.name === 'delete_published_models' ? { ...h, value: 'maybe' } : h));
    expect(() => parseHyperParams(bad)).toThrow(InvalidParamsError);
  });

  const base = { deleteThresholdDays: 30, forceDelete: false, concurrency: 4, batchSize: 500, pacingMs: 0, logFormat: 'text' as const, json: false };
  const io = () => {
    const o = { text: '' };
    return { o, io: { out: (t: string) => void (o.text += t), err: (t: string) => void (o.text += t) } };
  };

  test('--delete-published-models needs --force-delete; --any-file needs --root; --max-orphan-share in (0, 1]', async () => {
    const a = io();
    expect(await runPlanCommand({ ...base, deletePublishedModels: true }, a.io)).toBe(2);
    expect(a.o.text).toBe('clearml-cleanup: --delete-published-models needs --force-delete (without it no task with a published model is deleted)\n');
    const b = io();
    expect(await runOrphansCommand({ ...base, minAgeDays: 7, delete: true, anyFile: true }, b.io)).toBe(2);
    expect(b.o.text).toMatch(/^clearml-cleanup: --any-file needs an explicit --root/);
    const c = io();
    expect(await runOrphansCommand({ ...base, minAgeDays: 7, delete: false, maxOrphanShare: 1.5 }, c.io)).toBe(2);
    expect(c.o.text).toMatch(/--max-orphan-share must be a number greater than 0 and at most 1, got 1.5/);
  });
});
