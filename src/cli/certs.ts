/**
 * `routeguard certs`: development certificates on disk (`certs/certs.ts`), or certificates kept
 * in a cluster's Secrets (`certs/cluster-certs.ts`).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Command } from 'commander'
import { parseDocument } from 'yaml'
import { caBundle, CERT_FILES, certificatesExist, generateCertificates, writeCertificates } from '../certs/certs.js'
import { type ExitCode, fail, type Io } from './io.js'

export function registerCerts(program: Command, io: Io, _exit: ExitCode): void {
  program
    .command('certs')
    .description('write a CA and a serving certificate (ca.crt, tls.crt, tls.key) for the webhook Service')
    .option('--out <dir>', 'directory to write into', 'certs')
    .option('--service <name>', 'webhook Service name', 'routeguard')
    .option('--namespace <ns>', 'webhook Service namespace', 'routeguard-system')
    .option('--force', 'overwrite existing files', false)
    .option('--ca-bundle', 'print the base64 CA (for caBundle) from --out and exit', false)
    .option('--patch-manifests <file>', 'write the caBundle from --out into the webhook configurations in this file (a copy of yours: the tracked manifests keep caBundle empty)')
    .option('--kubeconfig <file>', 'keep the CA and serving certificate in Secrets of this cluster, renew before expiry, set caBundle in the webhook configurations')
    .option('--in-cluster', 'as --kubeconfig, with the Pod\'s service account (the routeguard-certs Job and CronJob)', false)
    .option('--renew-before <duration>', 'with --kubeconfig/--in-cluster: renew when the serving certificate expires within this (60d, 720h)', '60d')
    .option('--ca-secret <name>', 'with --kubeconfig/--in-cluster: Secret holding the CA', 'routeguard-ca')
    .option('--tls-secret <name>', 'with --kubeconfig/--in-cluster: Secret holding the serving certificate', 'routeguard-tls')
    .option('--webhook-name <name>', 'with --kubeconfig/--in-cluster: name of the webhook configurations to give the caBundle', 'routeguard')
    .action(async (o) => {
      if (o.kubeconfig || o.inCluster) {
        const [{ loadKubeConfig }, { ensureClusterCertificates, parseRenewBefore }] = await Promise.all([import('../cluster/client.js'), import('../certs/cluster-certs.js')])
        let renewBeforeMs: number
        try {
          renewBeforeMs = parseRenewBefore(o.renewBefore)
        } catch (e) {
          fail((e as Error).message)
        }
        let kc
        try {
          kc = o.kubeconfig ? loadKubeConfig(o.kubeconfig) : loadKubeConfig(undefined, {})
        } catch (e) {
          fail((e as Error).message, 1)
        }
        if (!kc) fail('--in-cluster: not in a Pod (KUBERNETES_SERVICE_HOST is not set); pass --kubeconfig FILE', 1)
        try {
          const r = await ensureClusterCertificates(kc, { namespace: o.namespace, service: o.service, caSecret: o.caSecret, tlsSecret: o.tlsSecret, webhookName: o.webhookName, renewBeforeMs })
          io.stdout.write(`${JSON.stringify({ msg: 'certificates checked', namespace: o.namespace, ...r })}\n`)
        } catch (e) {
          fail((e as Error).message, 1)
        }
        return
      }
      if (o.caBundle) {
        try {
          io.stdout.write(`${caBundle(o.out)}\n`)
        } catch (e) {
          fail(`no CA in ${o.out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message} (run 'routeguard certs' first)`)
        }
        return
      }
      if (o.patchManifests) {
        const file: string = o.patchManifests
        let bundle: string
        try {
          bundle = caBundle(o.out)
        } catch {
          fail(`no CA in ${o.out} (run 'routeguard certs' first)`)
        }
        const n = patchCaBundle(file, bundle)
        io.stderr.write(`wrote caBundle into ${n} webhook(s) in ${file}\n`)
        return
      }
      if (certificatesExist(o.out) && !o.force) fail(`${o.out} already holds certificates; use --force to replace them`)
      writeCertificates(o.out, generateCertificates({ service: o.service, namespace: o.namespace }))
      io.stderr.write(`wrote ${Object.values(CERT_FILES).map((f) => join(o.out, f)).join(', ')} for ${o.service}.${o.namespace}.svc\n`)
    })
}

/** Sets `caBundle` on every webhook of the (Validating|Mutating)WebhookConfigurations in `file`. */
export function patchCaBundle(file: string, bundle: string): number {
  const text = readFileSync(file, 'utf8')
  let n = 0
  const docs = text.split(/^---\s*$/m).map((part) => {
    if (!part.trim()) return part
    const doc = parseDocument(part)
    const kind = doc.get('kind')
    if (kind !== 'ValidatingWebhookConfiguration' && kind !== 'MutatingWebhookConfiguration') return part
    const webhooks = doc.get('webhooks') as { items: unknown[] } | undefined
    webhooks?.items.forEach((_w, i) => {
      doc.setIn(['webhooks', i, 'clientConfig', 'caBundle'], bundle)
      n++
    })
    return `${part.startsWith('\n') ? '\n' : ''}${doc.toString()}`
  })
  writeFileSync(file, docs.join('---\n'))
  return n
}

