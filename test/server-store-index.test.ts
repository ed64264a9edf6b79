import Database from 'better-sqlite3';
import { DocCollection } from '../src/server/store/collection.js';

interface Doc {
  id: string;
  parent?: string;
  inputs?: string[];
}

describe('DocCollection secondary indexes', () => {
  test('lookup follows put (new, re-keyed, in-place-mutated) and delete, and is rebuilt from disk', () => {
    const db = new Database(':memory:');
    const docs = new DocCollection<Doc>(db, 'docs');
    docs.put({ id: 'a', parent: 'p1', inputs: ['m1', 'm2'] });
    docs.addIndex('parent', (d) => (d.parent ? [d.parent] : []));
    docs.addIndex('inputs', (d) => d.inputs ?? []);
    docs.put({ id: 'b', parent: 'p1', inputs: ['m2', 'm2'] });
    docs.put({ id: 'c' });
    expect(docs.lookup('parent', 'p1').map((d) => d.id).sort()).toEqual(['a', 'b']);
    expect(docs.lookup('inputs', 'm2').map((d) => d.id).sort()).toEqual(['a', 'b']);

    docs.put({ id: 'a', parent: 'p2', inputs: [] });
    expect(docs.lookup('parent', 'p1').map((d) => d.id)).toEqual(['b']);
    expect(docs.lookup('parent', 'p2').map((d) => d.id)).toEqual(['a']);
    expect(docs.lookup('inputs', 'm1')).toEqual([]);

    // a caller that changed the cached document in place before put() must not leave a stale key
    const b = docs.get('b')!;
    b.parent = 'p3';
    docs.put(b);
    expect(docs.lookup('parent', 'p1')).toEqual([]);
    expect(docs.lookup('parent', 'p3').map((d) => d.id)).toEqual(['b']);

    docs.delete('b');
    expect(docs.lookup('parent', 'p3')).toEqual([]);
    expect(docs.lookup('inputs', 'm2')).toEqual([]);
    expect(() => docs.lookup('nope', 'x')).toThrow(/no index/);

    const reopened = new DocCollection<Doc>(db, 'docs');
    reopened.addIndex('parent', (d) => (d.parent ? [d.parent] : []));
    expect(reopened.lookup('parent', 'p2').map((d) => d.id)).toEqual(['a']);
    db.close();
  });
});
