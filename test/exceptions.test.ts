/**
 * Ways out, over real TLS: Istio's galley.istio.io/analyze-suppress annotation, policy exceptions
 * with an expiry, and what exemptNamespaces does (and does not) do, said in the denial.
 */
import t from 'tap'
import { analyzeObjects } from '../src/analyze/analyze.js'
import type { Config } from '../src/config/config.js'
import { parseConfig } from '../src/config/config.js'
import { post, review, startTestServer, virtualService } from './helpers.js'

const annotated = (ns: string, name: string, hosts: string[], suppress: string) => {
  const vs = virtualService(ns, name, hosts)
  return { ...vs, metadata: { ...vs.metadata, annotations: { 'galley.istio.io/analyze-suppress': suppress } } }
}

t.test('galley.istio.io/analyze-suppress: the codes an object lists are not held against it (admission and analyze)', async (t) => {
  const s = await startTestServer(t)
  t.equal((await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'reviews', ['reviews'])))).body.response.allowed, true)
  const other = await post(s.agent, `${s.url}/validate`, review(annotated('default', 'r2', ['reviews'], 'IST0101, IST0131')))
  t.equal(other.body.response.allowed, false, 'other codes suppressed: IST0109 still denies')
  const one = await post(s.agent, `${s.url}/validate`, review(annotated('default', 'r3', ['reviews'], 'IST0131,IST0109'), { dryRun: true }))
  t.equal(one.body.response.allowed, true, 'IST0109 listed: admitted')
  t.equal(one.body.response.auditAnnotations.suppressed, 'IST0109', 'and the audit annotation says which code was suppressed')
  const all = await post(s.agent, `${s.url}/validate`, review(annotated('default', 'r4', ['reviews'], '*'), { dryRun: true }))
  t.equal(all.body.response.allowed, true, '* suppresses every code')
  const objects = [virtualService('default', 'a', ['x']), annotated('default', 'b', ['x'], 'IST0109')].map((object) => ({ object, source: { file: 'f.yaml', line: 1 } }))
  const { findings } = analyzeObjects(objects as any, {})
  t.same(findings.filter((f) => f.code === 'IST0109').map((f) => f.resource.name), ['a'], 'analyze: the annotated object is not reported; its partner still is')
})

t.test('policy exceptions: matching findings warn with the exception named; an expired one denies and says so', async (t) => {
  const config: Config = parseConfig(`
exceptions:
  - name: shop-migration
    reason: two VirtualServices until the cut-over
    codes: [IST0109]
    namespaces: [shop]
    matchLabels: {team: shop}
    expires: "2999-01-01T00:00:00Z"
  - name: old-grace
    codes: [IST0109]
    namespaces: [legacy]
    expires: "2020-01-01T00:00:00Z"
`)
  const s = await startTestServer(t, { config })
  const labelled = (ns: string, name: string, labels: Record<string, string>) => {
    const vs = virtualService(ns, name, ['cart'])
    return { ...vs, metadata: { ...vs.metadata, labels } }
  }
  for (const ns of ['shop', 'legacy']) t.equal((await post(s.agent, `${s.url}/validate`, review(virtualService(ns, 'cart', ['cart'], { exportTo: ['.'] })))).body.response.allowed, true)
  const ok = await post(s.agent, `${s.url}/validate`, review({ ...labelled('shop', 'cart-v2', { team: 'shop' }), spec: { ...labelled('shop', 'cart-v2', {}).spec, exportTo: ['.'] } }, { dryRun: true }))
  t.equal(ok.body.response.allowed, true, 'the exception lets IST0109 through')
  t.ok(ok.body.response.warnings.some((w: string) => /IST0109 only warn: policy exception shop-migration/.test(w)))
  t.ok(ok.body.response.warnings.some((w: string) => /^IST0109: /.test(w)), 'the finding itself is still said')
  t.equal(ok.body.response.auditAnnotations.exceptions, 'shop-migration')
  const unlabelled = await post(s.agent, `${s.url}/validate`, review({ ...labelled('shop', 'cart-v3', {}), spec: { ...labelled('shop', 'cart-v3', {}).spec, exportTo: ['.'] } }, { dryRun: true }))
  t.equal(unlabelled.body.response.allowed, false, 'without the labels it names, no exception')
  const expired = await post(s.agent, `${s.url}/validate`, review(virtualService('legacy', 'cart-v2', ['cart'], { exportTo: ['.'] }), { dryRun: true }))
  t.equal(expired.body.response.allowed, false)
  t.match(expired.body.response.status.message, /exception old-grace would let IST0109 through but expired at 2020-01-01T00:00:00Z/)
  t.throws(() => parseConfig('exceptions: [{name: x, expires: tomorrow}]'), /exceptions\.0\.expires|exceptions\/0\/expires|must match format/)
  t.throws(() => parseConfig('exceptions: [{codes: [IST0109]}]'), /name/)
})

t.test('exemptNamespaces: the exempt side is not judged, but counts against others; the denial says which side and why', async (t) => {
  const s = await startTestServer(t, { config: { policy: { rules: {}, exemptNamespaces: ['istio-system'] }, failurePolicy: 'Fail' } })
  const mesh = await post(s.agent, `${s.url}/validate`, review(virtualService('istio-system', 'global-reviews', ['reviews.default.svc.cluster.local'])))
  t.equal(mesh.body.response.allowed, true, 'the exempt object is admitted unjudged')
  const owner = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'reviews', ['reviews']), { dryRun: true }))
  t.equal(owner.body.response.allowed, false, 'the owner is denied: the exempt object is in the view')
  t.match(owner.body.response.status.message, /VirtualService istio-system\/global-reviews/)
  t.match(owner.body.response.status.message, /objects in namespace istio-system are exempt \(exemptNamespaces\): their own writes are not checked, but they still count against other objects/)
})
