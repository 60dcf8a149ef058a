/**
 * `routeguard convert` on every Bookinfo VirtualService in ../shared/samples/istio: every
 * HTTPRoute produced validates (ajv) against the openAPIV3Schema of the HTTPRoute CRD (served
 * v1) of Gateway API v1.4.1 and v1.6.1 (standard channel), and every weight written is > 0.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import addFormatsMod from 'ajv-formats'
import t from 'tap'
import { parse } from 'yaml'
import { loadObjects } from '../src/analyze/load.js'
import { convert } from '../src/convert/convert.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'
const addFormats = addFormatsMod as unknown as (ajv: Ajv) => void

function httpRouteSchema(version: string) {
  const crd = parse(readFileSync(join(SHARED, `crds/gateway-api/${version}/standard/gateway.networking.k8s.io_httproutes.yaml`), 'utf8'))
  const v = crd.spec.versions.find((x: { name: string }) => x.name === 'v1')
  return v.schema.openAPIV3Schema
}

function validator(version: string) {
  const ajv = new Ajv({ strict: true, strictTypes: false, strictRequired: false, allErrors: true })
  addFormats(ajv)
  ajv.addVocabulary(['x-kubernetes-validations', 'x-kubernetes-int-or-string', 'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-embedded-resource'])
  ajv.addFormat('int-or-string', true)
  return ajv.compile(httpRouteSchema(version))
}

const BOOKINFO = join(SHARED, 'samples/istio/bookinfo')
if (!existsSync(BOOKINFO)) {
  t.fail(`Bookinfo samples not found at ${BOOKINFO}`)
} else {
  const validators = { 'v1.4.1': validator('v1.4.1'), 'v1.6.1': validator('v1.6.1') }
  const files = readdirSync(join(BOOKINFO, 'networking')).filter((f) => f.startsWith('virtual-service-') || f === 'bookinfo-gateway.yaml')
  const context = loadObjects([join(BOOKINFO, 'networking/destination-rule-all.yaml'), join(BOOKINFO, 'platform/kube/bookinfo.yaml')], 'default').objects.map((o) => o.object)
  for (const f of files) {
    t.test(`convert ${f}`, async (t) => {
      const input = loadObjects([join(BOOKINFO, 'networking', f)], 'default').objects.map((o) => o.object)
      const { objects } = convert([...input, ...context])
      const routes = objects.filter((o) => o.kind === 'HTTPRoute')
      t.ok(routes.length >= 1, 'an HTTPRoute per VirtualService')
      for (const r of routes) {
        for (const [version, validate] of Object.entries(validators)) {
          const ok = validate(r)
          t.ok(ok, `${r.metadata?.name} valid against the ${version} HTTPRoute schema ${ok ? '' : JSON.stringify(validate.errors?.slice(0, 3))}`)
        }
        const weights = JSON.stringify(r).match(/"weight":(\d+)/g) ?? []
        t.ok(weights.every((w) => !w.endsWith(':0')), 'no weight 0')
      }
    })
  }
}
