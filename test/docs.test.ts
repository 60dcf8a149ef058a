import { readFileSync } from 'node:fs'
import t from 'tap'
import { renderRulesDoc } from '../src/docs.js'
import { CATALOGUE } from '../src/rules/catalogue.js'

t.test('docs/rules.md is generated from the catalogue and up to date (npm run docs)', async (t) => {
  const doc = readFileSync('docs/rules.md', 'utf8')
  t.equal(doc, renderRulesDoc(), 'docs/rules.md is stale: run npm run docs')
  for (const code of Object.keys(CATALOGUE)) t.match(doc, `## ${code} `)
})
