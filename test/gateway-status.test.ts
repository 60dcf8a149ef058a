/** Predicted Gateway status (status/gateway-status.ts) and its denial at admission over real TLS. */
import t from 'tap'
import { analyzeObjects } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { KIND, compareAge } from '../src/model/object.js'
import { caCertificateProblems, predictBackendTLSPolicyStatus } from '../src/status/backend-tls-policy.js'
import { conflictReason, predictGatewayStatus } from '../src/status/gateway-status.js'
import { post, review, startTestServer } from './helpers.js'

const { view } = analyzeObjects(loadObjects(['test/fixtures/rules/gateway-listeners.yaml'], 'default').objects, { rules: [] })
const status = (name: string) => {
  const gw = view.get(KIND.Gateway, 'infra', name)!
  return predictGatewayStatus(gw, view, (o) => compareAge(o, gw) < 0)
}
const cond = (cs: { type: string; status: string; reason: string }[] | undefined, type: string) => {
  const c = cs?.find((x) => x.type === type)
  return c && `${c.status}/${c.reason}`
}
const listener = (name: string, l: string) => status(name).listeners.find((x) => x.name === l)?.conditions

t.test('indistinct listeners: all of them Conflicted, none accepted; the Gateway ListenersNotValid', async (t) => {
  for (const [l, reason] of [['http-a', 'HostnameConflict'], ['http-b', 'HostnameConflict'], ['tcp', 'ProtocolConflict'], ['web', 'ProtocolConflict'], ['https', 'HostnameConflict'], ['tls', 'HostnameConflict']]) {
    t.equal(cond(listener('conflicts', l!), 'Conflicted'), `True/${reason}`, `${l} Conflicted`)
    t.equal(cond(listener('conflicts', l!), 'Accepted'), `False/${reason}`, `${l} not accepted`)
    t.equal(cond(listener('conflicts', l!), 'Programmed'), 'False/Invalid')
  }
  t.equal(cond(listener('conflicts', 'http-c'), 'Conflicted'), 'False/NoConflicts', 'a distinct hostname on the same port')
  t.equal(cond(listener('conflicts', 'http-c'), 'Accepted'), 'True/Accepted')
  t.equal(cond(status('conflicts').conditions, 'Accepted'), 'True/ListenersNotValid', 'one listener left: accepted, ListenersNotValid')
})

t.test('distinct listeners: clean Gateway all True', async (t) => {
  const s = status('clean')
  t.equal(cond(s.conditions, 'Accepted'), 'True/Accepted')
  t.equal(cond(s.conditions, 'Programmed'), 'True/Programmed')
  for (const l of s.listeners) {
    t.equal(cond(l.conditions, 'Accepted'), 'True/Accepted', `${l.name} accepted`)
    t.equal(cond(l.conditions, 'ResolvedRefs'), 'True/ResolvedRefs', `${l.name} refs resolved (a granted cross-namespace Secret)`)
  }
  t.same(s.findings, [])
})

t.test('addresses, protocols, route kinds, certificate refs', async (t) => {
  t.equal(cond(status('newer-ip').conditions, 'Programmed'), 'False/AddressNotUsable', 'the newer Gateway cannot have the older one\'s IP')
  t.equal(cond(status('older-ip').conditions, 'Programmed'), 'True/Programmed', 'the older keeps it')
  t.equal(cond(listener('bad-refs', 'odd'), 'Accepted'), 'False/UnsupportedProtocol')
  t.equal(cond(listener('bad-refs', 'kinds'), 'ResolvedRefs'), 'False/InvalidRouteKinds')
  t.equal(cond(listener('bad-refs', 'cert-kind'), 'ResolvedRefs'), 'False/InvalidCertificateRef')
  t.equal(cond(listener('bad-refs', 'cert-ns'), 'ResolvedRefs'), 'False/RefNotPermitted')
  t.equal(cond(status('merged-b').listeners[0]?.conditions, 'Conflicted'), 'True/HostnameConflict', 'Gateways on one Hostname address are one listener set')
  t.equal(cond(status('merged-b').listeners[1]?.conditions, 'Conflicted'), 'False/NoConflicts')
})

t.test('conflictReason: the spec\'s distinctness table', async (t) => {
  const l = (port: number, protocol: string, hostname = '') => ({ port, protocol, hostname })
  t.equal(conflictReason(l(80, 'HTTP', 'a'), l(80, 'HTTP', 'b')), undefined)
  t.equal(conflictReason(l(80, 'HTTP'), l(80, 'HTTP')), 'HostnameConflict')
  t.equal(conflictReason(l(80, 'HTTP', 'a'), l(81, 'HTTP', 'a')), undefined)
  t.equal(conflictReason(l(80, 'TCP'), l(80, 'UDP')), undefined, 'TCP and UDP share a port')
  t.equal(conflictReason(l(80, 'TCP'), l(80, 'TCP')), 'HostnameConflict')
  t.equal(conflictReason(l(443, 'TLS', 'a'), l(443, 'TCP')), 'ProtocolConflict')
  t.equal(conflictReason(l(443, 'HTTPS', 'a'), l(443, 'TLS', 'a')), 'HostnameConflict', 'one SNI on HTTPS and TLS')
  t.equal(conflictReason(l(443, 'HTTPS', 'a'), l(443, 'TLS', 'b')), undefined)
  t.equal(conflictReason(l(80, 'HTTP'), l(80, 'HTTPS')), undefined, 'distinct by protocol (compatibility is implementation-specific)')
})

t.test('admission: a Gateway with indistinct listeners is denied with RG0209 naming the listeners', async (t) => {
  const s = await startTestServer(t)
  const gw = {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'Gateway',
    metadata: { name: 'edge', namespace: 'infra' },
    spec: { gatewayClassName: 'istio', listeners: [{ name: 'web', port: 8080, protocol: 'HTTP' }, { name: 'raw', port: 8080, protocol: 'TCP' }] },
  }
  const r = await post(s.agent, `${s.url}/validate`, review(gw))
  t.equal(r.body.response.allowed, false)
  t.match(r.body.response.status.message, /^RG0209: Gateway infra\/edge listener web \(port 8080\) is not distinct from listener raw: Conflicted=True\/ProtocolConflict/)
  const ok = await post(s.agent, `${s.url}/validate`, review({ ...gw, spec: { ...gw.spec, listeners: [gw.spec.listeners[0], { name: 'raw', port: 9000, protocol: 'TCP' }] } }))
  t.equal(ok.body.response.allowed, true, 'on another port: admitted')
})

t.test('#28 RG0212: HTTPS listeners of one port with overlapping hostnames get OverlappingTLSConfig=True/OverlappingHostnames', async (t) => {
  const { ClusterView } = await import('../src/view/view.js')
  const v = new ClusterView()
  const gw = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'infra' }, spec: { gatewayClassName: 'x', listeners: [
    { name: 'foo', port: 443, protocol: 'HTTPS', hostname: 'foo.example.com', tls: { certificateRefs: [{ name: 'foo' }] } },
    { name: 'wild', port: 443, protocol: 'HTTPS', hostname: '*.example.com', tls: { certificateRefs: [{ name: 'wild' }] } },
    { name: 'other', port: 443, protocol: 'HTTPS', hostname: 'other.org', tls: { certificateRefs: [{ name: 'o' }] } },
    { name: 'alt', port: 8443, protocol: 'HTTPS', hostname: 'bar.example.com', tls: { certificateRefs: [{ name: 'b' }] } },
  ] } }
  v.upsert(gw as never)
  const st = predictGatewayStatus(v.get(KIND.Gateway, 'infra', 'edge')!, v, () => false)
  const overlapping = st.listeners.filter((l) => l.conditions.some((c) => c.type === 'OverlappingTLSConfig')).map((l) => l.name)
  t.same(overlapping, ['foo', 'wild'], 'foo.example.com and *.example.com on 443; other.org and the 8443 listener are apart')
  t.match(st.findings.filter((f) => f.code === 'RG0212').map((f) => f.message), [/listener foo \(port 443\) hostname foo\.example\.com overlaps listener wild \(\*\.example\.com\)/, /listener wild .* overlaps listener foo/])
  t.ok(st.listeners.every((l) => l.conditions.some((c) => c.type === 'Accepted' && c.status === 'True')), 'they stay accepted')
})

t.test('#28: certificateRefs to a missing or malformed Secret are InvalidCertificateRef where the namespace\'s Secrets are known', async (t) => {
  const { ClusterView } = await import('../src/view/view.js')
  const pem = (s: string) => Buffer.from(s).toString('base64')
  const good = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'good', namespace: 'infra' }, data: { 'tls.crt': pem('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'), 'tls.key': pem('-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n') } }
  const bad = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'bad', namespace: 'infra' }, data: { 'tls.crt': pem('Hello world'), 'tls.key': pem('Hello world') } }
  const gw = (ref: string) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: ref, namespace: 'infra' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: ref }] } }] } })
  const refs = (objs: unknown[], name: string) => {
    const v = new ClusterView()
    for (const o of objs) v.upsert(o as never)
    return predictGatewayStatus(v.get(KIND.Gateway, 'infra', name)!, v, () => false).listeners[0]!.conditions.find((c) => c.type === 'ResolvedRefs')
  }
  t.match(refs([good, gw('good')], 'good'), { status: 'True' })
  t.match(refs([good, gw('missing')], 'missing'), { status: 'False', reason: 'InvalidCertificateRef' }, 'missing, where the namespace\'s Secrets are known')
  t.match(refs([good, bad, gw('bad')], 'bad'), { status: 'False', reason: 'InvalidCertificateRef' }, 'not kubernetes.io/tls with PEM data')
  t.match(refs([gw('missing')], 'missing'), { status: 'True' }, 'no Secret of that namespace in view (made at run time): not judged')
  const metadataOnly = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'names-only', namespace: 'infra' } }
  t.match(refs([metadataOnly, gw('names-only')], 'names-only'), { status: 'True' }, 'a Secret known by name only (the cluster view): its content is not judged')
})

t.test('#28: some certificateRefs invalid, some usable: PartiallyInvalidCertificateRef, the listener still programmed', async (t) => {
  const { ClusterView } = await import('../src/view/view.js')
  const pem = (s: string) => Buffer.from(s).toString('base64')
  const good = { apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/tls', metadata: { name: 'good', namespace: 'infra' }, data: { 'tls.crt': pem('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'), 'tls.key': pem('-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n') } }
  const gw = (name: string, refs: Record<string, string>[]) => ({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name, namespace: 'infra' }, spec: { gatewayClassName: 'x', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: refs } }] } })
  const status = (objs: unknown[], name: string) => {
    const v = new ClusterView()
    for (const o of objs) v.upsert(o as never)
    return predictGatewayStatus(v.get(KIND.Gateway, 'infra', name)!, v, () => false)
  }
  const partial = status([good, gw('partial', [{ name: 'good' }, { name: 'gone' }])], 'partial')
  t.same(partial.listeners[0]!.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'Conflicted=False/NoConflicts', 'ResolvedRefs=False/PartiallyInvalidCertificateRef', 'Programmed=True/Programmed'])
  t.match(partial.findings[0], { code: 'RG0211', path: 'spec.listeners[0].tls.certificateRefs[1]', message: /Secret infra\/gone not found; the listener serves the other 1 of 2 certificates/ })
  const none = status([good, gw('none', [{ name: 'gone' }, { name: 'lost' }])], 'none')
  t.same(none.listeners[0]!.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`), ['Accepted=True/Accepted', 'Conflicted=False/NoConflicts', 'ResolvedRefs=False/InvalidCertificateRef', 'Programmed=False/Invalid'], 'none usable: InvalidCertificateRef')
  const denied = status([good, gw('denied', [{ name: 'good' }, { name: 'cert', namespace: 'other' }])], 'denied')
  t.equal(denied.listeners[0]!.conditions.find((c) => c.type === 'ResolvedRefs')?.reason, 'RefNotPermitted', 'a reference not permitted is said as such, usable ones or not')
})

t.test('BackendTLSPolicy status: Conflicted, sectionName precedence, CA refs, target, wellKnownCACertificates', async (t) => {
  const loaded = analyzeObjects(loadObjects(['test/fixtures/backend-tls/policies.yaml'], 'default').objects, { rules: [] })
  const policy = (name: string) => {
    const p = loaded.view.get(KIND.BackendTLSPolicy, 'shop', name)!
    return predictBackendTLSPolicyStatus(p, loaded.view, (o) => compareAge(o, p) < 0)
  }
  const conds = (name: string) => policy(name).conditions.map((c) => `${c.type}=${c.status}/${c.reason}`)
  t.same(conds('payments'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'], 'the oldest for the Service')
  t.same(conds('payments-again'), ['Accepted=False/Conflicted', 'ResolvedRefs=True/ResolvedRefs'], 'a newer one for the same target: Conflicted')
  t.match(policy('payments-again').findings[0]?.message, /Accepted=False\/Conflicted \(BackendTLSPolicy shop\/payments targets Service payments too/)
  t.same(policy('payments-again').findings[0]?.related.map((r) => `${r.kind} ${r.namespace}/${r.name}`), ['BackendTLSPolicy shop/payments'], 'names the policy that wins')
  t.same(conds('payments-admin'), ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'], 'a sectionName is another target: no conflict')
  t.same(conds('orders'), ['Accepted=False/NoValidCACertificate', 'ResolvedRefs=False/InvalidCACertificateRef'], 'a missing ConfigMap and a Secret: none valid')
  t.match(policy('orders').findings.map((f) => f.message).join('\n'), /caCertificateRefs\[0\]: ResolvedRefs=False\/InvalidCACertificateRef \(ConfigMap shop\/orders-ca not found\)/)
  t.same(conds('legacy'), ['Accepted=False/NoValidCACertificate', 'ResolvedRefs=False/InvalidCACertificateRef'], 'a ConfigMap without ca.crt')
  t.same(conds('ghost'), ['Accepted=False/TargetNotFound', 'ResolvedRefs=True/ResolvedRefs'])
  t.same(conds('system-cas'), ['Accepted=False/Invalid', 'ResolvedRefs=True/ResolvedRefs'], 'an unknown wellKnownCACertificates value')
  const o = loaded.view.get(KIND.BackendTLSPolicy, 'shop', 'orders')!
  t.same(caCertificateProblems(o, loaded.view).map((p) => p.reason), ['InvalidCACertificateRef', 'InvalidKind'], 'each invalid ref, in order')

  // analyze reports them as RG0213 warnings
  const r = analyzeObjects(loadObjects(['test/fixtures/backend-tls/policies.yaml'], 'default').objects)
  const rg = r.findings.filter((f) => f.code === 'RG0213').map((f) => `${f.resource.name} ${f.reason}`).sort()
  t.same(rg, ['ghost TargetNotFound', 'legacy InvalidCACertificateRef', 'legacy NoValidCACertificate', 'orders InvalidCACertificateRef', 'orders NoValidCACertificate', 'payments-again Conflicted', 'system-cas Invalid'])
})

t.test('BackendTLSPolicy: a ConfigMap is judged missing only where the view knows ConfigMaps of that namespace', async (t) => {
  const objs = loadObjects(['test/fixtures/backend-tls/policies.yaml'], 'default').objects.filter((o) => o.object.kind !== 'ConfigMap')
  const { view } = analyzeObjects(objs, { rules: [] })
  const p = view.get(KIND.BackendTLSPolicy, 'shop', 'orders')!
  t.same(caCertificateProblems(p, view).map((x) => x.reason), ['InvalidKind'], 'no ConfigMap of shop in the input: made at run time, not flagged')
})
