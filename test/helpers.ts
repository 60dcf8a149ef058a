/** Test helpers: certificates in a temp dir, an HTTPS client that verifies against our CA, review builders. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:net'
import { Agent, request } from 'undici'
import { generateCertificates, writeCertificates } from '../src/certs/certs.js'
import type { Config } from '../src/config/config.js'
import { type RunningServer, type ServeOptions, startServe } from '../src/server/start.js'
import { H2Client } from './support/h2.js'
import { FakeApiServer } from './fake-apiserver.js'
import { stringify } from 'yaml'

/**
 * The protocol the test clients of `startTestServer` speak: `h1` (undici, HTTP/1.1) unless
 * ROUTEGUARD_TEST_HTTP=h2 (Node's http2 client, ALPN h2); the server answers both on one port.
 * test/*.h2.test.ts run suites again over HTTP/2 this way.
 */
export const TEST_PROTOCOL: 'h1' | 'h2' = process.env.ROUTEGUARD_TEST_HTTP === 'h2' ? 'h2' : 'h1'

/** A client of the webhook: undici over HTTP/1.1, or Node's http2 client. */
export type Client = Agent | H2Client

export function tempDir(t: { teardown: (fn: () => void) => void }, prefix = 'routeguard-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

export function certDir(t: { teardown: (fn: () => void) => void }): string {
  const dir = tempDir(t)
  writeCertificates(dir, generateCertificates())
  return dir
}

export interface TestServer extends RunningServer {
  dir: string
  ca: Buffer
  /** speaks TEST_PROTOCOL */
  agent: Client
}

/** Starts the webhook on 127.0.0.1:<free port> with fresh certs; closed on teardown. */
export async function startTestServer(
  t: { teardown: (fn: () => void | Promise<void>) => void },
  o: { state?: string[]; config?: Config; dir?: string } & Partial<
    Pick<ServeOptions, 'configPath' | 'kubeConfig' | 'maxStalenessMs' | 'unsynced' | 'sync' | 'audit' | 'timeouts' | 'drainDelayMs' | 'shutdownGraceMs' | 'maxConnections' | 'clientCa' | 'probePort' | 'logLevel' | 'pendingTtlMs' | 'bodiesInFlightBytes' | 'reviewDeadlineMs' | 'claims'>
  > = {},
): Promise<TestServer> {
  const dir = o.dir ?? certDir(t)
  const server = await startServe({
    host: '127.0.0.1',
    port: 0,
    tlsCert: join(dir, 'tls.crt'),
    tlsKey: join(dir, 'tls.key'),
    state: o.state ?? [],
    config: o.config,
    configPath: o.configPath,
    logLevel: o.logLevel ?? 'silent',
    maxConnections: o.maxConnections,
    bodiesInFlightBytes: o.bodiesInFlightBytes,
    clientCa: o.clientCa,
    probePort: o.probePort,
    kubeConfig: o.kubeConfig,
    maxStalenessMs: o.maxStalenessMs,
    pendingTtlMs: o.pendingTtlMs,
    reviewDeadlineMs: o.reviewDeadlineMs,
    claims: o.claims,
    unsynced: o.unsynced,
    sync: o.sync,
    audit: o.audit,
    timeouts: o.timeouts,
    drainDelayMs: o.drainDelayMs ?? 0,
    shutdownGraceMs: o.shutdownGraceMs,
  })
  const ca = readFileSync(join(dir, 'ca.crt'))
  const agent: Client = TEST_PROTOCOL === 'h2' ? new H2Client(ca) : tlsAgent(ca)
  t.teardown(async () => {
    await server.close()
    await agent.close()
  })
  return { ...server, dir, ca, agent }
}

/** An undici Agent that trusts only `ca` and checks the server name (127.0.0.1 SAN). */
export function tlsAgent(ca: Buffer, opts: { pipelining?: number } = {}): Agent {
  return new Agent({ connect: { ca, rejectUnauthorized: true }, ...opts })
}

export interface HttpResult {
  status: number
  body: any
  text: string
}

export async function post(agent: Client, url: string, body: unknown, contentType = 'application/json'): Promise<HttpResult> {
  if (agent instanceof H2Client) {
    const payload = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body)
    return parsed(await agent.request(url, { method: 'POST', headers: { 'content-type': contentType }, body: payload }))
  }
  const res = await request(url, {
    method: 'POST',
    dispatcher: agent,
    headers: { 'content-type': contentType },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  })
  return result(res)
}

export async function get(agent: Client, url: string): Promise<HttpResult> {
  if (agent instanceof H2Client) return parsed(await agent.request(url))
  return result(await request(url, { dispatcher: agent }))
}

async function result(res: { statusCode: number; body: { text(): Promise<string> } }): Promise<HttpResult> {
  return parsed({ status: res.statusCode, text: await res.body.text() })
}

function parsed({ status, text }: { status: number; text: string }): HttpResult {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status, body: parsed, text }
}

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port
      srv.close(() => resolve(port))
    })
  })
}

let uidCounter = 0

/** An admission.k8s.io/v1 AdmissionReview for `object`, as the API server would send it. */
export function review(
  object: any,
  o: { operation?: 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT'; dryRun?: boolean; uid?: string; oldObject?: any } = {},
): any {
  const [group, version] = String(object.apiVersion).includes('/') ? String(object.apiVersion).split('/') : ['', object.apiVersion]
  const plural = `${String(object.kind).toLowerCase()}s`
  const operation = o.operation ?? 'CREATE'
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: o.uid ?? `uid-${++uidCounter}-${Date.now()}`,
      kind: { group, version, kind: object.kind },
      resource: { group, version, resource: plural },
      name: object.metadata?.name,
      namespace: object.metadata?.namespace,
      operation,
      userInfo: { username: 'tester' },
      object: operation === 'DELETE' ? null : object,
      oldObject: operation === 'DELETE' || operation === 'UPDATE' ? (o.oldObject ?? object) : null,
      dryRun: o.dryRun ?? false,
    },
  }
}

/** A minimal mesh VirtualService for `hosts`. */
export function virtualService(namespace: string, name: string, hosts: string[], extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace },
    spec: { hosts, http: [{ route: [{ destination: { host: hosts[0] } }] }], ...extra },
  }
}

/**
 * Polls `fn` every 50 ms until it returns a truthy value or `ms` pass; returns the last value.
 * The default is generous: tests wait for conditions, they do not time them (a loaded 2-core
 * machine may be slow; timings belong in `npm run bench`).
 */
export async function eventually<T>(fn: () => T | Promise<T>, ms = 60_000): Promise<T> {
  const until = Date.now() + ms
  let v = await fn()
  while (!v && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50))
    v = await fn()
  }
  return v
}

/**
 * A loopback API server and a scratch folder for `routeguard serve` processes against it:
 * `kubeconfig` (the file), `certs/` (a serving certificate), `ca` (its CA, for clients).
 */
export async function fakeCluster(t: { teardown: (fn: () => void | Promise<void>) => void }): Promise<{ api: FakeApiServer; dir: string; kubeconfig: string; ca: Buffer }> {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  const dir = tempDir(t)
  const kubeconfig = join(dir, 'kubeconfig')
  writeFileSync(kubeconfig, stringify(api.kubeconfig()))
  writeCertificates(join(dir, 'certs'), generateCertificates())
  return { api, dir, kubeconfig, ca: readFileSync(join(dir, 'certs/ca.crt')) }
}

/**
 * Runs the command line in this process (`main` of src/cli/main.ts) with captured output: what
 * `dist/cli.js ARGS` prints and exits with, without starting a process. `cwd`: the working
 * directory for this call (the test file's process changes into it and back; tap runs a file's
 * tests one at a time).
 */
export async function runCli(args: string[], opts: { stdin?: string; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const { main } = await import('../src/cli/main.js')
  let stdout = ''
  let stderr = ''
  const back = process.cwd()
  if (opts.cwd) process.chdir(opts.cwd)
  try {
    const code = await main(args, { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, readStdin: () => opts.stdin ?? '' })
    return { code, stdout, stderr }
  } finally {
    process.chdir(back)
  }
}
