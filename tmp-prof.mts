import { startServe } from './src/serve.js'
import { generateCertificates, writeCertificates } from './src/certs/certs.js'
import { mkdtempSync, readFileSync } from 'node:fs'
import { Agent, request } from 'undici'
const dir = mkdtempSync('/tmp/rg-'); writeCertificates(dir, generateCertificates())
const s = await startServe({ host: '127.0.0.1', port: 0, tlsCert: dir + '/tls.crt', tlsKey: dir + '/tls.key', state: [], logLevel: 'silent', noopRoute: true })
const ca = readFileSync(dir + '/ca.crt')
const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'x', kind: { group: 'networking.istio.io', version: 'v1', kind: 'VirtualService' }, operation: 'CREATE', dryRun: true, object: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'a', namespace: 'default' }, spec: { hosts: ['a'], http: [{ route: [{ destination: { host: 'a' } }] }] } } } })
const agent = new Agent({ connect: { ca } })
const path = process.argv[2]!
for (let i = 0; i < 8000; i++) { const r = await request(s.url + path, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body }); await r.body.text() }
await agent.close(); await s.close(); process.exit(0)
