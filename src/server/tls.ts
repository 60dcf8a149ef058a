/**
 * Serving certificate and key from files, reloaded when they change. Watches the directory (a
 * mounted Secret swaps its `..data` symlink rather than writing the files), debounces, checks
 * the new pair (parses, key matches certificate) and only then swaps it into the TLS server with
 * `setSecureContext`: new handshakes get the new certificate, open connections keep theirs.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto'
import { type FSWatcher, readFileSync, watch } from 'node:fs'
import { dirname } from 'node:path'
import type { Server as TlsServer } from 'node:tls'

export interface KeyPair {
  cert: Buffer
  key: Buffer
}

/**
 * TLS 1.2 cipher suites the server accepts: ECDHE key exchange (forward secrecy) with AEAD
 * ciphers only, Mozilla's "intermediate" profile without its DHE suites. TLS 1.3 suites are
 * all AEAD and are left at Node's defaults. No CBC, no SHA-1, no static RSA key exchange.
 */
export const TLS12_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
]

/** TLS 1.3 suites (Node's defaults, named so the list is explicit). */
export const TLS13_CIPHERS = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256']

/**
 * The serving TLS options, the same at start and on every certificate reload: TLS 1.2 and 1.3,
 * the suites above; with `clientCa`, a client certificate signed by it is required (for API
 * servers configured with an admission kubeconfig that presents one).
 */
export function tlsOptions(pair: KeyPair, clientCa?: Buffer) {
  return {
    cert: pair.cert,
    key: pair.key,
    minVersion: 'TLSv1.2' as const,
    ciphers: [...TLS13_CIPHERS, ...TLS12_CIPHERS].join(':'),
    ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: true } : {}),
  }
}

/**
 * Reads and checks a certificate/key pair.
 * @throws Error saying which file is unreadable or that key and certificate do not match.
 */
export function readKeyPair(certPath: string, keyPath: string): KeyPair {
  const read = (path: string) => {
    try {
      return readFileSync(path)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e
      throw new Error(
        `${path} not found: make a serving certificate with \`routeguard certs --out ${dirname(path) || '.'}\` (a CA and a certificate for the webhook Service), ` +
          'or start with --generate-certs (what `npm start` does) for a local development certificate; in a cluster, mount the Secret routeguard-tls (manifests/base/deployment.yaml)',
      )
    }
  }
  const cert = read(certPath)
  const key = read(keyPath)
  let x509: X509Certificate
  try {
    x509 = new X509Certificate(cert)
  } catch (e) {
    throw new Error(`${certPath}: not a PEM certificate (${(e as Error).message})`)
  }
  let pk
  try {
    pk = createPrivateKey(key)
  } catch (e) {
    throw new Error(`${keyPath}: not a PEM private key (${(e as Error).message})`)
  }
  if (!x509.checkPrivateKey(pk)) throw new Error(`${keyPath} does not belong to ${certPath}`)
  return { cert, key }
}

export class CertReloader {
  private watchers: FSWatcher[] = []
  private timer: NodeJS.Timeout | undefined
  /** fingerprint of the pair in use */
  current: string
  /** when the serving certificate in use expires (`notAfter`), ms since the epoch */
  notAfterMs: number

  constructor(
    private readonly certPath: string,
    private readonly keyPath: string,
    initial: KeyPair,
    private readonly log: { info: (o: object, m: string) => void; warn: (o: object, m: string) => void },
    private readonly debounceMs = 200,
    private readonly clientCa?: Buffer,
  ) {
    const x509 = new X509Certificate(initial.cert)
    this.current = x509.fingerprint256
    this.notAfterMs = Date.parse(x509.validTo)
  }

  /** Starts watching; `server` gets each new valid pair. */
  start(server: TlsServer): void {
    const dirs = new Set([dirname(this.certPath), dirname(this.keyPath)])
    for (const d of dirs) {
      const w = watch(d, () => this.schedule(server))
      w.on('error', (e) => this.log.warn({ err: e.message, dir: d }, 'certificate directory watch failed'))
      this.watchers.push(w)
    }
  }

  private schedule(server: TlsServer): void {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.reload(server), this.debounceMs)
    this.timer.unref()
  }

  /** Loads the files now; keeps the old pair when the new one is incomplete or invalid. */
  reload(server: TlsServer): boolean {
    let pair: KeyPair
    try {
      pair = readKeyPair(this.certPath, this.keyPath)
    } catch (e) {
      // during a rotation the two files may briefly not match; the next event retries
      this.log.warn({ err: (e as Error).message }, 'certificate reload skipped')
      return false
    }
    const x509 = new X509Certificate(pair.cert)
    const fp = x509.fingerprint256
    if (fp === this.current) return false
    server.setSecureContext(tlsOptions(pair, this.clientCa))
    this.current = fp
    this.notAfterMs = Date.parse(x509.validTo)
    this.log.info({ fingerprint: fp }, 'serving certificate reloaded')
    return true
  }

  stop(): void {
    clearTimeout(this.timer)
    for (const w of this.watchers) w.close()
    this.watchers = []
  }
}
