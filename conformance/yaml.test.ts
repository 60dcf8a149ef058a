/**
 * `analyze` reads YAML on a fast path (js-yaml) and falls back to an exact one (yaml) for what
 * the fast path leaves (src/analyze/load.ts). On every YAML file in ../shared (Istio's analyzer
 * inputs, the Gateway API conformance manifests, the samples, the CRDs), the two must give the
 * same objects, the same first lines and the same problems. A file the fast path leaves to the
 * exact one is counted, not failed.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { listFiles, parseExact, parseFast } from '../src/analyze/load.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'

t.test('fast and exact YAML paths agree on every manifest in ../shared', async (t) => {
  const files = listFiles([SHARED], []).filter((f) => /\.ya?ml$/.test(f))
  t.ok(files.length > 100, `${files.length} YAML files`)
  let left = 0
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const fast = parseFast(text, file)
    if (fast === undefined) {
      left++
      continue
    }
    t.same(fast, parseExact(text, file), file)
  }
  t.comment(`${files.length - left} files read on the fast path, ${left} left to the exact one`)
})
