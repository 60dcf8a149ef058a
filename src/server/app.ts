/**
 * The HTTPS server: Fastify over TLS 1.2+, one encapsulated plugin for admission
 * (`POST /validate`, `POST /mutate`) and one for probes and metrics (`/healthz`, `/readyz`,
 * `/metrics`). Transport only: decisions come from `admission/handler.ts`.
 *
 * Bad input never reaches a handler: a body that is not JSON → 400, not an AdmissionReview
 * (schema) → 400 naming the field, wrong content type → 415, over `bodyLimit` → 413.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, LogController } from 'fastify'
import type { Server as TlsServer } from 'node:tls'
import { type HandlerDeps, mutate, type Mutator, type Outcome, validate } from '../admission/handler.js'
import { type AdmissionReview, admissionReviewResponseSchema, admissionReviewSchema, requestKindKey } from '../admission/review.js'
import { Response } from '../admission/response.js'
import { describeRef, refOf } from '../model/object.js'
import { actionFor } from '../policy.js'
import type { Metrics } from './metrics.js'
import type { KeyPair } from './tls.js'

export const BODY_LIMIT = 16 * 1024 * 1024

export interface ServerOptions {
  tls: KeyPair
  deps: HandlerDeps
  metrics: Metrics
  mutators?: readonly Mutator[]
  /** why the server is not ready (503 on /readyz), or undefined when it is */
  notReady: () => string | undefined
  logLevel?: string
  /** add `POST /noop` (parses the body, answers {}): the baseline route for benchmarks */
  noopRoute?: boolean
  /** timeouts against slow or idle clients (slowloris), ms */
  timeouts?: Timeouts
}

export interface Timeouts {
  /** a whole request (headers and body) must arrive within this (default 10 s) */
  requestMs?: number
  /** the headers must arrive within this (default: requestMs) */
  headersMs?: number
  /** a socket with no activity is closed after this (default 30 s) */
  idleMs?: number
  /** an idle keep-alive connection is closed after this (default 30 s) */
  keepAliveMs?: number
}

const admission =
  (opts: ServerOptions): FastifyPluginAsync =>
  async (app) => {
    const route = (path: '/validate' | '/mutate', decide: (review: AdmissionReview) => Outcome | Promise<Outcome>) =>
      app.post<{ Body: AdmissionReview }>(path, { schema: { body: admissionReviewSchema, response: { 200: admissionReviewResponseSchema } } }, async (req, reply) => {
        const started = process.hrtime.bigint()
        const review = req.body
        const r = review.request
        let outcome: Outcome
        try {
          outcome = await decide(review)
        } catch (e) {
          // a rule bug must not take the webhook down; answer per failure policy
          req.log.error({ uid: r.uid, err: (e as Error).message }, 'admission handler failed')
          const msg = `routeguard: internal error while checking this object: ${(e as Error).message}`
          outcome = {
            response: opts.deps.failurePolicy === 'Ignore' ? Response.allowed().withWarnings(msg) : Response.errored(500, msg),
            decision: 'errored',
            findings: [],
          }
        }
        const seconds = Number(process.hrtime.bigint() - started) / 1e9
        opts.metrics.countRequest(r.kind.kind, r.operation, outcome.decision, r.dryRun === true, path)
        opts.metrics.observeDuration(path, seconds)
        if (!r.dryRun) {
          for (const f of outcome.findings) opts.metrics.countFinding(f.code, actionFor(opts.deps.policy, f.code))
        }
        if (infoEnabled(req.log)) req.log.info(
          {
            uid: r.uid,
            kind: requestKindKey(r),
            object: outcome.subject ? describeRef(refOf(outcome.subject)) : undefined,
            operation: r.operation,
            dryRun: r.dryRun === true,
            decision: outcome.decision,
            codes: outcome.findings.map((f) => f.code),
            durationMs: Math.round(seconds * 1e6) / 1e3,
          },
          'admission review',
        )
        return outcome.response.toReview(r.uid)
      })
    route('/validate', (review) => validate(review.request, opts.deps))
    if (opts.noopRoute) app.post('/noop', async () => ({}))
    route('/mutate', (review) => mutate(review.request, opts.deps, opts.mutators ?? []))
  }

const probes =
  (opts: ServerOptions): FastifyPluginAsync =>
  async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }))
    app.get('/readyz', async (_req, reply) => {
      const reason = opts.notReady()
      if (reason !== undefined) return reply.code(503).send({ status: 'not ready', reason })
      return { status: 'ready' }
    })
    app.get('/metrics', async (_req, reply) => {
      return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics())
    })
  }

/** Builds (does not start) the HTTPS server. */
export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const app = Fastify({
    https: { cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' },
    bodyLimit: BODY_LIMIT,
    logger: { level: opts.logLevel ?? 'info' },
    // one structured line per review is logged by the route itself; no per-request noise
    logController: new LogController({ disableRequestLogging: true }),
    connectionTimeout: opts.timeouts?.idleMs ?? 30_000,
    keepAliveTimeout: opts.timeouts?.keepAliveMs ?? 30_000,
    requestTimeout: opts.timeouts?.requestMs ?? 10_000,
    return503OnClosing: true,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: false } },
  })
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (status >= 500) {
      req.log.error({ err: err.message }, 'request failed')
      return reply.code(status).send({ error: 'Internal Server Error', message: 'internal error', statusCode: status })
    }
    const message = err.validation ? `not an admission.k8s.io/v1 AdmissionReview: ${err.message}` : err.message
    req.log.warn({ status, code: err.code, message }, 'bad request')
    return reply.code(status).send({ error: httpReason(status), code: err.code, message, statusCode: status })
  })
  // Only JSON bodies: Fastify's built-in text/plain parser would turn other bodies into strings.
  app.removeContentTypeParser('text/plain')
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url}`, statusCode: 404 }))
  await app.register(admission(opts))
  await app.register(probes(opts))
  // slowloris: headers trickled in byte by byte must not hold a socket for Node's default 60 s
  app.server.headersTimeout = opts.timeouts?.headersMs ?? opts.timeouts?.requestMs ?? 10_000
  return app
}

function httpReason(status: number): string {
  return ({ 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type' } as Record<number, string>)[status] ?? 'Error'
}

/** The underlying TLS server of a built app (for certificate reloads). */
export function tlsServer(app: FastifyInstance): TlsServer {
  return app.server as unknown as TlsServer
}

/** pino's level check (FastifyBaseLogger does not declare it). */
function infoEnabled(log: unknown): boolean {
  const l = log as { isLevelEnabled?: (level: string) => boolean }
  return l.isLevelEnabled ? l.isLevelEnabled('info') : true
}
