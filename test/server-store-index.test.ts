import Database from 'better-sqlite3';
import { DocCollection } from '../src/server/store/collection.js';
import { runQuery } from '../src/server/query/get-all.js';
import { ScrollStates } from '../src/server/query/scroll-states.js';

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

  test('select, lookupAny and a narrowed runQuery answer in the order a scan would', () => {
    const db = new Database(':memory:');
    const docs = new DocCollection<Doc & { tag?: string }>(db, 'docs');
    docs.addIndex('parent', (d) => (d.parent ? [d.parent] : []));
    for (const [id, parent] of [['d1', 'x'], ['d2', 'y'], ['d3', 'x'], ['d4', 'z']]) docs.put({ id, parent });
    docs.put({ id: 'd1', parent: 'y' }); // an update keeps its place
    expect(docs.select(['d4', 'nope', 'd1', 'd4']).map((d) => d.id)).toEqual(['d1', 'd4']);
    expect(docs.lookupAny('parent', ['y', 'x']).map((d) => d.id)).toEqual(['d1', 'd2', 'd3']);

    const spec = { patternFields: [], listFields: ['id', 'parent'], rangeFields: [], dateFields: [], indexedFields: { parent: 'parent' } };
    const q = (body: Record<string, unknown>) => runQuery(docs, body, spec, new ScrollStates()).items.map((d) => d.id);
    const scan = (body: Record<string, unknown>) => runQuery([...docs.values()], body, spec, new ScrollStates()).items.map((d) => d.id);
    for (const body of [
      { id: ['d3', 'd1', 'd9'] },
      { parent: ['y', 'z'] },
      { parent: ['y'], id: ['d2', 'd3'] },
      { parent: ['-y'] },
      { parent: ['__$not', 'x'] },
      { id: ['d1', 'd2', 'd3', 'd4'], parent: ['x'], page_size: 1, page: 1 },
    ]) {
      expect(q(body)).toEqual(scan(body));
    }
    expect(q({ parent: ['y', 'z'] })).toEqual(['d1', 'd2', 'd4']);
    db.close();
  });
});
