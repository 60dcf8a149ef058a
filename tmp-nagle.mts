import { startServe } from './src/serve.js'
import { generateCertificates, writeCertificates } from './src/certs/certs.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import { connect } from 'node:http2'
import { Agent, request } from 'undici'
const dir = mkdtempSync('/tmp/rg-'); writeCertificates(dir, generateCertificates())
const s = await startServe({ host: '127.0.0.1', port: 0, tlsCert: dir + '/tls.crt', tlsKey: dir + '/tls.key', state: [], logLevel: 'silent', noopRoute: true })
const ca = readFileSync(dir + '/ca.crt')
const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'x', kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, operation: 'CREATE', dryRun: true, object: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'a', namespace: 'default' }, spec: { hosts: ['a'], http: [{ route: [{ destination: { host: 'a' } }] }] } } } })
const pct = (a: number[], p: number) => a.sort((x, y) => x - y)[Math.floor(a.length * p / 100)]
const agent = new Agent({ connect: { ca } })
for (const path of ['/validate', '/noop']) {
  const t: number[] = []
  for (let i = 0; i < 2000; i++) { const t0 = performance.now(); const r = await request(s.url + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body }); await r.body.text(); t.push(performance.now() - t0) }
  console.log('h1', path, 'p50', pct(t, 50).toFixed(3), 'p99', pct(t, 99).toFixed(3), 'max', Math.max(...t).toFixed(1))
}
const c = connect(s.url, { ca })
for (const path of ['/validate', '/noop']) {
  const t: number[] = []
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now()
    await new Promise<void>((res) => { const st = c.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' }); st.on('data', () => {}); st.on('end', () => res()); st.end(body) })
    t.push(performance.now() - t0)
  }
  console.log('h2', path, 'p50', pct(t, 50).toFixed(3), 'p99', pct(t, 99).toFixed(3), 'max', Math.max(...t).toFixed(1))
}
const m = await (await request(s.url + '/metrics', { dispatcher: agent })).body.text()
console.log(m.split('\n').filter(l => /duration_seconds_(sum|count)/.test(l)).join('\n'))
c.close(); await agent.close(); await s.close(); process.exit(0)
