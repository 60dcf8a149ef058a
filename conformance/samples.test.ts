/**
 * Istio's own samples (../shared/samples/istio, upstream's files, read in place): Bookinfo as
 * shipped has no conflict, and the per-subset Services routeguard generates for it match the
 * hand-written bookinfo-versions.yaml.
 */
import t from 'tap'
import { analyzeObjects, selectRules } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { describeRef } from '../src/model/object.js'
import { wantedForDestinationRule } from '../src/subsets/subsets.js'
import { ClusterView } from '../src/view/view.js'

const BOOKINFO = `${process.env.SHARED_DIR ?? '../shared'}/samples/istio/bookinfo`

t.test('Bookinfo samples as shipped: no conflict; only the ingress Pod the files lack is reported', async (t) => {
  const files = [
    `${BOOKINFO}/networking/virtual-service-all-v1.yaml`,
    `${BOOKINFO}/networking/bookinfo-gateway.yaml`,
    `${BOOKINFO}/networking/destination-rule-all.yaml`,
    `${BOOKINFO}/platform/kube/bookinfo.yaml`,
  ]
  const loaded = loadObjects(files, 'default')
  t.same(loaded.problems, [], 'the samples parse')
  const { findings } = analyzeObjects(loaded.objects, { rules: selectRules(['IST0101', 'IST0109', 'IST0132', 'IST0145', 'RG0101', 'RG0102', 'RG0103', 'RG0104']) })
  t.same(findings.map((f) => `${f.code} ${describeRef(f.resource)}`), ['IST0101 Gateway default/bookinfo-gateway'])
})

t.test('analyze on Bookinfo and httpbin with every rule: the only errors are the ingress Pod the files lack and the optional mysql subsets', async (t) => {
  const run = (files: string[]) => {
    const loaded = loadObjects(files, 'default')
    t.same(loaded.problems, [], 'the samples parse')
    return analyzeObjects(loaded.objects).findings.filter((f) => f.severity === 'error').map((f) => `${f.code} ${describeRef(f.resource)} ${f.path ?? ''}`)
  }
  // workloads come from the Deployments' Pod templates: v1, v2, v3 subsets select them
  t.same(
    run([
      `${BOOKINFO}/platform/kube/bookinfo.yaml`,
      `${BOOKINFO}/networking/destination-rule-all.yaml`,
      `${BOOKINFO}/networking/virtual-service-all-v1.yaml`,
      `${BOOKINFO}/networking/bookinfo-gateway.yaml`,
    ]).sort(),
    [
      // ratings v2-mysql and v2-mysql-vm run from bookinfo-ratings-v2-mysql*.yaml, not in the input
      'IST0101 Gateway default/bookinfo-gateway spec.selector',
      'IST0173 DestinationRule default/ratings spec.subsets[2]',
      'IST0173 DestinationRule default/ratings spec.subsets[3]',
    ],
  )
  const HTTPBIN = `${BOOKINFO}/../httpbin`
  t.same(run([`${HTTPBIN}/httpbin.yaml`, `${HTTPBIN}/httpbin-gateway.yaml`]), ['IST0101 Gateway default/httpbin-gateway spec.selector'])
  t.same(run([`${HTTPBIN}/httpbin.yaml`, `${HTTPBIN}/gateway-api/httpbin-gateway.yaml`]), [])
})

t.test('Bookinfo: generated Services match bookinfo-versions.yaml (selectors and ports)', async (t) => {
  const view = new ClusterView()
  for (const { object } of loadObjects([`${BOOKINFO}/platform/kube/bookinfo.yaml`, `${BOOKINFO}/networking/destination-rule-all.yaml`], 'default').objects) {
    if (object.kind === 'DestinationRule') object.metadata!.annotations = { 'routeguard.io/subset-services': 'true' }
    view.upsert(object)
  }
  const generated = new Map<string, any>()
  for (const dr of [...view.all()].filter((o) => o.kind === 'DestinationRule')) {
    for (const w of wantedForDestinationRule(view, dr)) generated.set(w.service.metadata!.name!, w.service)
  }
  const versions = loadObjects([`${BOOKINFO}/platform/kube/bookinfo-versions.yaml`], 'default').objects.map((o) => o.object as any)
  t.ok(versions.length >= 6)
  for (const want of versions) {
    const got = generated.get(want.metadata.name)
    t.ok(got, `generates ${want.metadata.name}`)
    if (!got) continue
    t.same(got.spec.selector, want.spec.selector, `${want.metadata.name}: same selector`)
    t.same(got.spec.ports.map((p: any) => [p.name, p.port]), want.spec.ports.map((p: any) => [p.name, p.port]), `${want.metadata.name}: same ports`)
    t.same(got.metadata.labels, { 'app.kubernetes.io/managed-by': 'routeguard', 'routeguard.io/subset-of': want.metadata.name.replace(/-v\d$/, '') })
  }
})
