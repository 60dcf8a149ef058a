/**
 * CEL as the API server runs CRD validation rules (../shared/reference/cel-kubernetes.md): every
 * `x-kubernetes-validations` rule of every CRD in ../shared/crds (Gateway API v1.4.1 and v1.6.1,
 * Istio, policy reports, prometheus-operator) type-checks in routeguard's environment (no function
 * or overload missing), and each rule that calls a Kubernetes library function (isIP, url, isURL,
 * format) accepts a value and refuses another, as the API server would.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { celViolations, checkRule } from '../src/crd/cel.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'

function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? yamlFiles(p) : /\.ya?ml$/.test(p) ? [p] : []
  })
}

interface Found {
  crd: string
  rule: string
  message: string
  schema: Record<string, any>
}

function rulesOf(schema: Record<string, any> | undefined, crd: string, out: Found[]): void {
  if (!schema || typeof schema !== 'object') return
  for (const v of schema['x-kubernetes-validations'] ?? []) out.push({ crd, rule: String(v.rule), message: String(v.message ?? v.rule), schema })
  for (const sub of Object.values((schema.properties ?? {}) as Record<string, any>)) rulesOf(sub, crd, out)
  if (typeof schema.additionalProperties === 'object') rulesOf(schema.additionalProperties, crd, out)
  if (schema.items) rulesOf(schema.items, crd, out)
}

const found: Found[] = []
for (const file of yamlFiles(join(SHARED, 'crds'))) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    const o = doc.toJS() as any
    if (o?.kind !== 'CustomResourceDefinition') continue
    for (const v of o.spec?.versions ?? []) rulesOf(v.schema?.openAPIV3Schema, `${file.slice(SHARED.length + 1)} ${o.metadata?.name} ${v.name}`, found)
  }
}

t.test('every CEL rule of every CRD in ../shared/crds compiles as the API server compiles it', async (t) => {
  t.ok(found.length > 1000, `${found.length} rules`)
  const refused = found.map((f) => [f, checkRule(f.rule)] as const).filter(([, why]) => why !== undefined).map(([f, why]) => `${f.crd}: ${f.rule.slice(0, 80)}: ${why}`)
  t.same(refused.slice(0, 10), [], `${refused.length} rules refused`)
})

/** Values of the schema node's type to try a rule with: enums, edge strings and numbers, small lists, objects with each property set in turn. */
function candidates(s: Record<string, any>, depth = 0): unknown[] {
  if (s.enum) return [...s.enum]
  switch (s.type) {
    case 'string': return ['', 'a', 'a.example.com', 'A_b', '/x', '10.0.0.1', '1s', 'x'.repeat(300)]
    case 'integer': return [0, 1, 80, 65536, -1]
    case 'number': return [0, 1.5]
    case 'boolean': return [true, false]
    case 'array': { const c = s.items && depth < 3 ? candidates(s.items, depth + 1) : []; return [[], c.slice(0, 2), c.slice(0, 1).concat(c.slice(0, 1))] }
    default: {
      if (depth >= 3) return [{}]
      const props = Object.entries(s.properties ?? {}) as [string, Record<string, any>][]
      const req = new Set<string>(s.required ?? [])
      const base: Record<string, unknown> = {}
      for (const [k, p] of props) if (req.has(k)) base[k] = candidates(p, depth + 1)[1] ?? candidates(p, depth + 1)[0]
      const out: unknown[] = [{}, base]
      for (const [k, p] of props.slice(0, 12)) for (const v of candidates(p, depth + 1).slice(0, 3)) out.push({ ...base, [k]: v })
      return out
    }
  }
}

t.test('every rule, tried with values of its schema node\'s type: no function or overload is missing at run time; most accept one and refuse another', async (t) => {
  let both = 0
  const missing: string[] = []
  const tried = found.filter((f) => !f.rule.includes('oldSelf'))
  for (const f of tried) {
    const alone = { type: f.schema.type, 'x-kubernetes-validations': [{ rule: f.rule, message: 'refused' }] }
    let accepted = false
    let refused = false
    for (const value of candidates(f.schema)) {
      const violations = celViolations(value, alone)
      if (violations.length === 0) accepted = true
      else refused = true
      for (const v of violations) if (/no matching overload|no such overload|unknown function|is not a function/i.test(v)) missing.push(`${f.crd}: ${f.rule.slice(0, 60)}: ${v.slice(0, 160)}`)
    }
    if (accepted && refused) both++
  }
  t.same(missing.slice(0, 10), [], `${missing.length} evaluations hit a missing function or overload`)
  // the rest need values generic candidates do not reach (a rule across several fields, a format)
  t.ok(both >= 1100, `${both} of ${tried.length} rules accept one candidate and refuse another`)
})

t.test('rules that call the Kubernetes libraries accept a value and refuse another', async (t) => {
  const kube = found.filter((f) => /\b(isIP|isURL|url|format)\b/.test(f.rule))
  t.ok(kube.length >= 10, `${kube.length} such rules`)
  // candidate values by the schema's type: an accepted and a refused one must be among them
  const strings = ['https://a.example.com/x', 'oci://registry.example.com/filter:1', 'a.example.com', 'ftp://a.example.com', '10.0.0.1', 'ok-name', 'Bad_Name', '']
  const candidates = (s: Record<string, any>): unknown[] => (s.type === 'array' ? strings.map((x) => [x]) : strings)
  for (const f of kube) {
    // this rule alone on a node of the schema's type (other rules of the node are not its business)
    const alone = { type: f.schema.type, 'x-kubernetes-validations': [{ rule: f.rule, message: f.message }] }
    const results = candidates(f.schema).map((value) => ({ value, violations: celViolations(value, alone) }))
    // a value the library cannot parse is an evaluation error that refuses it, as in the API
    // server; a function or overload the environment lacks is the failure looked for here
    const errors = results.flatMap((r) => r.violations.filter((v) => /no matching overload|no such overload|unknown function/i.test(v)))
    t.same(errors, [], `${f.crd}: ${f.rule.slice(0, 60)}: evaluates without errors`)
    t.ok(results.some((r) => r.violations.length === 0), `${f.crd}: ${f.rule.slice(0, 60)}: accepts ${JSON.stringify(results.find((r) => r.violations.length === 0)?.value)}`)
    t.ok(results.some((r) => r.violations.length > 0), `${f.crd}: ${f.rule.slice(0, 60)}: refuses ${JSON.stringify(results.find((r) => r.violations.length > 0)?.value)}`)
  }
})

t.test('#26 B2: a TLSRoute with hostnames and a GRPCRoute with a (?i) method match validate against the v1.6.1 CRDs', async (t) => {
  const { loadObjects } = await import('../src/analyze/load.js')
  const { checkOutput } = await import('../src/convert/validate-output.js')
  const crds = loadObjects([join(SHARED, 'crds/gateway-api/v1.6.1/standard')], 'default').objects.map((o) => o.object).filter((o) => o.kind === 'CustomResourceDefinition')
  const tls = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'TLSRoute', metadata: { name: 'db', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], hostnames: ['db.example.com'], rules: [{ backendRefs: [{ name: 'db', port: 5432 }] }] } }
  const ipHost = { ...tls, metadata: { name: 'ip', namespace: 'shop' }, spec: { ...tls.spec, hostnames: ['10.0.0.1'] } }
  const grpc = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name: 'greeter', namespace: 'shop' }, spec: { parentRefs: [{ name: 'gw' }], rules: [{ matches: [{ method: { type: 'RegularExpression', service: '(?i)helloworld\\.Greeter', method: 'Say.*' } }], backendRefs: [{ name: 'greeter', port: 9000 }] }] } }
  const checked = checkOutput([tls, ipHost, grpc] as never, crds)
  t.same(checked.valid.map((o) => o.metadata?.name), ['db', 'greeter'], 'the hostname route and the (?i) GRPCRoute are valid')
  t.same(checked.held.map((h) => h.object.metadata?.name), ['ip'], 'an IP address as a hostname is refused, as the API server refuses it')
  t.match(checked.held[0]?.problems.join('; '), /IP/)
})
