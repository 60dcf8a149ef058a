/**
 * `routeguard convert` on every Bookinfo VirtualService in ../shared/samples/istio: every
 * HTTPRoute produced validates against the HTTPRoute CRD (served v1) of Gateway API v1.4.1 and
 * v1.6.1 (standard channel): ajv on the openAPIV3Schema plus the CRD's CEL rules
 * (x-kubernetes-validations, see cel.ts); and every weight written is > 0.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadObjects } from '../src/analyze/load.js'
import { convert } from '../src/convert/convert.js'
import { celViolations } from '../src/crd/cel.js'
import { crdValidator } from '../src/crd/validate.js'

const SHARED = process.env.SHARED_DIR ?? '../shared'

function validator(version: string) {
  const check = crdValidator(join(SHARED, `crds/gateway-api/${version}/standard/gateway.networking.k8s.io_httproutes.yaml`), 'v1')
  return Object.assign((o: unknown) => check(o).ok, { schema: check.schema, check })
}

const BOOKINFO = join(SHARED, 'samples/istio/bookinfo')
if (!existsSync(BOOKINFO)) {
  t.fail(`Bookinfo samples not found at ${BOOKINFO}`)
} else {
  const validators = { 'v1.4.1': validator('v1.4.1'), 'v1.6.1': validator('v1.6.1') }
  const files = readdirSync(join(BOOKINFO, 'networking')).filter((f) => f.startsWith('virtual-service-') || f === 'bookinfo-gateway.yaml')
  const context = loadObjects([join(BOOKINFO, 'networking/destination-rule-all.yaml'), join(BOOKINFO, 'platform/kube/bookinfo.yaml')], 'default').objects.map((o) => o.object)
  t.test('the validators reject what the API server rejects (so a pass means something)', async (t) => {
    const bad = {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'bad', namespace: 'default' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        rules: [
          { matches: [{ path: { type: 'PathPrefix', value: 'no-slash' } }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }], backendRefs: [{ name: 'svc', port: 80 }] },
          { backendRefs: [{ name: 'no-port' }] },
          { timeouts: { request: '1s', backendRequest: '5s' }, backendRefs: [{ name: 'svc', port: 80 }] },
        ],
      },
    }
    for (const [version, validate] of Object.entries(validators)) {
      const v = celViolations(bad, validate.schema)
      t.ok(v.some((m) => /path|start with/i.test(m)), `${version}: a PathPrefix without a leading / is rejected`)
      t.ok(v.some((m) => /RequestRedirect|backendRefs/i.test(m)), `${version}: RequestRedirect with backendRefs is rejected`)
      t.ok(v.some((m) => /port/i.test(m)), `${version}: a Service backendRef without port is rejected`)
      t.ok(v.some((m) => /backendRequest/i.test(m)), `${version}: backendRequest above request is rejected`)
      t.notOk(validate(bad), `${version}: not valid overall`)
    }
  })
  for (const f of files) {
    t.test(`convert ${f}`, async (t) => {
      const input = loadObjects([join(BOOKINFO, 'networking', f)], 'default').objects.map((o) => o.object)
      const { objects } = convert([...input, ...context])
      const routes = objects.filter((o) => o.kind === 'HTTPRoute')
      t.ok(routes.length >= 1, 'an HTTPRoute per VirtualService')
      for (const r of routes) {
        for (const [version, validate] of Object.entries(validators)) {
          const c = validate.check(r)
          t.same(c.errors.slice(0, 3), [], `${r.metadata?.name}: ${version} openAPIV3Schema`)
          t.same(c.cel, [], `${r.metadata?.name}: ${version} CEL rules`)
        }
        const weights = JSON.stringify(r).match(/"weight":(\d+)/g) ?? []
        t.ok(weights.every((w) => !w.endsWith(':0')), 'no weight 0')
      }
    })
  }
}
