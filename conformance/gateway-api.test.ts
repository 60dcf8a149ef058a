/**
 * Predicted route status against the Gateway API v1.6.1 conformance corpus
 * (../shared/conformance/gateway-api): with base/manifests.yaml and a test manifest loaded, every
 * route condition expected.json lists for the invalid-*, attachment/* and hostname cases must be
 * predicted (type and status; reason too where expected.json names one).
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { analyzeObjects } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { KIND, type K8sObject } from '../src/model/object.js'
import { predictRouteStatus } from '../src/rules/route-status.js'

const CORPUS = join(process.env.SHARED_DIR ?? '../shared', 'conformance/gateway-api')

interface Expected {
  category: string
  routes?: { kind: string; namespace: string; name: string; parentRef: string; conditions: { type: string; status: string; reason?: string }[] }[]
}

if (!existsSync(join(CORPUS, 'expected.json'))) {
  t.fail(`Gateway API corpus not found at ${CORPUS}`)
} else {
  const { files } = JSON.parse(readFileSync(join(CORPUS, 'expected.json'), 'utf8')) as { files: Record<string, Expected> }
  let scored = 0
  let passed = 0
  for (const [file, exp] of Object.entries(files)) {
    if (!/^(invalid|attachment|hostname)/.test(exp.category) || !exp.routes?.length) continue
    t.test(`${file} (${exp.category})`, async (t) => {
      const loaded = loadObjects([join(CORPUS, 'base/manifests.yaml'), join(CORPUS, file)], '')
      const { view } = analyzeObjects(loaded.objects, { rules: [] })
      for (const r of exp.routes!) {
        if (r.name.startsWith('(')) continue
        const kindKey = `gateway.networking.k8s.io/${r.kind}`
        const obj = view.get(kindKey, r.namespace, r.name) as K8sObject | undefined
        if (!t.ok(obj, `${r.kind} ${r.namespace}/${r.name} is in the manifests`)) continue
        const [pns, pname] = r.parentRef.split('/')
        const predicted = predictRouteStatus(obj!, view).parents.find((p) => p.parentRef.namespace === pns && p.parentRef.name === pname)
        for (const c of r.conditions) {
          scored++
          const got = predicted?.conditions.find((x) => x.type === c.type)
          const ok = got?.status === c.status && (!c.reason || got.reason === c.reason)
          if (ok) passed++
          t.ok(ok, `${r.name} → ${pns}/${pname}: ${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''} (predicted ${got ? `${got.status}/${got.reason}` : 'nothing'})`)
        }
      }
      void KIND
    })
  }
  t.teardown(() => console.log(`# Gateway API corpus: ${passed}/${scored} route conditions predicted`))
}
