/** Predicted Gateway status (status/gateway-status.ts) and its denial at admission over real TLS. */
import t from 'tap'
import { analyzeObjects } from '../src/analyze/analyze.js'
import { loadObjects } from '../src/analyze/load.js'
import { KIND, compareAge } from '../src/model/object.js'
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
