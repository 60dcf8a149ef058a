/**
 * The HTTPS server: Fastify over TLS 1.2+, HTTP/2 (ALPN `h2`) with HTTP/1.1 fallback on the same
 * port (ALPN `http/1.1`, or no ALPN), one encapsulated plugin for admission
 * (`POST /validate`, `POST /mutate`) and one for probes and metrics (`/healthz`, `/readyz`,
 * `/metrics`). Transport only: decisions come from `admission/handler.ts`.
 *
 * Bad input never reaches a handler: a body that is not JSON → 400, not an AdmissionReview
 * (schema) → 400 naming the field, wrong content type → 415, over `bodyLimit` → 413.
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifyPluginAsync, LogController } from 'fastify'
import { constants as h2, type Http2SecureServer, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2'
import type { IncomingMessage } from 'node:http'
import { Transform } from 'node:stream'
import type { Server as TlsServer, TLSSocket } from 'node:tls'
import { BadReview, describeReviewed, type HandlerDeps, mutate, type Mutator, type Outcome, tooLargeToJudge, validate, validateWithClaims } from '../admission/handler.js'
import { parseBoundedJson, TooLargeToJudge } from './json.js'
import { type AdmissionReview, admissionReviewResponseSchema, admissionReviewSchema, requestKindKey } from '../admission/review.js'
import { Response } from '../admission/response.js'
import { describeRef, kindKey, rec, refOf, str } from '../model/object.js'
import { shorten } from '../model/text.js'
import { actionFor } from '../policy.js'
import type { Metrics } from './metrics.js'
import { type KeyPair, tlsOptions } from './tls.js'

/**
 * Largest AdmissionReview body accepted, bytes (8 MiB). The design point is a 3 MiB object
 * (twice etcd's default 1.5 MiB request limit; the API server itself refuses request bodies
 * over 3 MB); an UPDATE review carries the object and its old version, so two of them plus the
 * envelope fit. A larger body is answered 413 before it is read (with a Content-Length) or as
 * soon as it passes the limit: every byte accepted is held in memory while it is parsed.
 */
export const BODY_LIMIT = 8 * 1024 * 1024

/**
 * Streams an HTTP/2 client may have open at once on one connection (SETTINGS_MAX_CONCURRENT_STREAMS;
 * Node's default is 2^32-1). Go's HTTP/2 client, which the API server's webhook client uses,
 * opens another connection when a connection is full; every stream is held to the request
 * deadline and the body limit like an HTTP/1.1 request.
 */
export const MAX_CONCURRENT_STREAMS = 100

/** The webhook's Fastify instance: an HTTP/2 secure server that also speaks HTTP/1.1. */
export type WebhookApp = FastifyInstance<Http2SecureServer, Http2ServerRequest, Http2ServerResponse>

export interface ServerOptions {
  tls: KeyPair
  deps: HandlerDeps
  metrics: Metrics
  mutators?: readonly Mutator[]
  /** why the server is not ready (503 on /readyz), or undefined when it is */
  notReady: () => string | undefined
  /** more for /readyz's body, ready or not (the background audit's health): never changes the status */
  readyDetail?: () => Record<string, unknown> | undefined
  logLevel?: string
  /** add `POST /noop` (parses the body, answers {}): the baseline route for benchmarks */
  noopRoute?: boolean
  /** timeouts against slow or idle clients (slowloris), ms */
  timeouts?: Timeouts
  /** open connections at most; over it new sockets are closed before the TLS handshake (default 1,000) */
  maxConnections?: number
  /** PEM CA bundle: when set, clients must present a certificate it signed (mutual TLS) */
  clientCa?: Buffer
  /**
   * true while the server drains (SIGTERM): every response carries `Connection: close`, so that
   * keep-alive clients open no further request on a connection that is about to close.
   */
  draining?: () => boolean
  /** bytes of review bodies being received or decided at once, at most (default BODIES_IN_FLIGHT_BYTES) */
  bodiesInFlightBytes?: number
}

/**
 * Bytes of AdmissionReview bodies held at once, at most (64 MiB), counted as they arrive (a
 * Content-Length announces, it reserves nothing: headers that announce 8 MiB and send nothing
 * cost nothing). A request whose next chunk does not fit gets 503 with `Retry-After: 1` and its
 * connection is closed (HTTP/1.1) or its stream reset (HTTP/2). Without it, memory would grow
 * with connections × streams × BODY_LIMIT and the 512 MiB container would be killed. Ordinary
 * reviews are a few KiB: 64 MiB holds twenty 3 MiB UPDATE reviews besides them.
 */
export const BODIES_IN_FLIGHT_BYTES = 64 * 1024 * 1024
/**
 * One connection (an HTTP/1.1 socket, or an HTTP/2 session with all its streams) holds at most
 * this share of the budget (a quarter: two whole 8 MiB bodies), so that a few connections that
 * send much and finish nothing cannot take it all.
 */
export const CONNECTION_SHARE = 4
/**
 * A small body (at most 1/SMALL_BODY_SHARE of the budget: 256 KiB of 64 MiB) may use up to
 * 1/SMALL_RESERVE_SHARE of the budget more (8 MiB), so that a review of ordinary size is
 * answered while large bodies hold the whole budget.
 */
export const SMALL_RESERVE_SHARE = 8
export const SMALL_BODY_SHARE = 256
const BUDGET_ERROR = 'RG_BODIES_IN_FLIGHT'

/** Default cap on open connections (`--max-connections`). */
export const MAX_CONNECTIONS = 1000
/** Default TLS handshake timeout, ms: a socket that has not finished its handshake by then is closed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000

export interface Timeouts {
  /** a whole request (headers and body) must arrive within this (default 10 s) */
  requestMs?: number
  /** the headers must arrive within this (default: requestMs) */
  headersMs?: number
  /** a socket with no activity is closed after this (default 30 s) */
  idleMs?: number
  /** an idle keep-alive connection is closed after this (default 30 s); HTTP/2: a session with no stream for idleMs */
  keepAliveMs?: number
  /** a TLS handshake must finish within this (default HANDSHAKE_TIMEOUT_MS) */
  handshakeMs?: number
}

/** Bodies over this many bytes (64 KiB) are parsed and judged in two turns of the event loop. */
const YIELD_AFTER_BYTES = 64 * 1024

/**
 * Runs `fn` after the event loop's next poll phase (where waiting I/O is read): two
 * `setImmediate`s, since the first check phase follows the current poll phase at once.
 */
function nextTurn(fn: () => void): void {
  setImmediate(() => setImmediate(fn))
}

const admission =
  (opts: ServerOptions): FastifyPluginAsync =>
  async (app) => {
    const held = limitBodiesInFlight(app, opts.bodiesInFlightBytes ?? BODIES_IN_FLIGHT_BYTES)
    opts.metrics.watchBodiesInFlight(held)
    const route = (path: '/validate' | '/mutate', decide: (review: AdmissionReview) => Outcome | Promise<Outcome>) =>
      app.post<{ Body: AdmissionReview }>(path, { schema: { body: admissionReviewSchema, response: { 200: admissionReviewResponseSchema } } }, async (req, reply) => {
        const started = process.hrtime.bigint()
        // a large body was just parsed (tens of ms): let waiting I/O (probes, other reviews,
        // SIGTERM) run before judging it, so that the two holds of the event loop do not add up
        if (Number(req.headers['content-length'] ?? 0) > YIELD_AFTER_BYTES) await new Promise<void>((r) => nextTurn(r))
        const review = req.body
        const r = review.request
        let outcome: Outcome
        try {
          outcome = await decide(review)
        } catch (e) {
          if (e instanceof BadReview) {
            opts.metrics.countRequest(r.kind.kind, requestKindKey(r), r.operation, 'invalid', r.dryRun === true, path)
            req.log.warn({ uid: r.uid, problem: e.message }, 'bad request')
            return reply.code(400).send({ error: 'Bad Request', message: `not a consistent AdmissionReview: ${e.message}`, statusCode: 400 })
          }
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
        opts.metrics.countRequest(r.kind.kind, requestKindKey(r), r.operation, outcome.decision, r.dryRun === true, path)
        opts.metrics.observeDuration(path, seconds)
        if (!r.dryRun) {
          for (const f of outcome.findings) opts.metrics.countFinding(f.code, actionFor(opts.deps.policy, f.code))
        }
        if (infoEnabled(req.log)) req.log.info(
          {
            uid: r.uid,
            kind: shorten(requestKindKey(r), 128),
            object: outcome.subject ? shorten(describeRef(refOf(outcome.subject))) : undefined,
            operation: r.operation,
            dryRun: r.dryRun === true,
            decision: outcome.decision,
            codes: [...new Set(outcome.findings.map((f) => f.code))],
            findings: outcome.findings.length,
            // the whole messages (answers cut warnings at 256 characters), ten at most
            messages: outcome.findings.length ? outcome.findings.slice(0, 10).map((f) => f.message) : undefined,
            durationMs: Math.round(seconds * 1e6) / 1e3,
          },
          'admission review',
        )
        return outcome.response.toReview(r.uid)
      })
    route('/validate', (review) => (opts.deps.claims ? validateWithClaims(review.request, opts.deps) : validate(review.request, opts.deps)))
    if (opts.noopRoute) app.post('/noop', async () => ({}))
    route('/mutate', (review) => mutate(review.request, opts.deps, opts.mutators ?? []))
  }

/**
 * Holds the bytes of review bodies in flight to `budget` (see BODIES_IN_FLIGHT_BYTES), counted
 * chunk by chunk as they arrive, each connection to `budget / CONNECTION_SHARE`, with a reserve
 * for small bodies (SMALL_RESERVE_SHARE, SMALL_BODY_SHARE). Freed when the answer is
 * sent or the request is cut off. A chunk that does not fit fails the request with BUDGET_ERROR
 * (503 with `Retry-After: 1`, by the error handler); later chunks of that request are dropped,
 * never counted, and never raise an error of their own (the request may be answered already:
 * 413 past the body limit). @returns the bytes held now (the metric reads it)
 */
function limitBodiesInFlight(app: Parameters<FastifyPluginAsync>[0], budget: number): () => number {
  let inFlight = 0
  let smallInFlight = 0
  const perConnection = new WeakMap<object, number>()
  const share = Math.floor(budget / CONNECTION_SHARE)
  const reserve = Math.floor(budget / SMALL_RESERVE_SHARE)
  const smallBody = Math.floor(budget / SMALL_BODY_SHARE)
  app.addHook('preParsing', async (req, reply, payload) => {
    const raw = req.raw as IncomingMessage | Http2ServerRequest
    const conn: object = raw.httpVersionMajor === 2 ? ((raw as Http2ServerRequest).stream.session ?? raw) : raw.socket
    let counted = 0
    let small = 0
    let failed = false
    const release = () => {
      inFlight -= counted - small
      smallInFlight -= small
      perConnection.set(conn, (perConnection.get(conn) ?? 0) - counted)
      counted = small = 0
    }
    const counter = new Transform({
      transform(chunk: Buffer, _enc, next) {
        if (failed) return next()
        const held = perConnection.get(conn) ?? 0
        const total = counted + chunk.length
        const fitsBudget = inFlight + chunk.length <= budget && held + chunk.length <= share
        const fitsReserve = !fitsBudget && total <= smallBody && smallInFlight + chunk.length <= reserve
        if (!fitsBudget && !fitsReserve) {
          failed = true
          req.log.warn({ bytes: total, inFlight, connection: held, budget }, 'review bodies in flight over budget')
          const message =
            held + chunk.length > share
              ? `routeguard: this connection holds ${mib(held)} MiB of review bodies; one connection may hold ${mib(share)} MiB`
              : `routeguard: ${mib(inFlight)} MiB of reviews in flight; this one (${mib(total)} MiB so far) would pass the ${mib(budget)} MiB budget`
          return next(Object.assign(new Error(message), { statusCode: 503, code: BUDGET_ERROR }))
        }
        if (fitsReserve) (small += chunk.length), (smallInFlight += chunk.length)
        else inFlight += chunk.length
        counted += chunk.length
        perConnection.set(conn, held + chunk.length)
        next(null, chunk)
      },
    })
    // Fastify stops listening once it has answered (413 past the body limit): an error the
    // counter raises after that must not be an unhandled 'error' event
    counter.on('error', () => {})
    payload.on('error', () => {})
    // freed once the answer is sent, or the request cut off (an HTTP/2 stream answered 503 or 413
    // may stay open until its deadline while the client still sends: its bytes are dropped)
    const done = () => {
      release()
      payload.unpipe(counter)
      counter.destroy()
    }
    reply.raw.once('finish', done)
    reply.raw.once('close', done)
    return payload.pipe(counter)
  })
  return () => inFlight + smallInFlight
}

/** Paths that take a request body; any other request that carries one is refused before it is read. */
const BODY_PATHS = new Set(['/validate', '/mutate', '/noop'])

/**
 * Refuses a body on every path but BODY_PATHS before a byte of it is read or parsed: 404 for an
 * unknown path, 413 for a known one (the probes take none). The connection is closed after the
 * answer (HTTP/1.1) or the stream reset with NO_ERROR (HTTP/2), so the body is never read.
 */
function refuseUnwantedBodies(app: FastifyInstance<Http2SecureServer, Http2ServerRequest, Http2ServerResponse>): void {
  app.addHook('onRequest', async (req, reply) => {
    const raw = req.raw
    const known = req.routeOptions.url !== undefined && req.is404 !== true
    if (known && BODY_PATHS.has(req.routeOptions.url!)) return
    const length = Number(req.headers['content-length'] ?? 0)
    const h2stream = raw.httpVersionMajor === 2 ? raw.stream : undefined
    const hasBody = length > 0 || (h2stream ? h2stream.endAfterHeaders === false && req.headers['content-length'] === undefined : req.headers['transfer-encoding'] !== undefined)
    if (!hasBody) return
    if (h2stream) reply.raw.once('finish', () => h2stream.close(h2.NGHTTP2_NO_ERROR))
    else reply.header('connection', 'close')
    const path = shorten(req.url, 256)
    if (!known) return reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${path}`, statusCode: 404 })
    return reply.code(413).send({ error: 'Payload Too Large', message: `${req.method} ${path} takes no request body`, statusCode: 413 })
  })
}

const probes =
  (opts: Pick<ServerOptions, 'notReady' | 'metrics' | 'readyDetail'>): FastifyPluginAsync =>
  async (app) => {
    app.get('/healthz', async () => ({ status: 'ok' }))
    app.get('/readyz', async (_req, reply) => {
      const reason = opts.notReady()
      const detail = opts.readyDetail?.() ?? {}
      if (reason !== undefined) return reply.code(503).send({ status: 'not ready', reason, ...detail })
      return { status: 'ready', ...detail }
    })
    app.get('/metrics', async (_req, reply) => {
      return reply.type(opts.metrics.registry.contentType).send(await opts.metrics.registry.metrics())
    })
  }

/**
 * Builds (does not start) the HTTPS server: HTTP/2 and HTTP/1.1 on one port, chosen by ALPN.
 *
 * Bounds, each against one way a client can hold the webhook, for both protocols: TLS
 * handshakes finish within `timeouts.handshakeMs` (10 s); at most `maxConnections` sockets are
 * open (more are closed on accept, before any TLS work); a request arrives and is answered
 * within `requestMs` (10 s: per socket for HTTP/1.1, per stream for HTTP/2, and a new HTTP/2
 * connection must open its first stream within it; see `guardConnections`); at most
 * MAX_CONCURRENT_STREAMS streams per HTTP/2 connection; bodies over BODY_LIMIT are refused
 * (413), and at most `bodiesInFlightBytes` of bodies are held at once (503 past it); idle
 * sockets and sessions close after `idleMs`. While `draining()` every HTTP/1.1
 * response carries `Connection: close` and every HTTP/2 response is followed by GOAWAY (the
 * session finishes its open streams and takes no new one); requests on open connections are
 * still answered (not 503).
 */
export async function buildServer(opts: ServerOptions): Promise<WebhookApp> {
  const requestMs = opts.timeouts?.requestMs ?? 10_000
  const idleMs = opts.timeouts?.idleMs ?? 30_000
  const keepAliveMs = opts.timeouts?.keepAliveMs ?? 30_000
  const app = Fastify({
    http2: true,
    https: {
      allowHTTP1: true,
      ...tlsOptions(opts.tls, opts.clientCa),
      handshakeTimeout: opts.timeouts?.handshakeMs ?? HANDSHAKE_TIMEOUT_MS,
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
      // no Nagle: an answer is one or two small writes, sent at once (Node's HTTP/1 server does this by default, its HTTP/2 server does not)
      noDelay: true,
    },
    // HTTP/2: a session with no frames for this long is closed (GOAWAY)
    http2SessionTimeout: keepAliveMs,
    bodyLimit: BODY_LIMIT,
    logger: { level: opts.logLevel ?? 'info' },
    // one structured line per review is logged by the route itself; no per-request noise
    logController: new LogController({ disableRequestLogging: true }),
    connectionTimeout: idleMs,
    // requests that reach an open connection while draining are answered (with Connection:
    // close, or GOAWAY): a 503 would fail the API server's call, and with failurePolicy Fail the write
    return503OnClosing: false,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: true, useDefaults: false } },
  })
  const server = app.server
  server.maxConnections = opts.maxConnections ?? MAX_CONNECTIONS
  // HTTP/1.1 on the HTTP/2 server: Fastify sets these only on an HTTP/1 server
  const h1 = server as unknown as { keepAliveTimeout: number; requestTimeout: number; headersTimeout: number }
  h1.keepAliveTimeout = keepAliveMs
  h1.requestTimeout = requestMs
  // slowloris: headers trickled in byte by byte must not hold a socket for Node's default 60 s
  h1.headersTimeout = opts.timeouts?.headersMs ?? requestMs
  guardConnections(server, requestMs)
  if (opts.draining) {
    const draining = opts.draining
    app.addHook('onSend', async (req, reply) => {
      if (!draining()) return
      // HTTP/2 has no Connection header: GOAWAY once the open streams are done
      if (req.raw.httpVersionMajor === 2) req.raw.stream.session?.close()
      else reply.header('connection', 'close')
    })
  }
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500
    if (err instanceof TooLargeToJudge) {
      // answered as a review when its envelope could be read: kubectl shows why, per failurePolicy
      const r = rec(rec(err.envelope).request)
      const path = req.routeOptions.url
      if (typeof r.uid === 'string' && (path === '/validate' || path === '/mutate')) {
        const what = describeReviewed(r)
        const outcome = tooLargeToJudge(opts.deps, what, err.why)
        const gvk = rec(r.kind)
        opts.metrics.countRequest(str(gvk.kind) ?? '', kindKey(str(gvk.group) ?? '', str(gvk.kind) ?? ''), str(r.operation) ?? '', outcome.decision, r.dryRun === true, path)
        req.log.warn({ uid: shorten(r.uid, 256), object: what, problem: err.message }, 'review too large to judge')
        return reply.code(200).send(outcome.response.toReview(shorten(r.uid, 256)))
      }
      req.log.warn({ problem: err.message }, 'body too large to judge')
      return reply.code(413).send({ error: 'Payload Too Large', code: err.code, message: err.message, statusCode: 413 })
    }
    if (err.code === BUDGET_ERROR || status === 413) {
      // the rest of the body is not wanted: close the connection after the answer (HTTP/1.1), reset the stream (HTTP/2)
      if (req.raw.httpVersionMajor === 2) reply.raw.once('finish', () => req.raw.stream.close(h2.NGHTTP2_NO_ERROR))
      else reply.header('connection', 'close')
    }
    if (err.code === BUDGET_ERROR) {
      return reply.code(503).header('retry-after', '1').send({ error: 'Service Unavailable', message: err.message, statusCode: 503 })
    }
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
  // JSON within a value and depth limit, keys as data (server/json.ts)
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    const parse = () => {
      try {
        done(null, parseBoundedJson(body as Buffer))
      } catch (e) {
        done(e as Error, undefined)
      }
    }
    // several large bodies that complete in one turn are parsed in turns of their own, with I/O
    // (probes, small reviews) in between, not back to back
    if ((body as Buffer).length > YIELD_AFTER_BYTES) nextTurn(parse)
    else parse()
  })
  refuseUnwantedBodies(app)
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url}`, statusCode: 404 }))
  await app.register(admission(opts))
  await app.register(probes(opts))
  return app
}

/**
 * Builds (does not start) the probe server: plain HTTP with `/healthz`, `/readyz` and
 * `/metrics` only, on its own port (`--probe-port`), so that kubelet probes and Prometheus are
 * answered while the webhook port is flooded or requires client certificates. Its own small
 * connection cap and timeouts.
 */
export async function buildProbeServer(opts: Pick<ServerOptions, 'notReady' | 'metrics' | 'logLevel' | 'readyDetail'>): Promise<FastifyInstance> {
  const app = Fastify({
    logger: { level: opts.logLevel ?? 'info' },
    logController: new LogController({ disableRequestLogging: true }),
    connectionTimeout: 10_000,
    keepAliveTimeout: 10_000,
    requestTimeout: 5_000,
    bodyLimit: 1024,
  })
  app.server.maxConnections = 100
  app.server.headersTimeout = 5_000
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ error: 'Not Found', message: `no route ${req.method} ${req.url}`, statusCode: 404 }))
  await app.register(probes(opts))
  return app
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}

function httpReason(status: number): string {
  return ({ 400: 'Bad Request', 404: 'Not Found', 413: 'Payload Too Large', 415: 'Unsupported Media Type' } as Record<number, string>)[status] ?? 'Error'
}

/** The underlying TLS server of a built app (for certificate reloads). */
export function tlsServer(app: WebhookApp): TlsServer {
  return app.server as unknown as TlsServer
}

/** pino's level check (FastifyBaseLogger does not declare it). */
function infoEnabled(log: unknown): boolean {
  const l = log as { isLevelEnabled?: (level: string) => boolean }
  return l.isLevelEnabled ? l.isLevelEnabled('info') : true
}

const IN_FLIGHT = Symbol('routeguard.inFlight')
const SERVED = Symbol('routeguard.served')
const DEADLINE = Symbol('routeguard.deadline')
type Tracked = TLSSocket & { [IN_FLIGHT]?: number; [SERVED]?: number; [DEADLINE]?: NodeJS.Timeout }
type Session = ServerHttp2Session & { [SERVED]?: number }

/**
 * Deadlines and closing, for both protocols, where Node's servers do not do as documented here:
 * - **Deadlines.** Node checks `requestTimeout`/`headersTimeout` only every
 *   `connectionsCheckingInterval` (30 s), so a client trickling a byte a second held a socket
 *   20-30 s with a 10 s timeout, and its HTTP/2 server has no request deadline at all. Here an
 *   HTTP/1.1 socket gets `requestMs` for its first request to arrive after the handshake, and
 *   each request `requestMs` from its headers to its answer; past that the socket is destroyed.
 *   An HTTP/2 session gets `requestMs` to open its first stream (else it is destroyed), and
 *   each stream `requestMs` from its headers to its answer (else it is reset with CANCEL).
 *   (Between requests, `keepAliveTimeout` and the session timeout apply.)
 * - **Closing.** `server.close()` closes every socket without a request in progress, including
 *   one whose handshake just finished and whose first request is on the wire: that request is
 *   reset. Here only connections that have served a request and have none in progress are
 *   ended (HTTP/2: GOAWAY, open streams finish); a fresh one keeps its chance to send its
 *   request, which is answered with `Connection: close` or followed by GOAWAY (the shutdown
 *   deadline closes whatever is left, with `closeAllConnections`).
 */
function guardConnections(server: Http2SecureServer, requestMs: number): void {
  const sockets = new Set<Tracked>()
  const sessions = new Set<Session>()
  const expire = (sock: Tracked) => () => sock.destroy()
  server.on('secureConnection', (sock: Tracked) => {
    // HTTP/2 connections are held to their deadlines as sessions (below)
    if (sock.alpnProtocol === 'h2') return
    sockets.add(sock)
    sock[DEADLINE] = setTimeout(expire(sock), requestMs).unref()
    sock.once('close', () => {
      clearTimeout(sock[DEADLINE])
      sockets.delete(sock)
    })
  })
  server.on('session', (session: Session) => {
    sessions.add(session)
    const first = setTimeout(() => session.destroy(), requestMs).unref()
    session.once('stream', () => clearTimeout(first))
    session.once('close', () => {
      clearTimeout(first)
      sessions.delete(session)
    })
  })
  server.on('stream', (stream: ServerHttp2Stream) => {
    const session = stream.session as Session | undefined
    if (session) session[SERVED] = (session[SERVED] ?? 0) + 1
    const deadline = setTimeout(() => stream.close(h2.NGHTTP2_CANCEL), requestMs).unref()
    stream.once('close', () => clearTimeout(deadline))
  })
  server.on('request', (req: IncomingMessage | Http2ServerRequest, res: { once(e: 'close', fn: () => void): unknown }) => {
    if (req.httpVersionMajor === 2) return
    const sock = req.socket as Tracked
    sock[IN_FLIGHT] = (sock[IN_FLIGHT] ?? 0) + 1
    sock[SERVED] = (sock[SERVED] ?? 0) + 1
    clearTimeout(sock[DEADLINE])
    sock[DEADLINE] = setTimeout(expire(sock), requestMs).unref()
    res.once('close', () => {
      sock[IN_FLIGHT] = (sock[IN_FLIGHT] ?? 1) - 1
      if (!sock[IN_FLIGHT]) clearTimeout(sock[DEADLINE])
    })
  })
  // Node's HTTP/2 server with allowHTTP1 calls closeIdleConnections from close()
  const s = server as unknown as { closeIdleConnections(): void; closeAllConnections(): void }
  s.closeIdleConnections = () => {
    for (const sock of sockets) if (!sock[IN_FLIGHT] && sock[SERVED]) sock.end()
    for (const session of sessions) if (session[SERVED]) session.close()
  }
  s.closeAllConnections = () => {
    for (const sock of sockets) sock.destroy()
    for (const session of sessions) session.destroy()
  }
}
