/** Field paths → YAML lines for analyze's istioctl-style origins (src/analyze/lines.ts). */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { nodesBySource, pathSegments, withFieldLines } from '../src/analyze/lines.js'
import { loadObjects } from '../src/analyze/load.js'
import type { SourcedFinding } from '../src/analyze/analyze.js'
import { tempDir } from './helpers.js'

t.test('path segments', async (t) => {
  t.same(pathSegments('spec.http[1].match[0]'), ['spec', 'http', 1, 'match', 0])
  t.same(pathSegments('metadata.annotations["a.b/c"]'), ['metadata', 'annotations', 'a.b/c'])
  t.same(pathSegments(''), [])
})

t.test('the deepest existing field gives the line; JSON and unknown objects keep theirs', async (t) => {
  const dir = tempDir(t)
  const file = join(dir, 'a.yaml')
  writeFileSync(file, ['# c', 'kind: X', 'metadata:', '  annotations:', '    "a.b/c": x', 'spec:', '  http:', '    - a: 1', '    - b: 2', ''].join('\n'))
  const f = (path: string, line = 2, name = file): SourcedFinding => ({ code: 'IST0002', name: 'Deprecated', severity: 'warning', resource: { kind: 'X', namespace: '', name: 'x' }, message: '', path, related: [], source: { file: name, line } })
  writeFileSync(join(dir, 'x.json'), '{"kind": "X", "spec": {"http": []}}')
  const nodes = nodesBySource(loadObjects([dir]).objects)
  const [a, b, c, d, e] = withFieldLines([f('spec.http[1].b'), f('metadata.annotations["a.b/c"]'), f('spec.http[7].z'), f('spec.http', 5), f('spec.http', 1, join(dir, 'x.json'))], nodes)
  t.equal(a!.source!.line, 9)
  t.equal(b!.source!.line, 5)
  t.equal(c!.source!.line, 7, 'a missing index: the line of its parent')
  t.equal(d!.source!.line, 5, 'no object starts at that line: unchanged')
  t.equal(e!.source!.line, 1, 'JSON: unchanged')
})
