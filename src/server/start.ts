/**
 * `routeguard serve`: the HTTPS webhook over an in-memory view. Standalone (default), the view
 * is seeded from `--state` files and kept by every admitted, non-dryRun change. In cluster mode
 * (a kubeconfig, or in-cluster config), informers keep it; rules read the same view either way.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import type { HandlerDeps } from '../admission/handler.js'
import { loadObjects } from '../analyze/load.js'
import { CERT_FILES, certificatesExist, generateCertificates, writeCertificates } from '../certs/certs.js'
import { type Config, DEFAULT_CONFIG } from '../config/config.js'
import { buildProbeServer, buildServer, type Timeouts, tlsServer, type WebhookApp } from './app.js'
import { Metrics } from './metrics.js'
import { CertReloader, readKeyPair } from './tls.js'
import { ClusterView } from '../view/view.js'
import { isPendingObject, PendingWrites } from '../view/pending.js'
import { Claims } from '../cluster/claims.js'
import { KIND } from '../model/object.js'
import type { Implementation } from '../rules/types.js'
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node'
import type { FastifyBaseLogger } from 'fastify'
import { ConfigReloader } from '../config/reloader.js'
import { apiError } from '../cluster/client.js'
import { ClusterSync, type SyncOptions } from '../cluster/informers.js'
import { type AuditOptions, AuditRunner } from '../audit/runner.js'
import { subsetServiceMutator } from '../subsets/mutator.js'
import { SubsetReconciler } from '../subsets/reconciler.js'
import { KubeServiceWriter } from '../subsets/writer.js'

/** Kinds the webhook configurations send to routeguard (manifests/base/webhooks.yaml). */
const WEBHOOK_KINDS = [KIND.VirtualService, KIND.DestinationRule, KIND.IstioGateway, KIND.HTTPRoute, KIND.GRPCRoute, KIND.Gateway]

export interface ServeOptions {
  host: string
  /** 0 picks a free port */
  port: number
  tlsCert: string
  tlsKey: string
  /** YAML/JSON files or folders seeding the view */
  state: string[]
  config?: Config
  /**
   * the file `config` was read from: watched and reloaded on change without a restart (rules,
   * exemptNamespaces, exceptions, failurePolicy, allowExistingViolations; `implementation` needs
   * a restart). An invalid new file keeps the last good config (see config/reloader.ts).
   */
  configPath?: string
  logLevel?: string
  /** generate a dev CA + serving cert next to tlsCert when the files are missing */
  generateCerts?: boolean
  /** serve `POST /noop` as a benchmark baseline */
  noopRoute?: boolean
  /** ms to let in-flight reviews finish on close (default 10 s) */
  shutdownGraceMs?: number
  /**
   * ms between /readyz turning 503 and the listener closing, so that the Service stops sending
   * new reviews first (default: 2 s, at most half the grace)
   */
  drainDelayMs?: number
  /** request, header, handshake and idle timeouts (slowloris protection) */
  timeouts?: Timeouts
  /** open connections at most on the webhook port (default 1,000); more are closed before TLS */
  maxConnections?: number
  /** bytes of review bodies held at once, at most (default 64 MiB; see BODIES_IN_FLIGHT_BYTES) */
  bodiesInFlightBytes?: number
  /** PEM file of the CA that signs client certificates: when set, clients must present one */
  clientCa?: string
  /** serve /healthz, /readyz and /metrics on this plain-HTTP port too (0 picks a free port) */
  probePort?: number
  /** cluster mode: the view comes from informers against this API server (see cluster/) */
  kubeConfig?: KubeConfig
  /** cluster mode: a watch down longer than this makes /readyz 503 (default 60 s) */
  maxStalenessMs?: number
  /** cluster mode: how to answer while the view is not synced (default deny) */
  unsynced?: 'deny' | 'allow'
  /** the Gateway API implementation RG0301 judges against (default: Istio) */
  implementation?: Implementation
  /** cluster mode: run the leader-elected background audit with these settings */
  audit?: AuditOptions
  /** cluster mode: informer tuning (tests) */
  sync?: Pick<SyncOptions, 'discoveryIntervalMs' | 'watchTimeoutSeconds' | 'pageSize'>
  /**
   * cluster mode: ms an admitted object is judged against before the informer delivers it
   * (default 5 s; 0 turns pending writes off). See view/pending.ts.
   */
  pendingTtlMs?: number
  /** ms one review may hold the event loop while it is judged (default REVIEW_DEADLINE_MS, 100) */
  reviewDeadlineMs?: number
  /**
   * cluster mode: claim conflict keys as Leases in `namespace` before admitting (cluster/claims.ts),
   * so that replicas agree; `identity` names this replica on its claims
   */
  claims?: { namespace: string; identity: string; timeoutMs?: number; durationSeconds?: number }
}

export interface RunningServer {
  app: WebhookApp
  view: ClusterView
  /** cluster mode only */
  sync?: ClusterSync
  /** cluster mode only: admitted objects the informers have not delivered yet */
  pending?: PendingWrites
  /** cluster mode with audit only */
  audit?: AuditRunner
  /** https://host:port */
  url: string
  port: number
  /** http://host:port of the probe server, when `probePort` was given */
  probeUrl?: string
  /** the files `generateCerts` wrote (CA first), when it wrote any */
  generatedCertificates?: string[]
  /**
   * Graceful stop: /readyz turns 503 at once and every response from then on carries
   * `Connection: close`; reviews keep being answered for the drain delay (so that the Service
   * stops sending new ones first); then the listener closes, idle sockets are closed, in-flight
   * reviews finish; all within the shutdown grace, after which what is left is closed.
   */
  close(): Promise<void>
}

/**
 * Watches the config file: a valid new one replaces the policy in use at once (the next review
 * sees it); an invalid one is refused with an ERROR log line, `routeguard_config_valid 0`, and in
 * cluster mode a Warning Event on this Pod (`POD_NAMESPACE`/`POD_NAME`, from the downward API).
 */
function watchConfig(path: string, deps: HandlerDeps, metrics: Metrics, log: FastifyBaseLogger, kc: KubeConfig | undefined): ConfigReloader {
  let text = ''
  try {
    text = readFileSync(path, 'utf8')
  } catch {
    // the first reload reads it again
  }
  const events = kc ? kc.makeApiClient(CoreV1Api) : undefined
  const podNs = process.env.POD_NAMESPACE
  const podName = process.env.POD_NAME
  const r = new ConfigReloader(path, text, {
    onChange: (c) => {
      deps.policy = c.policy
      deps.failurePolicy = c.failurePolicy
      metrics.configReloads.inc({ result: 'success' })
      metrics.configValid.set(1)
      log.info({ file: path, rules: Object.keys(c.policy.rules).length, exceptions: c.policy.exceptions?.length ?? 0 }, 'configuration reloaded')
    },
    onInvalid: (reason) => {
      metrics.configReloads.inc({ result: 'failure' })
      metrics.configValid.set(0)
      log.error({ file: path, reason }, 'configuration reload refused; the last good configuration stays in use')
      if (!events || !podNs || !podName) return
      const now = new Date()
      events
        .createNamespacedEvent({
          namespace: podNs,
          body: {
            metadata: { generateName: 'routeguard-config-', namespace: podNs },
            involvedObject: { apiVersion: 'v1', kind: 'Pod', name: podName, namespace: podNs },
            reason: 'ConfigInvalid',
            message: `configuration reload refused, the last good configuration stays in use: ${reason}`.slice(0, 1024),
            type: 'Warning',
            source: { component: 'routeguard' },
            reportingComponent: 'routeguard',
            reportingInstance: podName,
            firstTimestamp: now,
            lastTimestamp: now,
            count: 1,
          },
        })
        .catch((e: unknown) => log.warn({ err: apiError(e) }, 'could not emit the ConfigInvalid Event'))
    },
  })
  r.start()
  return r
}

/**
 * Starts the webhook.
 * @throws Error when the certificate or key is missing/invalid, or the port cannot be bound.
 */
export async function startServe(o: ServeOptions): Promise<RunningServer> {
  const config = o.config ?? DEFAULT_CONFIG
  let generatedCertificates: string[] | undefined
  if (o.generateCerts && !certificatesExist(dirname(o.tlsCert))) {
    writeCertificates(dirname(o.tlsCert), generateCertificates())
    generatedCertificates = [CERT_FILES.ca, CERT_FILES.cert, CERT_FILES.key].map((f) => join(dirname(o.tlsCert), f))
  }
  const pair = readKeyPair(o.tlsCert, o.tlsKey)
  const view = new ClusterView()
  let synced = false
  let closing = false
  const metrics = new Metrics(() => view.kindCounts())
  let sync: ClusterSync | undefined
  const deps: HandlerDeps = {
    view,
    policy: config.policy,
    failurePolicy: config.failurePolicy,
    unsyncedPolicy: o.unsynced ?? 'deny',
    implementation: o.implementation,
    reviewDeadlineMs: o.reviewDeadlineMs,
  }
  if (!o.kubeConfig) {
    // standalone: admitted changes are the only source of truth after the state files
    deps.record = (operation, object) => {
      if (operation === 'DELETE') view.remove(object)
      else view.upsert(object)
    }
  }
  // cluster mode: the informers keep the view; what this replica admits is judged against
  // until they deliver it (the concurrent-apply race)
  const pending = o.kubeConfig ? new PendingWrites(view, { ttlMs: o.pendingTtlMs, onExpired: () => metrics.pendingExpired.inc() }) : undefined
  if (pending) deps.record = (operation, object, user) => pending.admitted(operation, object, user)
  const writer = o.kubeConfig ? new KubeServiceWriter(o.kubeConfig) : undefined
  const clientCa = o.clientCa ? readFileSync(o.clientCa) : undefined
  const notReady = () => (closing ? 'shutting down' : !synced ? 'state view not loaded' : sync?.notReady())
  let audit: AuditRunner | undefined
  // the audit's health is told in /readyz's body; it never makes the webhook unready
  const readyDetail = () => (audit ? { audit: audit.health() } : undefined)
  const app = await buildServer({
    tls: pair,
    deps,
    metrics,
    mutators: [subsetServiceMutator(writer)],
    logLevel: o.logLevel,
    noopRoute: o.noopRoute,
    timeouts: o.timeouts,
    maxConnections: o.maxConnections,
    bodiesInFlightBytes: o.bodiesInFlightBytes,
    clientCa,
    draining: () => closing,
    notReady,
    readyDetail,
  })
  // cluster mode, --claims: replicas agree through Leases (cluster/claims.ts); read by /validate at request time
  const claims = o.kubeConfig && o.claims ? new Claims(o.kubeConfig, { ...o.claims, log: app.log, observe: (seconds) => metrics.claimDuration.observe(seconds) }) : undefined
  if (claims) {
    deps.claims = claims
    deps.onClaim = (result) => {
      metrics.claims.inc({ result })
      if (result === 'conflict') metrics.claimConflicts.inc()
    }
    // a claim is given back once the informers deliver its object as stored
    view.onChange((id) => {
      const obj = view.getById(id)
      if (obj && !isPendingObject(obj)) claims.onStored(obj)
    })
  }
  const probes = o.probePort !== undefined ? await buildProbeServer({ metrics, notReady, readyDetail, logLevel: o.logLevel }) : undefined
  if (o.kubeConfig && pending) {
    sync = new ClusterSync(o.kubeConfig, view, { maxStalenessMs: o.maxStalenessMs, log: app.log, sink: pending, ...o.sync })
    metrics.watchPending(() => pending.size)
    pending.start()
    deps.notReady = () => sync!.notReady()
    metrics.watchInformers(() => sync!.status())
    synced = true
  } else {
    const loaded = loadObjects(o.state, 'default')
    // a view seeded from part of what was asked for would admit what the rest forbids
    if (loaded.problems.length) {
      await app.close()
      const listed = loaded.problems.slice(0, 5).map((p) => `${p.source.file}${p.source.line ? `:${p.source.line}` : ''}: ${p.message}`)
      throw new Error(`--state: ${listed.join('; ')}${loaded.problems.length > 5 ? `; and ${loaded.problems.length - 5} more` : ''}`)
    }
    for (const { object } of loaded.objects) view.upsert(object)
    // Standalone, the view is complete only for what reaches it: the kinds the webhook is sent,
    // and the kinds in the state files. Rules skip "not found" checks for other kinds.
    view.setCoverage([...WEBHOOK_KINDS, ...view.kindCounts()].map((k) => (typeof k === 'string' ? k : k[0])))
    synced = true
    app.log.info({ objects: view.size(), files: o.state }, 'standalone state view loaded')
  }

  await app.listen({ host: o.host, port: o.port })
  if (probes) await probes.listen({ host: o.host, port: o.probePort })
  // informers start after the server listens, so /readyz can say what it is waiting for
  void sync?.start()
  if (o.kubeConfig && o.audit) {
    const reconciler = new SubsetReconciler(view, writer!, app.log, pending)
    const collectStrays = claims ? async () => { const n = await claims.collectStrays(); metrics.claimStrays.inc(n); return n } : undefined
    audit = new AuditRunner(o.kubeConfig, view, () => sync!.notReady() === undefined, { reconciler, implementation: o.implementation, ownership: () => deps.policy.ownership, collectStrays, ...o.audit }, metrics, app.log)
    audit.start()
  }
  const reloader = new CertReloader(o.tlsCert, o.tlsKey, pair, app.log, 200, clientCa)
  reloader.start(tlsServer(app))
  metrics.watchCertificate(() => reloader.notAfterMs)
  const configReloader = o.configPath ? watchConfig(o.configPath, deps, metrics, app.log, o.kubeConfig) : undefined
  const address = app.server.address()
  const port = typeof address === 'object' && address ? address.port : o.port
  const host = o.host.includes(':') ? `[${o.host}]` : o.host
  const probeAddress = probes?.server.address()
  return {
    app,
    view,
    sync,
    pending,
    audit,
    url: `https://${host}:${port}`,
    port,
    probeUrl: probeAddress && typeof probeAddress === 'object' ? `http://${host}:${probeAddress.port}` : undefined,
    generatedCertificates,
    async close() {
      if (closing) return
      closing = true
      const grace = o.shutdownGraceMs ?? 10_000
      const deadline = Date.now() + grace
      const drain = o.drainDelayMs ?? Math.min(2_000, grace / 2)
      await new Promise((r) => setTimeout(r, drain))
      reloader.stop()
      configReloader?.stop()
      await audit?.stop()
      await sync?.stop()
      pending?.stop()
      claims?.close()
      let timer: NodeJS.Timeout | undefined
      await Promise.race([
        app.close(),
        new Promise<void>((resolve) => {
          timer = setTimeout(() => {
            (app.server as unknown as { closeAllConnections(): void }).closeAllConnections()
            resolve()
          }, Math.max(0, deadline - Date.now()))
        }),
      ])
      clearTimeout(timer)
      await probes?.close()
    },
  }
}
