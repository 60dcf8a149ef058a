/**
 * The README's Quick start promises a fresh clone needs nothing beside it: it names no file of the
 * corpus folder that `npm run conformance` reads (the one place that folder is mentioned by path).
 * Kept here, with the other checks that know that folder; test/readme.test.ts runs the Quick start.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'

const readme = readFileSync('README.md', 'utf8')
const quick = readme.slice(readme.indexOf('## Quick start'), readme.indexOf('\n## ', readme.indexOf('## Quick start') + 5))

t.test('the quick start needs no file from ../shared', async (t) => {
  t.ok(quick.length > 100, 'the Quick start section is found')
  t.notMatch(quick.replace(/no `\.\.\/shared`[^.]*\./g, ''), /\.\.\/shared\/\S+\.ya?ml/, 'the quick start needs no file from ../shared')
})
