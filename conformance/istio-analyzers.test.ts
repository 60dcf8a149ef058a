/**
 * Scores the rules against Istio's analyzer corpus (../shared/conformance/istio-analyzers):
 * for every row whose analyzer we mirror, run only that analyzer's rules over the row's files
 * as they are (plus the harness's implicit ingress Pod and Service; objects without a namespace
 * left namespace-less, as Istio's harness does; no namespace filtering: the rules skip what
 * Istio's analyzers skip) and compare the (code, resource)
 * multiset with expected.json. Rows of analyzers we do not mirror are listed as not covered.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { analyzeObjects } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { RULES } from '../src/rules/index.js'
import { meshFacts } from '../src/rules/types.js'
import { parse } from 'yaml'

const CORPUS = join(process.env.SHARED_DIR ?? '../shared', 'conformance/istio-analyzers')

/** Rows of mirrored analyzers that routeguard leaves out on purpose, and why (printed). */
const LEFT_OUT: Record<string, string> = {
  gatewaySecretValidations: 'IST0161 judges the certificate inside the Secret; routeguard never reads Secret data (Secrets are watched metadata-only)',
}

interface Case {
  name: string
  analyzer: string
  inputFiles: string[]
  meshConfigFile: string | null
  harness?: string
  expected: { code: string; resource: string }[]
}

if (!existsSync(join(CORPUS, 'expected.json'))) {
  t.fail(`Istio analyzer corpus not found at ${CORPUS} (set SHARED_DIR)`)
} else {
  const { cases } = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as { cases: Case[] }
  const mirrored = new Set(RULES.map((r) => r.istioAnalyzer).filter(Boolean))
  const score = new Map<string, { passed: number; rows: number }>()
  const notCovered = new Map<string, number>()

  const leftOut: string[] = []
  for (const [i, c] of cases.entries()) {
    if (c.harness === 'multicluster') {
      leftOut.push(`${c.analyzer} #${i} ${c.name}: it compares one Service across two clusters; routeguard watches one cluster`)
      continue
    }
    if (!mirrored.has(c.analyzer)) {
      notCovered.set(c.analyzer, (notCovered.get(c.analyzer) ?? 0) + 1)
      continue
    }
    const why = LEFT_OUT[c.name]
    if (why) {
      leftOut.push(`${c.analyzer} #${i} ${c.name}: ${why}`)
      continue
    }
    t.test(`${c.analyzer} #${i} ${c.name}`, async (t) => {
      const files = [...c.inputFiles, 'testdata/_harness-default-resources.yaml'].map((f) => join(CORPUS, f))
      const loaded = loadObjects(files, '')
      const rules = RULES.filter((r) => r.istioAnalyzer === c.analyzer)
      const mesh = c.meshConfigFile ? meshFacts(parse(readFileSync(join(CORPUS, c.meshConfigFile), 'utf8'))) : undefined
      const { findings } = analyzeObjects(loaded.objects, { rules, mesh })
      const got = findings.map((f) => `${f.code} ${f.resource.kind} ${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}`).sort()
      const want = c.expected.map((e) => `${e.code} ${e.resource}`).sort()
      const s = score.get(c.analyzer) ?? { passed: 0, rows: 0 }
      s.rows++
      const ok = t.same(got, want, 'same (code, resource) multiset as upstream')
      if (ok) s.passed++
      score.set(c.analyzer, s)
    })
  }

  t.teardown(() => {
    const lines = ['', 'Istio analyzer corpus, rows passed per mirrored analyzer:']
    for (const [a, s] of [...score].sort()) lines.push(`  ${a}: ${s.passed}/${s.rows}`)
    lines.push('Left out on purpose (rows):')
    for (const l of leftOut) lines.push(`  ${l}`)
    lines.push('Not covered yet (rows):')
    for (const [a, n] of [...notCovered].sort()) lines.push(`  ${a}: ${n}`)
    console.log(lines.map((l) => `# ${l}`).join('\n'))
  })
}
