import { classifyUrl } from '../src/storage/url.js';

describe('classifyUrl: http authorities (parsed once per authority)', () => {
  test('origin, credentials and unparsable URLs are judged the same the first and the next time', () => {
    for (let round = 0; round < 2; round++) {
      const ok = classifyUrl('HTTP://Files.Example:8081/p/t.1/artifacts/a/x%20y.txt');
      expect(ok).toMatchObject({ backend: 'fileserver', origin: 'http://files.example:8081', scope: 'http:http://files.example:8081', segments: ['p', 't.1', 'artifacts', 'a', 'x y.txt'] });
      expect(ok.unsafe).toBeUndefined();
      expect(classifyUrl('https://files.example:443/a/b')).toMatchObject({ origin: 'https://files.example' });
      expect(classifyUrl('http://user:pw@files.example:8081/a/b')).toMatchObject({ backend: 'unknown', unsafe: 'credentials in URL' });
      expect(classifyUrl('http://files.example:99999/a/b')).toMatchObject({ backend: 'unknown', unsafe: 'unparsable URL' });
      expect(classifyUrl('http://files.example:8081/a/%2e%2e/b').unsafe).toBe('path traversal');
    }
  });
});
