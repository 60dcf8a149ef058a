/**
 * `routeguard serve`, standalone: the HTTPS webhook over an in-memory view seeded from
 * `--state` files and kept by every admitted, non-dryRun change. (The informer-fed cluster view
 * plugs into the same `HandlerDeps.view`.)
 */
import { dirname } from 'node:path'
import type { FastifyInstance } from 'fastify'
import type { HandlerDeps } from './admission/handler.js'
import { loadObjects } from './analyze/load.js'
import { certificatesExist, generateCertificates, writeCertificates } from './certs/certs.js'
import { type Config, DEFAULT_CONFIG } from './config/config.js'
import { buildServer, tlsServer } from './server/app.js'
import { Metrics } from './server/metrics.js'
import { CertReloader, readKeyPair } from './server/tls.js'
import { ClusterView } from './view/view.js'

export interface ServeOptions {
  host: string
  /** 0 picks a free port */
  port: number
  tlsCert: string
  tlsKey: string
  /** YAML/JSON files or folders seeding the view */
  state: string[]
  config?: Config
  logLevel?: string
  /** generate a dev CA + serving cert next to tlsCert when the files are missing */
  generateCerts?: boolean
  /** serve `POST /noop` as a benchmark baseline */
  noopRoute?: boolean
  /** ms to let in-flight reviews finish on close (default 10 s) */
  shutdownGraceMs?: number
}

export interface RunningServer {
  app: FastifyInstance
  view: ClusterView
  /** https://host:port */
  url: string
  port: number
  /** turns /readyz to 503 at once, waits for in-flight reviews (up to the grace), then closes */
  close(): Promise<void>
}

/**
 * Starts the webhook.
 * @throws Error when the certificate or key is missing/invalid, or the port cannot be bound.
 */
export async function startServe(o: ServeOptions): Promise<RunningServer> {
  const config = o.config ?? DEFAULT_CONFIG
  if (o.generateCerts && !certificatesExist(dirname(o.tlsCert))) {
    writeCertificates(dirname(o.tlsCert), generateCertificates())
  }
  const pair = readKeyPair(o.tlsCert, o.tlsKey)
  const view = new ClusterView()
  let synced = false
  let closing = false
  const metrics = new Metrics(() => view.kindCounts())
  const deps: HandlerDeps = {
    view,
    policy: config.policy,
    failurePolicy: config.failurePolicy,
    record: (operation, object) => {
      if (operation === 'DELETE') view.remove(object)
      else view.upsert(object)
    },
  }
  const app = await buildServer({
    tls: pair,
    deps,
    metrics,
    logLevel: o.logLevel,
    noopRoute: o.noopRoute,
    notReady: () => (closing ? 'shutting down' : !synced ? 'state view not loaded' : undefined),
  })
  const loaded = loadObjects(o.state, 'default')
  for (const p of loaded.problems) app.log.warn({ file: p.source.file, line: p.source.line, problem: p.message }, 'state file problem')
  for (const { object } of loaded.objects) view.upsert(object)
  synced = true
  app.log.info({ objects: view.size(), files: o.state }, 'standalone state view loaded')

  await app.listen({ host: o.host, port: o.port })
  const reloader = new CertReloader(o.tlsCert, o.tlsKey, pair, app.log)
  reloader.start(tlsServer(app))
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : o.port
  const host = o.host.includes(':') ? `[${o.host}]` : o.host
  return {
    app,
    view,
    url: `https://${host}:${port}`,
    port,
    async close() {
      if (closing) return
      closing = true
      reloader.stop()
      const grace = o.shutdownGraceMs ?? 10_000
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        app.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            app.server.closeAllConnections?.()
            resolve()
          }, grace)
        }),
      ])
      clearTimeout(timer)
    },
  }
}
