/**
 * A small HTTP/2 client on Node's `http2` module, for the tests that run the server suite over
 * HTTP/2 (ALPN `h2`): one session per origin, reused, as the API server's Go client does.
 */
import { connect, constants, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2'

export interface H2Response {
  status: number
  headers: IncomingHttpHeaders
  text: string
}

export class H2Client {
  private readonly sessions = new Map<string, ClientHttp2Session>()

  constructor(private readonly ca: Buffer) {}

  /** The session for `origin`, opened on first use; refuses anything but ALPN h2. */
  session(origin: string): ClientHttp2Session {
    let s = this.sessions.get(origin)
    if (s && !s.closed && !s.destroyed) return s
    s = connect(origin, { ca: this.ca, ALPNProtocols: ['h2'] })
    s.on('error', () => {})
    s.once('close', () => {
      if (this.sessions.get(origin) === s) this.sessions.delete(origin)
    })
    // a session the server sent GOAWAY on takes no new stream: the next request opens another
    s.once('goaway', () => {
      if (this.sessions.get(origin) === s) this.sessions.delete(origin)
    })
    this.sessions.set(origin, s)
    return s
  }

  request(url: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<H2Response> {
    const u = new URL(url)
    const stream = this.session(u.origin).request({
      [constants.HTTP2_HEADER_METHOD]: o.method ?? 'GET',
      [constants.HTTP2_HEADER_PATH]: `${u.pathname}${u.search}`,
      ...o.headers,
    })
    return new Promise((resolve, reject) => {
      let headers: IncomingHttpHeaders = {}
      const chunks: Buffer[] = []
      stream.on('response', (h) => (headers = h))
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('end', () => resolve({ status: Number(headers[constants.HTTP2_HEADER_STATUS]), headers, text: Buffer.concat(chunks).toString() }))
      stream.on('error', reject)
      stream.end(o.body)
    })
  }

  async close(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => new Promise<void>((r) => (s.closed ? r() : s.close(() => r())))))
    this.sessions.clear()
  }
}
