/**
 * Existing violations over real TLS: an UPDATE is denied for what it introduces, not for a
 * conflict the object already had (allowExistingViolations, on by default).
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { stringify } from 'yaml'
import { post, review, startTestServer, tempDir, virtualService } from './helpers.js'

/** Two VirtualServices already in conflict on `reviews` (stored before routeguard), and `ratings` owned by a third. */
function stateFile(t: Parameters<typeof tempDir>[0]): string {
  const file = join(tempDir(t), 'state.yaml')
  const docs = [
    virtualService('default', 'reviews', ['reviews']),
    virtualService('default', 'reviews-conflict', ['reviews']),
    virtualService('default', 'ratings', ['ratings']),
  ]
  writeFileSync(file, docs.map((d) => stringify(d)).join('---\n'))
  return file
}

const withTimeout = (vs: any) => ({ ...vs, spec: { ...vs.spec, http: [{ ...vs.spec.http[0], timeout: '5s' }] } })

t.test('UPDATE of an object already in conflict: allowed with warnings; a new conflict is still denied', async (t) => {
  const s = await startTestServer(t, { state: [stateFile(t)] })
  const old = virtualService('default', 'reviews-conflict', ['reviews'])

  const upd = await post(s.agent, `${s.url}/validate`, review(withTimeout(old), { operation: 'UPDATE', oldObject: old }))
  t.equal(upd.body.response.allowed, true, 'adding a timeout keeps the old conflict and is admitted')
  t.ok(upd.body.response.warnings.some((w: string) => /^IST0109: /.test(w)), 'the kept conflict is a warning')
  t.ok(upd.body.response.warnings.some((w: string) => /already held before this UPDATE/.test(w)), 'the warning says why it does not deny')
  t.equal(upd.body.response.auditAnnotations['existing-violations'], 'IST0109')

  const create = await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'reviews-third', ['reviews'])))
  t.equal(create.body.response.allowed, false, 'a CREATE joining the conflict is denied')

  const spread = virtualService('default', 'reviews-conflict', ['reviews', 'ratings'])
  const grow = await post(s.agent, `${s.url}/validate`, review(spread, { operation: 'UPDATE', oldObject: old }))
  t.equal(grow.body.response.allowed, false, 'an UPDATE that adds a conflict on another host is denied')
  // IST0109 is one finding per VirtualService (as Istio's analyzer): it names the new party too
  t.match(grow.body.response.status.message, /VirtualService default\/ratings\b/, 'naming the VirtualService of the new conflict')

  const noOld = await post(s.agent, `${s.url}/validate`, review(withTimeout(old), { operation: 'UPDATE', oldObject: virtualService('default', 'reviews-conflict', ['elsewhere']) }))
  t.equal(noOld.body.response.allowed, false, 'an old version without the conflict: the UPDATE introduces it and is denied')
})

t.test('allowExistingViolations: false denies kept violations too', async (t) => {
  const s = await startTestServer(t, {
    state: [stateFile(t)],
    config: { policy: { rules: {}, exemptNamespaces: [], allowExistingViolations: false }, failurePolicy: 'Fail' },
  })
  const old = virtualService('default', 'reviews-conflict', ['reviews'])
  const upd = await post(s.agent, `${s.url}/validate`, review(withTimeout(old), { operation: 'UPDATE', oldObject: old }))
  t.equal(upd.body.response.allowed, false)
  t.match(upd.body.response.status.message, /^IST0109: /)
})
