/**
 * Development and bootstrap certificates, made with node-forge: a CA (10 years) and a serving
 * certificate (1 year, RSA 2048) for the webhook Service. RSA keys come from Node's native
 * generator (forge's X.509 writer handles RSA only).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import forge from 'node-forge'

export interface CertificateBundle {
  /** PEM */
  caCert: string
  /** PEM, serving certificate */
  cert: string
  /** PEM, PKCS#1 RSA private key of the serving certificate */
  key: string
  /** PEM key of the CA: kept in memory only (never written by writeCertificates) */
  caKey: string
}

export interface CertificateOptions {
  /** sign with this CA (PEM certificate and key) instead of making a new one */
  ca?: { cert: string; key: string }
  /** Service name (default `routeguard`) */
  service?: string
  /** Service namespace (default `routeguard-system`) */
  namespace?: string
  /** validity of the serving certificate in days (default 365) */
  days?: number
}

/** DNS and IP SANs of the serving certificate for a Service. */
export function servingNames(service: string, namespace: string): { dns: string[]; ips: string[] } {
  return {
    dns: [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`, 'localhost'],
    ips: ['127.0.0.1'],
  }
}

function rsaKeyPair(): { privateKey: forge.pki.rsa.PrivateKey; publicKey: forge.pki.rsa.PublicKey } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } })
  const priv = forge.pki.privateKeyFromPem(privateKey) as forge.pki.rsa.PrivateKey
  return { privateKey: priv, publicKey: forge.pki.setRsaPublicKey(priv.n, priv.e) }
}

function serial(): string {
  const b = randomBytes(16)
  b[0]! &= 0x7f // positive
  return b.toString('hex')
}

/** A self-signed CA `routeguard-ca`, valid 10 years from five minutes ago, as PEM certificate and PKCS#1 key. */
export function generateCA(): { cert: string; key: string } {
  const now = new Date(Date.now() - 5 * 60_000) // tolerate clock skew
  const ca = rsaKeyPair()
  const caCert = forge.pki.createCertificate()
  caCert.publicKey = ca.publicKey
  caCert.serialNumber = serial()
  caCert.validity.notBefore = now
  caCert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 86_400_000)
  const caSubject = [{ name: 'commonName', value: 'routeguard-ca' }]
  caCert.setSubject(caSubject)
  caCert.setIssuer(caSubject)
  caCert.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ])
  caCert.sign(ca.privateKey, forge.md.sha256.create())
  return { cert: forge.pki.certificateToPem(caCert), key: forge.pki.privateKeyToPem(ca.privateKey) }
}

/** Creates a serving certificate signed by a fresh CA (or by `opts.ca`). Takes ~0.3 s (two RSA keys). */
export function generateCertificates(opts: CertificateOptions = {}): CertificateBundle {
  const service = opts.service ?? 'routeguard'
  const namespace = opts.namespace ?? 'routeguard-system'
  const now = new Date(Date.now() - 5 * 60_000) // tolerate clock skew

  const ca = opts.ca ?? generateCA()
  const caCert = forge.pki.certificateFromPem(ca.cert)
  const caPrivate = forge.pki.privateKeyFromPem(ca.key) as forge.pki.rsa.PrivateKey

  const leaf = rsaKeyPair()
  const cert = forge.pki.createCertificate()
  cert.publicKey = leaf.publicKey
  cert.serialNumber = serial()
  cert.validity.notBefore = now
  cert.validity.notAfter = new Date(now.getTime() + (opts.days ?? 365) * 86_400_000)
  cert.setSubject([{ name: 'commonName', value: `${service}.${namespace}.svc` }])
  cert.setIssuer(caCert.subject.attributes)
  const names = servingNames(service, namespace)
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: [...names.dns.map((value) => ({ type: 2, value })), ...names.ips.map((ip) => ({ type: 7, ip }))] },
  ])
  cert.sign(caPrivate, forge.md.sha256.create())

  return {
    caCert: ca.cert,
    cert: forge.pki.certificateToPem(cert),
    key: forge.pki.privateKeyToPem(leaf.privateKey),
    caKey: ca.key,
  }
}

export const CERT_FILES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const

/** Writes `ca.crt`, `tls.crt`, `tls.key` (mode 0600) into `dir`, creating it. */
export function writeCertificates(dir: string, b: CertificateBundle): void {
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, CERT_FILES.ca), b.caCert)
  writeFileSync(join(dir, CERT_FILES.cert), b.cert)
  const keyPath = join(dir, CERT_FILES.key)
  writeFileSync(keyPath, b.key, { mode: 0o600 })
  chmodSync(keyPath, 0o600)
}

export function certificatesExist(dir: string): boolean {
  return Object.values(CERT_FILES).every((f) => existsSync(join(dir, f)))
}

/** base64 of the PEM CA in `dir`, for a webhook configuration's `caBundle`. @throws when ca.crt is missing. */
export function caBundle(dir: string): string {
  return readFileSync(join(dir, CERT_FILES.ca)).toString('base64')
}
