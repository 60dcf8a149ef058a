/**
 * The server suite (test/server.test.ts) again over HTTP/2: the test clients speak h2 (Node's
 * http2 client, ALPN h2) to the same port that serves HTTP/1.1.
 */
process.env.ROUTEGUARD_TEST_HTTP = 'h2'
await import('./server.test.js')
