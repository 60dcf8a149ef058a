/**
 * `routeguard serve`: flags → `startServe` (src/server/start.ts). The one command that keeps the
 * process: it installs the SIGTERM/SIGINT handlers that drain and exit.
 */
import { hostname } from 'node:os'
import { type Command, Option } from 'commander'
import { resolveImplementation } from '../features/features.js'
import { ConfigError, loadConfig } from '../config/config.js'
import { type ExitCode, fail, type Io } from './io.js'
import { nonNegative, port, positive } from './options.js'

export function registerServe(program: Command, _io: Io, _exit: ExitCode): void {
  program
    .command('serve')
    .description('run the HTTPS admission webhook (standalone: view seeded from --state and kept by admitted changes)')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'port to listen on', (v) => port(v, '--port'), 8443)
    .option('--tls-cert <file>', 'serving certificate (PEM); reloaded when it changes', 'certs/tls.crt')
    .option('--tls-key <file>', 'serving key (PEM)', 'certs/tls.key')
    .option('--state <paths...>', 'YAML/JSON files or folders that seed the view', [])
    .option('--config <file>', 'configuration file (YAML): rules, exemptNamespaces, exceptions, failurePolicy; reloaded when it changes (an invalid new file keeps the last good one)')
    .option('--kubeconfig <file>', 'cluster mode: keep the view with informers against this cluster (in-cluster config is detected)')
    .option('--standalone', 'standalone mode even inside a Pod (without it, a Pod without a usable service-account token is an error)')
    .option('--implementation <name[@version]>', 'Gateway API implementation for RG0301 (istio, envoy-gateway, cilium, nginx-gateway-fabric, kgateway, agentgateway, linkerd)')
    .option('--max-staleness <seconds>', 'cluster mode: /readyz fails when a watch is down longer than this', (v) => positive(v, '--max-staleness'), 60)
    .addOption(new Option('--unsynced <policy>', 'cluster mode: answer while the view is not synced').choices(['deny', 'allow']).default('deny'))
    .option('--audit-interval <seconds>', 'cluster mode: seconds between background audit passes', (v) => positive(v, '--audit-interval'), 60)
    .option('--no-audit', 'cluster mode: do not run the background audit')
    .option('--pending-ttl <seconds>', 'cluster mode: seconds an admitted object is judged against before the informers deliver it (0: off)', (v) => nonNegative(v, '--pending-ttl'), 5)
    .option('--review-deadline <ms>', 'ms one review may hold the event loop while it is judged; past it the review is answered per failurePolicy as too large to judge', (v) => positive(v, '--review-deadline'), 100)
    .option('--lease-namespace <ns>', 'cluster mode: namespace of the audit leader Lease and of the claims', 'routeguard-system')
    .option('--claims', 'cluster mode: claim conflict keys as Leases in the API server before admitting, so that several replicas give one answer')
    .option('--claim-timeout <ms>', 'cluster mode with --claims: ms one claim may take before the review follows failurePolicy', (v) => positive(v, '--claim-timeout'), 1000)
    .option('--lease-duration <seconds>', 'cluster mode: seconds the audit leader Lease lasts unrenewed (renewed every ⅔ of it, others retry every 2/15 of it, as client-go: 15/10/2 s)', (v) => positive(v, '--lease-duration'), 15)
    .option('--identity <name>', 'cluster mode: this replica in the leader Lease (default: $POD_NAME or the hostname)')
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'))
    .option('--generate-certs', 'create a development CA and serving certificate next to --tls-cert when missing', false)
    .addOption(new Option('--noop-route', 'serve POST /noop as a benchmark baseline').hideHelp())
    .option('--shutdown-grace <seconds>', 'seconds to let in-flight reviews finish on SIGTERM', (v) => positive(v, '--shutdown-grace'), 10)
    .option('--request-timeout <seconds>', 'a request (headers and body) must arrive within this', (v) => positive(v, '--request-timeout'), 10)
    .option('--handshake-timeout <seconds>', 'a TLS handshake must finish within this', (v) => positive(v, '--handshake-timeout'), 10)
    .option('--max-connections <n>', 'open connections at most on the webhook port; more are closed before TLS', (v) => positive(v, '--max-connections'), 1000)
    .option('--client-ca <file>', 'require client certificates signed by this CA (PEM) on the webhook port')
    .option('--probe-port <port>', 'also serve /healthz, /readyz and /metrics over plain HTTP on this port (unaffected by floods of the webhook port and by --client-ca)', (v) => port(v, '--probe-port'))
    .action(async (o) => {
      // the server's modules (Fastify, client-node, prom-client: ~1 s to load) only for `serve`
      const [{ startServe }, { loadKubeConfig }] = await Promise.all([import('../server/start.js'), import('../cluster/client.js')])
      let config
      try {
        config = o.config ? loadConfig(o.config) : undefined
      } catch (e) {
        fail(e instanceof ConfigError ? e.message : `--config: ${(e as Error).message}`)
      }
      let implementation
      try {
        implementation = resolveImplementation(o.implementation ?? config?.implementation ?? 'istio')
      } catch (e) {
        fail(`--implementation: ${(e as Error).message}`)
      }
      let kubeConfig
      try {
        kubeConfig = loadKubeConfig(o.kubeconfig, { standalone: o.standalone === true })
      } catch (e) {
        fail(o.kubeconfig ? `--kubeconfig: ${(e as Error).message}` : (e as Error).message)
      }
      let server
      try {
        server = await startServe({
          kubeConfig,
          implementation,
          audit: o.audit
            ? {
                intervalMs: o.auditInterval * 1000,
                leaseNamespace: o.leaseNamespace,
                identity: o.identity ?? process.env.POD_NAME ?? hostname(),
                leaseDurationSeconds: o.leaseDuration,
                renewIntervalMs: (o.leaseDuration * 1000 * 2) / 3,
                retryIntervalMs: (o.leaseDuration * 1000 * 2) / 15,
              }
            : undefined,
          maxStalenessMs: o.maxStaleness * 1000,
          pendingTtlMs: o.pendingTtl * 1000,
          reviewDeadlineMs: o.reviewDeadline,
          claims: o.claims ? { namespace: o.leaseNamespace, identity: o.identity ?? process.env.POD_NAME ?? hostname(), timeoutMs: o.claimTimeout, durationSeconds: Math.max(1, Math.ceil(o.pendingTtl)) } : undefined,
          unsynced: o.unsynced,
          host: o.host,
          port: o.port,
          tlsCert: o.tlsCert,
          tlsKey: o.tlsKey,
          state: o.state,
          config,
          configPath: o.config,
          logLevel: o.logLevel,
          generateCerts: o.generateCerts,
          shutdownGraceMs: o.shutdownGrace * 1000,
          timeouts: { requestMs: o.requestTimeout * 1000, handshakeMs: o.handshakeTimeout * 1000 },
          maxConnections: o.maxConnections,
          clientCa: o.clientCa,
          probePort: o.probePort,
          noopRoute: o.noopRoute === true,
        })
      } catch (e) {
        fail(`cannot start: ${(e as Error).message}`)
      }
      if (server.generatedCertificates) {
        const [ca, cert, key] = server.generatedCertificates
        server.app.log.info({ ca, cert, key }, `generated a development CA and serving certificate for 127.0.0.1 and localhost: ${ca}, ${cert}, ${key} (clients trust ${ca}: curl --cacert ${ca})`)
      }
      server.app.log.info({ url: server.url, mode: kubeConfig ? 'cluster' : 'standalone' }, 'routeguard webhook listening')
      const stop = async (signal: string) => {
        server.app.log.info({ signal }, 'shutting down')
        // exit within the grace whatever is in flight (close() cuts what is left at the grace; this
        // is the backstop should anything keep the loop alive past it)
        setTimeout(() => process.exit(0), o.shutdownGrace * 1000 + 500).unref()
        await server.close()
        process.exit(0)
      }
      process.once('SIGTERM', () => void stop('SIGTERM'))
      process.once('SIGINT', () => void stop('SIGINT'))
    })
}
