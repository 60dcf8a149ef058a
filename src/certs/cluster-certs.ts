/**
 * `routeguard certs --kubeconfig FILE | --in-cluster`: the webhook's certificates kept in the
 * cluster, renewed before they expire. With `failurePolicy: Fail` an expired serving certificate
 * blocks every route write, so this runs as a Job at install and a CronJob after
 * (manifests/overlays/routeguard-certs); every run is idempotent:
 *
 * 1. the CA lives in Secret `<caSecret>` (`ca.crt`, `ca.key`); made (10 years) when missing;
 * 2. the serving certificate lives in Secret `<tlsSecret>` (`kubernetes.io/tls`: `tls.crt`,
 *    `tls.key`, `ca.crt`); issued again when missing, not signed by the CA, missing a SAN of the
 *    Service, or expiring within `renewBeforeMs`; the server reloads it from the mounted Secret
 *    (the kubelet's update), no restart;
 * 3. every webhook of the Validating/MutatingWebhookConfigurations `<webhookName>` gets the CA as
 *    `caBundle` when it differs.
 *
 * Writes use the resourceVersion read (a concurrent run gets 409 and the CronJob retries).
 * Not done: rotating the CA itself (it is valid 10 years; rotating it needs both CAs in caBundle
 * for a while), and a serving key kept across renewals (each renewal makes a new RSA 2048 key).
 */
import { X509Certificate } from 'node:crypto'
import * as k8s from '@kubernetes/client-node'
import { apiError, apiStatus } from '../cluster/client.js'
import { generateCA, generateCertificates, servingNames } from './certs.js'

export interface ClusterCertOptions {
  /** namespace of the Secrets and the webhook Service (default `routeguard-system`) */
  namespace?: string
  /** webhook Service name (default `routeguard`) */
  service?: string
  /** Secret holding the CA (default `routeguard-ca`) */
  caSecret?: string
  /** Secret holding the serving certificate, mounted by the Deployment (default `routeguard-tls`) */
  tlsSecret?: string
  /** name of both webhook configurations (default `routeguard`); `''` skips them */
  webhookName?: string
  /** renew when the serving certificate expires within this many milliseconds (default 60 days) */
  renewBeforeMs?: number
  /** validity of a new serving certificate in days (default 365) */
  days?: number
  /** clock, for tests (ms since the epoch) */
  now?: () => number
}

/** What one run did, one line each, for the log. */
export interface ClusterCertResult {
  ca: 'created' | 'kept'
  serving: 'created' | 'renewed' | 'kept'
  /** why the serving certificate was issued again, when it was */
  reason?: string
  /** seconds the serving certificate in the Secret is valid from now, after the run */
  expiresInSeconds: number
  /** webhook configurations whose caBundle was written, `Kind/name` */
  patched: string[]
  /** webhook configurations that do not exist (not an error: applied later, or not used) */
  missing: string[]
}

const DAY = 86_400_000

function b64(s: string): string {
  return Buffer.from(s).toString('base64')
}

function unb64(s: string | undefined): string | undefined {
  return s === undefined ? undefined : Buffer.from(s, 'base64').toString('utf8')
}

async function readSecret(core: k8s.CoreV1Api, namespace: string, name: string): Promise<k8s.V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name, namespace })
  } catch (e) {
    if (apiStatus(e) === 404) return undefined
    throw new Error(`reading Secret ${namespace}/${name}: ${apiError(e)}`)
  }
}

/**
 * Why the serving certificate `cert` must be issued again, or undefined when it may stay.
 * @param caPem the CA it must be signed by
 */
export function renewalReason(cert: string | undefined, key: string | undefined, caPem: string, names: { dns: string[] }, nowMs: number, renewBeforeMs: number): string | undefined {
  if (!cert || !key) return 'no serving certificate'
  let x: X509Certificate
  try {
    x = new X509Certificate(cert)
  } catch (e) {
    return `the serving certificate does not parse (${(e as Error).message})`
  }
  if (!x.verify(new X509Certificate(caPem).publicKey)) return 'the serving certificate is not signed by the CA'
  const missing = names.dns.filter((n) => x.checkHost(n, { subject: 'never' }) === undefined)
  if (missing.length) return `the serving certificate lacks ${missing.join(', ')}`
  const left = Date.parse(x.validTo) - nowMs
  if (left <= renewBeforeMs) return `the serving certificate expires in ${Math.max(0, Math.floor(left / DAY))} day(s) (${x.validTo})`
  return undefined
}

/**
 * One run (see the module comment).
 * @throws on an API error other than 404 on a read (message names the object and the status), or
 *   when the CA Secret exists without `ca.crt`/`ca.key`
 */
export async function ensureClusterCertificates(kc: k8s.KubeConfig, o: ClusterCertOptions = {}): Promise<ClusterCertResult> {
  const namespace = o.namespace ?? 'routeguard-system'
  const service = o.service ?? 'routeguard'
  const caName = o.caSecret ?? 'routeguard-ca'
  const tlsName = o.tlsSecret ?? 'routeguard-tls'
  const webhookName = o.webhookName ?? 'routeguard'
  const renewBefore = o.renewBeforeMs ?? 60 * DAY
  const now = o.now ?? Date.now
  const core = kc.makeApiClient(k8s.CoreV1Api)

  // 1. the CA
  let caResult: ClusterCertResult['ca'] = 'kept'
  let caSecret = await readSecret(core, namespace, caName)
  let ca: { cert: string; key: string }
  if (!caSecret) {
    ca = generateCA()
    try {
      caSecret = await core.createNamespacedSecret({
        namespace,
        body: { apiVersion: 'v1', kind: 'Secret', type: 'Opaque', metadata: { name: caName, namespace, labels: { 'app.kubernetes.io/name': 'routeguard', 'app.kubernetes.io/component': 'ca' } }, data: { 'ca.crt': b64(ca.cert), 'ca.key': b64(ca.key) } },
      })
      caResult = 'created'
    } catch (e) {
      throw new Error(`creating Secret ${namespace}/${caName}: ${apiError(e)}`)
    }
  } else {
    const cert = unb64(caSecret.data?.['ca.crt'])
    const key = unb64(caSecret.data?.['ca.key'])
    if (!cert || !key) throw new Error(`Secret ${namespace}/${caName} has no ca.crt and ca.key: delete it to make a new CA (every serving certificate is then issued again)`)
    ca = { cert, key }
  }

  // 2. the serving certificate
  const tls = await readSecret(core, namespace, tlsName)
  const names = servingNames(service, namespace)
  const reason = renewalReason(unb64(tls?.data?.['tls.crt']), unb64(tls?.data?.['tls.key']), ca.cert, names, now(), renewBefore)
  let serving: ClusterCertResult['serving'] = 'kept'
  let servingCert = unb64(tls?.data?.['tls.crt']) ?? ''
  if (reason) {
    const issued = generateCertificates({ service, namespace, ca, days: o.days ?? 365 })
    servingCert = issued.cert
    const body: k8s.V1Secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      type: 'kubernetes.io/tls',
      metadata: { name: tlsName, namespace, labels: { 'app.kubernetes.io/name': 'routeguard', 'app.kubernetes.io/component': 'serving-certificate' }, ...(tls?.metadata?.resourceVersion ? { resourceVersion: tls.metadata.resourceVersion } : {}) },
      data: { 'tls.crt': b64(issued.cert), 'tls.key': b64(issued.key), 'ca.crt': b64(ca.cert) },
    }
    try {
      if (tls) await core.replaceNamespacedSecret({ name: tlsName, namespace, body })
      else await core.createNamespacedSecret({ namespace, body })
    } catch (e) {
      throw new Error(`${tls ? 'replacing' : 'creating'} Secret ${namespace}/${tlsName}: ${apiError(e)}`)
    }
    serving = tls ? 'renewed' : 'created'
  }

  // 3. caBundle in the webhook configurations
  const patched: string[] = []
  const missing: string[] = []
  if (webhookName) {
    const adm = kc.makeApiClient(k8s.AdmissionregistrationV1Api)
    const bundle = b64(ca.cert)
    const kinds = [
      { kind: 'ValidatingWebhookConfiguration', read: () => adm.readValidatingWebhookConfiguration({ name: webhookName }), replace: (body: k8s.V1ValidatingWebhookConfiguration) => adm.replaceValidatingWebhookConfiguration({ name: webhookName, body }) },
      { kind: 'MutatingWebhookConfiguration', read: () => adm.readMutatingWebhookConfiguration({ name: webhookName }), replace: (body: k8s.V1MutatingWebhookConfiguration) => adm.replaceMutatingWebhookConfiguration({ name: webhookName, body }) },
    ] as const
    for (const k of kinds) {
      let cfg: k8s.V1ValidatingWebhookConfiguration | k8s.V1MutatingWebhookConfiguration
      try {
        cfg = await k.read()
      } catch (e) {
        if (apiStatus(e) === 404) {
          missing.push(`${k.kind}/${webhookName}`)
          continue
        }
        throw new Error(`reading ${k.kind} ${webhookName}: ${apiError(e)}`)
      }
      const webhooks = cfg.webhooks ?? []
      if (webhooks.every((w) => w.clientConfig?.caBundle === bundle)) continue
      for (const w of webhooks) w.clientConfig = { ...w.clientConfig, caBundle: bundle }
      try {
        await (k.replace as (b: typeof cfg) => Promise<unknown>)(cfg)
      } catch (e) {
        throw new Error(`writing caBundle into ${k.kind} ${webhookName}: ${apiError(e)}`)
      }
      patched.push(`${k.kind}/${webhookName}`)
    }
  }

  const expiresInSeconds = servingCert ? Math.floor((Date.parse(new X509Certificate(servingCert).validTo) - now()) / 1000) : 0
  return { ca: caResult, serving, ...(reason ? { reason } : {}), expiresInSeconds, patched, missing }
}

/**
 * A duration for `--renew-before`: `60d`, `720h`, `90m` or a number of days.
 * @returns milliseconds
 * @throws on anything else
 */
export function parseRenewBefore(s: string): number {
  const m = /^(\d+)(d|h|m)?$/.exec(s.trim())
  if (!m) throw new Error(`--renew-before: ${JSON.stringify(s)} is not a duration like 60d, 720h or 90m`)
  const n = Number(m[1])
  return n * (m[2] === 'h' ? 3_600_000 : m[2] === 'm' ? 60_000 : DAY)
}
