/**
 * `analyze` reads YAML once, with `yaml`, and keeps each object's node for the lines of fields
 * (src/analyze/load.ts, src/analyze/lines.ts). On every YAML file in ../shared (Istio's analyzer
 * inputs, the Gateway API conformance manifests, the samples, the CRDs): no problem is reported,
 * and for every object the line of `kind` (and of `metadata.name`) is a line of the file that
 * holds that key.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { fieldLine } from '../src/analyze/lines.js'
import { listFiles, parseYaml } from '../src/analyze/load.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'

t.test('every manifest in ../shared reads without problems, and field lines point at their keys', async (t) => {
  const files = listFiles([SHARED], []).filter((f) => /\.ya?ml$/.test(f))
  t.ok(files.length > 100, `${files.length} YAML files`)
  let objects = 0
  const wrong: string[] = []
  for (const file of files) {
    const text = readFileSync(file, 'utf8')
    const lines = text.split('\n')
    const r = parseYaml(text, file)
    for (const p of r.problems) wrong.push(`${file}:${p.source.line}: ${p.message}`)
    for (const o of r.objects) {
      objects++
      if (!o.yaml) {
        wrong.push(`${file}:${o.source.line}: no YAML node kept`)
        continue
      }
      for (const [path, key] of [[['kind'], 'kind:'], [['metadata', 'name'], 'name:']] as const) {
        if (o.object.kind === undefined || (key === 'name:' && o.object.metadata?.name === undefined)) continue
        const line = fieldLine(o.yaml, [...path])
        if (!lines[line - 1]?.includes(key)) wrong.push(`${file}:${line}: expected ${key} there`)
      }
    }
  }
  t.same(wrong.slice(0, 20), [], `${objects} objects`)
})
