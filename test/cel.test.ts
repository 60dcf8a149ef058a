/**
 * The Kubernetes CEL libraries on cel-js (src/crd/cel-kubernetes.ts), as the API server evaluates
 * CRD validation rules: each function with values it accepts and values it refuses, and rules
 * evaluated through celViolations on a schema, the way convert's output is validated.
 */
import t from 'tap'
import { Environment } from '@marcbachmann/cel-js'
import { registerKubernetesLibraries } from '../src/crd/cel-kubernetes.js'
import { celViolations } from '../src/crd/cel.js'

const env = registerKubernetesLibraries(new Environment({ unlistedVariablesAreDyn: true, enableOptionalTypes: true }))
const run = (expr: string, self?: unknown) => env.evaluate(expr, { self })
const fails = (expr: string) => {
  try {
    run(expr)
    return false
  } catch {
    return true
  }
}

t.test('IP and CIDR: netip with Kubernetes rules (no zones, no IPv4-mapped IPv6, no leading zeros)', async (t) => {
  for (const ok of ['1.2.3.4', '::1', '2001:db8::1', 'fe80::1', '::']) t.equal(run(`isIP("${ok}")`), true, ok)
  for (const bad of ['01.2.3.4', '1.2.3', '256.1.1.1', '::ffff:1.2.3.4', 'fe80::1%eth0', '1::2::3', 'example.com', '']) t.equal(run(`isIP("${bad}")`), false, bad)
  t.equal(run('ip("2001:db8::1").family()'), 6n)
  t.equal(run('ip("10.0.0.1").family()'), 4n)
  t.equal(run('ip.isCanonical("2001:db8::1")'), true)
  t.equal(run('ip.isCanonical("2001:DB8:0:0::1")'), false, 'upper case and unshortened are not canonical')
  t.equal(run('ip("2001:db8:0:0:1:0:0:1").string()'), '2001:db8::1:0:0:1', 'RFC 5952: the first longest zero run')
  t.equal(run('ip("127.0.0.1").isLoopback()'), true)
  t.equal(run('ip("169.254.1.1").isLinkLocalUnicast()'), true)
  t.equal(run('ip("ff02::1").isLinkLocalMulticast()'), true)
  t.equal(run('ip("10.0.0.1").isGlobalUnicast()'), true, 'private addresses are global unicast (Go)')
  t.equal(run('ip("0.0.0.0").isUnspecified()'), true)
  t.ok(fails('ip("not-an-ip")'), 'ip() of a non-IP is an error')
  t.equal(run('cidr("10.0.0.0/8").containsIP("10.255.0.1")'), true)
  t.equal(run('cidr("10.0.0.0/8").containsIP(ip("11.0.0.1"))'), false)
  t.equal(run('cidr("10.0.0.0/8").containsCIDR("10.1.0.0/16")'), true)
  t.equal(run('cidr("10.1.0.0/16").containsCIDR("10.0.0.0/8")'), false)
  t.equal(run('cidr("10.0.0.1/8").masked().string()'), '10.0.0.0/8')
  t.equal(run('cidr("2001:db8::/32").prefixLength()'), 32n)
  t.equal(run('isCIDR("10.0.0.0/33")'), false)
  t.equal(run('isCIDR("10.0.0.0/08")'), false)
})

t.test('URL: Go url.ParseRequestURI (absolute URI or absolute path)', async (t) => {
  t.equal(run('isURL("https://example.com/a?b=c")'), true)
  t.equal(run('isURL("/just/a/path")'), true)
  t.equal(run('isURL("example.com")'), false, 'no scheme and not a path')
  t.equal(run('isURL("http://exa mple.com")'), false, 'a space')
  const u = 'url("https://user@shop.example.com:8443/a%20b?x=1&x=2&y")'
  t.equal(run(`${u}.getScheme()`), 'https')
  t.equal(run(`${u}.getHost()`), 'shop.example.com:8443')
  t.equal(run(`${u}.getHostname()`), 'shop.example.com')
  t.equal(run(`${u}.getPort()`), '8443')
  t.equal(run(`${u}.getEscapedPath()`), '/a%20b')
  t.same(run(`${u}.getQuery()`), new Map([['x', ['1', '2']], ['y', ['']]]))
  t.equal(run('url("http://[::1]:80/").getHostname()'), '::1')
  t.ok(fails('url("nope")'))
})

t.test('quantity, format, lists, sets, regex find', async (t) => {
  t.equal(run('quantity("1.5Gi").isGreaterThan(quantity("1G"))'), true)
  t.equal(run('quantity("500m").asApproximateFloat()'), 0.5)
  t.equal(run('quantity("2k").asInteger()'), 2000n)
  t.equal(run('quantity("1e3").compareTo(quantity("1k"))'), 0n)
  t.equal(run('isQuantity("1.2.3")'), false)
  t.equal(run('format.dns1123Label().validate("ok-name").hasValue()'), false)
  t.equal(run('format.dns1123Label().validate("Bad_Name").hasValue()'), true)
  t.equal(run('format.named("qualifiedName").value().validate("example.com/name").hasValue()'), false)
  t.equal(run('format.named("nope").hasValue()'), false)
  t.equal(run('format.dns1123Label().validate("ok") == null'), false, 'an optional never equals null (heterogeneous equality)')
  t.equal(run('[1, 2, 2].isSorted()'), true)
  t.equal(run('[2, 1].isSorted()'), false)
  t.equal(run('[1, 2, 3].sum()'), 6n)
  t.equal(run('["b", "a"].min()'), 'a')
  t.equal(run('[1, 5, 3].max()'), 5n)
  t.equal(run('[1, 2, 1].lastIndexOf(1)'), 2n)
  t.equal(run('sets.contains([1, 2, 3], [3, 1])'), true)
  t.equal(run('sets.equivalent([1, 2], [2, 1, 1])'), true)
  t.equal(run('sets.intersects([1], [2])'), false)
  t.equal(run('"abc123def45".find("[0-9]+")'), '123')
  t.same(run('"abc123def45".findAll("[0-9]+")'), ['123', '45'])
  t.same(run('"aaa".findAll("a", 2)'), ['a', 'a'])
})

t.test('rules through celViolations: Kubernetes functions, RE2 flags, accepted and refused values', async (t) => {
  const hostnames = { type: 'array', items: { type: 'string' }, 'x-kubernetes-validations': [{ rule: 'self.all(h, !isIP(h))', message: 'Hostname must not be an IP address' }] }
  t.same(celViolations(['shop.example.com'], hostnames), [])
  t.match(celViolations(['10.0.0.1'], hostnames), [/Hostname must not be an IP address/])
  const scheme = { type: 'string', 'x-kubernetes-validations': [{ rule: 'url(self).getScheme() in ["http", "https"]', message: 'http or https' }] }
  t.same(celViolations('https://a.example.com', scheme), [])
  t.match(celViolations('ftp://a.example.com', scheme), [/http or https/])
  const method = { type: 'string', 'x-kubernetes-validations': [{ rule: 'self.matches("(?i)^[a-z]+$")', message: 'letters' }] }
  t.same(celViolations('GetUser', method), [], '(?i) is RE2 syntax')
  t.match(celViolations('get-user', method), [/letters/])
})
