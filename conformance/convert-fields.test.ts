/**
 * Nothing dropped silently (issue #15): a walk over the VirtualService and Gateway schemas of Istio's
 * CRDs (../shared/crds/istio) finds every field path; each must be in convert's field table
 * (src/convert/fields.ts), and an input that sets the field (a value of the schema's type) must give
 * an RG0302 line covering it unless the table says it is converted.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { convert } from '../src/convert/convert.js'
import { type Disposition, GATEWAY_FIELDS, VIRTUAL_SERVICE_FIELDS } from '../src/convert/fields.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'
type Schema = Record<string, any>

const crds = parseAllDocuments(readFileSync(join(SHARED, 'crds/istio/crd-all.gen.yaml'), 'utf8')).map((d) => d.toJS()).filter((d) => d?.kind === 'CustomResourceDefinition' && d.spec.group === 'networking.istio.io')
const specSchema = (kind: string): Schema => {
  const crd = crds.find((c) => c.spec.names.kind === kind)
  const v = crd.spec.versions.find((x: { name: string }) => x.name === 'v1') ?? crd.spec.versions[0]
  return v.schema.openAPIV3Schema.properties.spec
}

/** Every leaf field of a schema as a pattern (`[]` arrays, `*` maps), with its schema. */
function leaves(s: Schema, p = '', depth = 0): [string, Schema][] {
  if (!s || depth > 14) return []
  if (s.type === 'array') {
    const items = s.items ?? {}
    return items.properties ? leaves(items, `${p}[]`, depth + 1) : [[`${p}[]`, items]]
  }
  if (s.properties) return Object.entries(s.properties as Record<string, Schema>).flatMap(([n, c]) => leaves(c, p ? `${p}.${n}` : n, depth + 1))
  if (s.additionalProperties && typeof s.additionalProperties === 'object') {
    const a = s.additionalProperties as Schema
    return a.properties ? leaves(a, `${p}.*`, depth + 1) : [[`${p}.*`, a]]
  }
  return [[p, s]]
}

function valueOf(s: Schema): unknown {
  if (s.enum) return s.enum.find((e: unknown) => e !== 'UNSPECIFIED' && e !== 0) ?? s.enum[0]
  if (s.type === 'integer' || s.type === 'number') return s.maximum !== undefined ? Math.min(7, s.maximum) : 7
  if (s.type === 'boolean') return true
  if (s['x-kubernetes-int-or-string']) return 7
  if (s.type === 'object') return {}
  return 'x1'
}

/** An object with the field at `pattern` set (one element per `[]`, key `k1` per `*`). */
function setting(pattern: string, value: unknown): Record<string, unknown> {
  const parts = pattern.split('.').flatMap((seg) => (seg.endsWith('[]') ? [seg.slice(0, -2), '[]'] : [seg])).filter(Boolean)
  const build = (i: number): unknown => {
    if (i === parts.length) return value
    const p = parts[i]!
    if (p === '[]') return i + 1 === parts.length ? [value] : [build(i + 1)]
    return { [p === '*' ? 'k1' : p]: build(i + 1) }
  }
  return build(0) as Record<string, unknown>
}

function deepMerge(a: any, b: any): any {
  if (Array.isArray(a) && Array.isArray(b)) return a.map((x, i) => (i < b.length ? deepMerge(x, b[i]) : x)).concat(b.slice(a.length))
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const out = { ...a }
    for (const [k, v] of Object.entries(b)) out[k] = k in out ? deepMerge(out[k], v) : v
    return out
  }
  return b
}

const svc = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'api', namespace: 'shop' }, spec: { selector: { app: 'api' }, ports: [{ name: 'http', port: 80 }] } }

for (const [kind, table] of [['VirtualService', VIRTUAL_SERVICE_FIELDS], ['Gateway', GATEWAY_FIELDS]] as [string, Record<string, Disposition>][]) {
  t.test(`${kind}: every field of Istio's schema is converted, or reported when set`, async (t) => {
    const fields = leaves(specSchema(kind))
    t.ok(fields.length > (kind === 'Gateway' ? 20 : 100), `${fields.length} fields in the schema`)
    for (const [pattern, schema] of fields) {
      const d = table[pattern]
      t.ok(d, `${pattern}: in the field table`)
      if (!d) continue
      const base = kind === 'VirtualService'
        ? { hosts: ['api.example.com'], gateways: ['shop/gw'], http: [{ route: [{ destination: { host: 'api' } }] }], tcp: [{ route: [{ destination: { host: 'api', port: { number: 80 } } }] }], tls: [{ match: [{ sniHosts: ['api.example.com'] }], route: [{ destination: { host: 'api', port: { number: 80 } } }] }] }
        : { servers: [{ port: { number: 443, name: 'https', protocol: 'HTTPS' }, hosts: ['api.example.com'], tls: { mode: 'SIMPLE', credentialName: 'c' } }] }
      const spec = deepMerge(base, setting(pattern, valueOf(schema)))
      const obj = { apiVersion: 'networking.istio.io/v1', kind, metadata: { name: 'x', namespace: 'shop' }, spec }
      const { gaps } = convert([obj, svc] as never, { checkRouting: false })
      const concrete = `spec.${pattern.replace(/\[\]/g, '[0]').replace(/\.\*/g, '.k1').replace(/\[0\]$/, '')}`
      const covered = gaps.some((g) => g.resource === `${kind} shop/x` && (concrete.startsWith(g.path) || g.path.startsWith(concrete) || g.feature === pattern))
      if (d === 'converted') continue
      t.ok(covered, `${pattern} (${d}): an RG0302 line when set`)
    }
  })
}
