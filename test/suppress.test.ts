/** `analyze --suppress` globs (src/analyze/suppress.ts): istioctl's forms, `*` only as a wildcard, matched with RE2. */
import t from 'tap'
import { isSuppressed, parseSuppression } from '../src/analyze/suppress.js'
import type { Finding } from '../src/rules/types.js'

const f = (code: string, kind: string, namespace: string, name: string) => ({ code, resource: { kind, namespace, name } }) as unknown as Finding

t.test('globs: * matches anything, every other character only itself', async (t) => {
  const s = [parseSuppression('IST01*=VirtualService *.team-?')]
  t.ok(isSuppressed(f('IST0109', 'VirtualService', 'team-?', 'reviews'), s))
  t.notOk(isSuppressed(f('IST0109', 'VirtualService', 'team-a', 'reviews'), s), '? is no wildcard')
  const dot = [parseSuppression('RG0103=HTTPRoute a.b/c(d)+')]
  t.ok(isSuppressed(f('RG0103', 'HTTPRoute', 'a.b', 'c(d)+'), dot))
  t.notOk(isSuppressed(f('RG0103', 'HTTPRoute', 'axb', 'c(d)+'), dot), '. is no wildcard')
  t.notOk(isSuppressed(f('RG0103', 'HTTPRoute', 'a.b', 'cdd'), dot), 'parentheses and + are literal')
})

t.test('many stars against a long name: answered (RE2, no backtracking), right both ways', async (t) => {
  const s = [parseSuppression(`IST0109=VirtualService ${'*a'.repeat(30)}*b.default`)]
  t.notOk(isSuppressed(f('IST0109', 'VirtualService', 'default', 'a'.repeat(5000)), s))
  t.ok(isSuppressed(f('IST0109', 'VirtualService', 'default', `${'a'.repeat(5000)}b`), s))
  t.throws(() => parseSuppression(`IST0109=VirtualService ${'x'.repeat(2000)}.default`), /--suppress/, 'a glob too long to compile is a usage error')
})
