import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import t from 'tap'
import ts from 'typescript'
import { CATALOGUE, type Code } from '../src/rules/catalogue.js'
import { formatMessage } from '../src/rules/messages.js'
import { RULES } from '../src/rules/index.js'
import { httpMatchText } from '../src/model/gatewayapi.js'
import { describeHttpMatch } from '../src/model/istio.js'

function tsFiles(dir: string): string[] {
  const out: string[] = []
  for (const f of readdirSync(dir)) {
    const p = join(dir, f)
    if (statSync(p).isDirectory()) out.push(...tsFiles(p))
    else if (p.endsWith('.ts')) out.push(resolve(p))
  }
  return out
}

/** Relative imports of every file under `dir` (type-only imports count: a circle of types is a circle). */
function importGraph(dir: string): Map<string, string[]> {
  const graph = new Map<string, string[]>()
  for (const f of tsFiles(dir)) {
    const deps = ts
      .preProcessFile(readFileSync(f, 'utf8'), true, true)
      .importedFiles.map((i) => i.fileName)
      .filter((n) => n.startsWith('.'))
      .map((n) => resolve(dirname(f), n.replace(/\.js$/, '.ts')))
    graph.set(f, deps)
  }
  return graph
}

/** Strongly connected components with more than one file (Tarjan), as paths relative to `root`. */
function circles(graph: Map<string, string[]>, root: string): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const out: string[][] = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = []
      let w: string
      do {
        w = stack.pop()!
        onStack.delete(w)
        scc.push(relative(root, w))
      } while (w !== v)
      if (scc.length > 1) out.push(scc.sort())
    }
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return out
}

t.test('the import graph of src/ has no circle', async (t) => {
  const graph = importGraph('src')
  t.ok(graph.size > 50, 'every module read')
  t.same(circles(graph, resolve('src')), [])
  // the check can fail: a made-up circle is found
  const a = resolve('x/a.ts')
  const b = resolve('x/b.ts')
  t.same(circles(new Map([[a, [b]], [b, [a]]]), resolve('x')), [['a.ts', 'b.ts']])
})

/** The folder of `src/rules/` that holds a code's family. */
function familyOf(code: string): string {
  if (code.startsWith('IST')) return 'istio'
  const family = ({ '01': 'conflicts', '02': 'gateway-api', '03': 'migration', '04': 'subsets', '05': 'hygiene' } as Record<string, string>)[code.slice(2, 4)]
  if (!family) throw new Error(`${code}: no family`)
  return family
}

t.test('every code of the catalogue lives in the folder of its family under src/rules/', async (t) => {
  const files = tsFiles('src/rules').map((f) => relative(resolve('src/rules'), f))
  t.same(files.filter((f) => !f.includes('/')).sort(), ['catalogue.ts', 'index.ts', 'messages.ts', 'types.ts'], 'only the shared base at the top: rules live in family folders')
  const codes = Object.keys(CATALOGUE)
  for (const code of codes) {
    const where = files.filter((f) => f.includes('/') && readFileSync(join('src/rules', f), 'utf8').includes(`'${code}'`))
    t.ok(where.length > 0, `${code} is defined under src/rules/${familyOf(code)}/`)
    for (const f of where) t.equal(f.split('/')[0], familyOf(code), `${code} in ${f}`)
  }
  // every registered rule's code is in the catalogue, and every catalogue code but /mutate's and
  // the change rule RG0106 (judged on a change's impact, not on one view) has a rule
  const ruled = new Set(RULES.map((r) => r.code))
  t.same(codes.filter((c) => !ruled.has(c as Code)), ['RG0106', 'RG0403', 'RG0404'], 'only /mutate warnings and the change rule have no view rule')
})

t.test('every deny-level message ends with one sentence on how to resolve it', async (t) => {
  for (const [code, spec] of Object.entries(CATALOGUE) as [Code, { level: string; fix?: string; template: string }][]) {
    if (spec.level !== 'error') continue
    t.ok(spec.fix && /^[A-Z].*\.$/.test(spec.fix) && !spec.fix.slice(0, -1).includes('. '), `${code} has one fix sentence`)
    const args = Object.fromEntries([...spec.template.matchAll(/\{(\w+)\}/g)].map((m) => [m[1], 'x']))
    const message = formatMessage(code, args, 'VirtualService ns/a')
    t.ok(message.endsWith(spec.fix!.replace(/\{(\w+)\}/g, 'x')), `${code} message ends with its fix`)
  }
})

t.test('long match lists are cut at a field boundary and counted', async (t) => {
  const headers = Array.from({ length: 40 }, (_, i) => ({ name: `x-header-${i}`, value: `value-${i}` }))
  const text = httpMatchText({ path: { type: 'PathPrefix', value: '/api' }, headers })
  t.match(text, /^PathPrefix \/api, header x-header-0 = value-0, .* and \d+ more match values$/)
  const kept = text.split(' and ')[0]!.split(', ')
  t.equal(kept.length + Number(/and (\d+) more/.exec(text)![1]), 41, 'kept + counted = every field')
  for (const f of kept.slice(1)) t.match(f, /^header x-header-\d+ = value-\d+$/, 'no field cut mid-text')
  t.notMatch(text, /characters cut/)
  const vs = describeHttpMatch({ headers: Object.fromEntries(headers.map((h) => [h.name, { exact: h.value }])) })
  t.match(vs, /^header x-header-0 exact value-0, .* and \d+ more match values$/)
  // a message built from it is not cut by the message bound either
  t.notMatch(formatMessage('RG0103', { match: text, host: 'h', parent: 'p', others: 'o', example: '' }, 'HTTPRoute a/b'), /characters cut/)
  // short lists are whole
  t.equal(httpMatchText({ path: { type: 'Exact', value: '/a' }, method: 'GET' }), 'Exact /a, method GET')
})

t.test('docs/architecture.md names every layer and family folder that exists, and the README points to it', async (t) => {
  const doc = readFileSync('docs/architecture.md', 'utf8')
  const dirs = readdirSync('src').filter((d) => statSync(join('src', d)).isDirectory())
  for (const d of dirs) t.match(doc, `${d}/`, `src/${d}/ is placed in the architecture`)
  for (const f of readdirSync('src/rules').filter((d) => statSync(join('src/rules', d)).isDirectory())) t.match(doc, `rules/${f}/`, `rules/${f}/ is described`)
  t.match(doc, /## Where things go/)
  t.match(readFileSync('README.md', 'utf8'), /docs\/architecture\.md/)
})
