/**
 * The built command line (`dist/cli.js`, built by `npm test`'s pretest): serve from a fresh
 * directory with generated certs, certs, analyze exit codes and JSON output.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { parseAllDocuments } from 'yaml'
import { freePort, get, post, review, runCli, tempDir, tlsAgent, virtualService } from './helpers.js'

const CLI = 'dist/cli.js'

function cli(args: string[], cwd?: string) {
  const r = spawnSync(process.execPath, [join(process.cwd(), CLI), ...args], { encoding: 'utf8', cwd: cwd ?? process.cwd(), timeout: 60_000 })
  return { code: r.status, stdout: r.stdout, stderr: r.stderr }
}


t.test('serve: fresh directory, dev certs generated, /readyz 200 within 10 s, IST0109 denied, SIGTERM exits', async (t) => {
  t.ok(existsSync(CLI), 'dist/cli.js is built')
  const dir = tempDir(t)
  const port = await freePort()
  const started = Date.now()
  const child: ChildProcess = spawn(process.execPath, [join(process.cwd(), CLI), 'serve', '--generate-certs', '--port', String(port), '--log-level', 'warn'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr!.on('data', (d) => (stderr += d))
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let agent
  let ready = false
  // waits for the condition (a loaded machine may take a while); speed is the bench's business
  while (Date.now() - started < 120_000 && !ready) {
    await new Promise((r) => setTimeout(r, 100))
    if (!existsSync(join(dir, 'certs/ca.crt'))) continue
    agent ??= tlsAgent(readFileSync(join(dir, 'certs/ca.crt')))
    ready = await get(agent, `https://127.0.0.1:${port}/readyz`).then((r) => r.status === 200, () => false)
  }
  t.ok(ready, `ready (after ${Date.now() - started} ms) ${stderr}`)
  t.equal(statSync(join(dir, 'certs/tls.key')).mode & 0o777, 0o600, 'tls.key is 0600')
  const url = `https://127.0.0.1:${port}/validate`
  t.equal((await post(agent!, url, review(virtualService('default', 'reviews', ['reviews'])))).body.response.allowed, true)
  const denied = await post(agent!, url, review(virtualService('default', 'reviews-conflict', ['reviews'])))
  t.equal(denied.body.response.allowed, false)
  t.match(denied.body.response.status.message, /IST0109.*VirtualService default\/reviews\b/)
  await agent!.close()
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'exits 0 on SIGTERM')
})

t.test('serve refuses a missing certificate with a clear error that says how to make one', async (t) => {
  const dir = tempDir(t)
  const r = await runCli(['serve', '--port', '0'], { cwd: dir })
  t.equal(r.code, 2)
  t.match(r.stderr, /cannot start: .*certs\/tls\.crt not found: make a serving certificate with `routeguard certs --out certs`/)
  t.match(r.stderr, /--generate-certs/)
})

t.test('serve: a --state file that cannot be read is an error, not an empty view', async (t) => {
  const dir = tempDir(t)
  t.equal((await runCli(['certs', '--out', 'certs'], { cwd: dir })).code, 0)
  const r = await runCli(['serve', '--port', '0', '--state', 'no-such-state.yaml'], { cwd: dir })
  t.equal(r.code, 2)
  t.match(r.stderr, /cannot start: --state: no-such-state\.yaml: cannot read: ENOENT/)
  writeFileSync(join(dir, 'broken.yaml'), 'kind: VirtualService\nmetadata: {name: a\n')
  const b = await runCli(['serve', '--port', '0', '--state', 'broken.yaml'], { cwd: dir })
  t.equal(b.code, 2, 'a document that does not parse too')
  t.match(b.stderr, /--state: broken\.yaml:\d+: /)
})

t.test('serve inside a Pod without a service-account token: exits with the reason instead of serving standalone', async (t) => {
  const dir = tempDir(t)
  t.equal(cli(['certs', '--out', 'certs'], dir).code, 0)
  const env = { ...process.env, KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' }
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [join(process.cwd(), CLI), ...args], { encoding: 'utf8', cwd: dir, env, timeout: 60_000 })
    return { code: r.status, stderr: r.stderr }
  }
  const r = run(['serve', '--port', '0'])
  t.equal(r.code, 2)
  t.match(r.stderr, /running in a Pod \(KUBERNETES_SERVICE_HOST is set\) but the service-account token \/var\/run\/secrets\/kubernetes\.io\/serviceaccount\/token: it cannot be read/)
  t.match(r.stderr, /--kubeconfig|--standalone/)
  // --standalone says it is meant: it gets past the token check (and here stops at a bad --state)
  const s = run(['serve', '--port', '0', '--standalone', '--state', 'missing.yaml'])
  t.equal(s.code, 2)
  t.match(s.stderr, /--state: missing\.yaml/)
  t.notMatch(s.stderr, /service-account token/)
})

t.test('certs: writes ca.crt, tls.crt, tls.key (0600); --ca-bundle; --patch-manifests', async (t) => {
  const dir = tempDir(t)
  const r = await runCli(['certs', '--out', join(dir, 'c'), '--service', 'rg', '--namespace', 'ops'])
  t.equal(r.code, 0, r.stderr)
  for (const f of ['ca.crt', 'tls.crt', 'tls.key']) t.ok(existsSync(join(dir, 'c', f)), f)
  t.equal(statSync(join(dir, 'c/tls.key')).mode & 0o777, 0o600)
  const { X509Certificate } = await import('node:crypto')
  const leaf = new X509Certificate(readFileSync(join(dir, 'c/tls.crt')))
  const ca = new X509Certificate(readFileSync(join(dir, 'c/ca.crt')))
  t.ok(leaf.verify(ca.publicKey), 'signed by the CA')
  for (const n of ['rg', 'rg.ops', 'rg.ops.svc', 'rg.ops.svc.cluster.local', 'localhost']) t.equal(leaf.checkHost(n), n, `SAN ${n}`)
  t.equal(leaf.checkIP('127.0.0.1'), '127.0.0.1')
  t.ok(Date.parse(ca.validTo) - Date.now() > 9 * 365 * 86_400_000, 'CA valid ~10 years')
  const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000
  t.ok(days > 360 && days < 370, 'serving cert valid 1 year')
  t.equal((await runCli(['certs', '--out', join(dir, 'c')])).code, 2, 'no silent overwrite')
  const bundle = await runCli(['certs', '--out', join(dir, 'c'), '--ca-bundle'])
  t.equal(bundle.stdout.trim(), readFileSync(join(dir, 'c/ca.crt')).toString('base64'))
  copyFileSync('manifests/base/webhooks.yaml', join(dir, 'webhooks.yaml'))
  const p = await runCli(['certs', '--out', join(dir, 'c'), '--patch-manifests', join(dir, 'webhooks.yaml')])
  t.equal(p.code, 0, p.stderr)
  const docs = parseAllDocuments(readFileSync(join(dir, 'webhooks.yaml'), 'utf8')).map((d) => d.toJS())
  t.equal(docs.length, 2)
  for (const d of docs) t.equal(d.webhooks[0].clientConfig.caBundle, bundle.stdout.trim(), `${d.kind} caBundle set`)
})

t.test('analyze: text with file:line, exit 1 on errors, 0 when clean', async (t) => {
  const r = cli(['analyze', 'test/fixtures/rules/rg0103.yaml'])
  t.equal(r.code, 1)
  t.match(r.stdout, /^Error \[RG0103\] \(HTTPRoute team-b\/api-b test\/fixtures\/rules\/rg0103\.yaml:\d+\) /m, "istioctl's layout")
  const clean = cli(['analyze', 'test/fixtures/clean.yaml'])
  t.equal(clean.code, 0, clean.stderr)
  t.equal(clean.stdout, '', 'nothing to report')
})

t.test('analyze as istioctl users know it: --suppress, thresholds, RG0302 hidden, -o yaml, stdin, --version, empty input', async (t) => {
  const f = 'test/fixtures/rules/ist0109.yaml'
  const base = (await runCli(['analyze', f]))
  t.equal(base.code, 1)
  t.match(base.stdout, /Error \[IST0109\] \(VirtualService default\/reviews /)
  t.match(base.stderr, /finding\(s\) in \d+ object\(s\): \d+ error\(s\), \d+ warning\(s\), \d+ info/, 'a summary line by level')
  t.notMatch(base.stdout, /RG0302/, 'RG0302 is hidden by default')
  t.match((await runCli(['analyze', '--migration', f])).stdout, /Info \[RG0302\]/, '--migration shows it')
  t.match((await runCli(['analyze', '--output-threshold', 'Info', f])).stdout, /Info \[RG0302\]/, 'so does --output-threshold Info')

  const all = (await runCli(['analyze', '--suppress', 'IST0109', f]))
  t.notMatch(all.stdout, /IST0109/, '--suppress CODE: everywhere')
  const one = (await runCli(['analyze', '--suppress', 'IST0109=VirtualService reviews.default', f]))
  t.notMatch(one.stdout, /\[IST0109\] \(VirtualService default\/reviews /, "istioctl's Kind name.namespace")
  t.match(one.stdout, /\[IST0109\] \(VirtualService other\/reviews-fqdn /, 'others still reported')
  t.notMatch((await runCli(['analyze', '-S', 'IST0109=VirtualService */*', f])).stdout, /IST0109/, 'Kind namespace/name with wildcards')
  t.equal((await runCli(['analyze', '--suppress', 'IST0109=VirtualService', f])).code, 2, 'a resource without a name is a usage error')

  t.equal((await runCli(['analyze', '--rules', 'IST0109', '--failure-threshold', 'Error', '--suppress', 'IST0109', f])).code, 0, 'no error left: exit 0')
  t.equal((await runCli(['analyze', '--failure-threshold', 'Warning', 'test/fixtures/rules/rg0104.yaml'])).code, 1, 'a warning fails at --failure-threshold Warning')
  const quiet = (await runCli(['analyze', '--output-threshold', 'Error', 'test/fixtures/rules/istio-tls-serviceentry.yaml']))
  t.equal(quiet.stdout, '', 'warnings below --output-threshold Error are not printed')

  const yaml = (await runCli(['analyze', '-o', 'yaml', f]))
  const doc = parseAllDocuments(yaml.stdout)[0]!.toJS()
  t.ok(doc.findings.some((x: any) => x.code === 'IST0109'), '-o yaml')

  const stdin = await runCli(['analyze', '-'], { stdin: readFileSync(f, 'utf8') })
  t.equal(stdin.code, 1, '- reads standard input')
  t.match(stdin.stdout, /Error \[IST0109\] \(VirtualService default\/reviews <stdin>:6\)/)

  t.match((await runCli(['--version'])).stdout, /^\d+\.\d+\.\d+/, '--version')

  const dir = tempDir(t)
  const empty = (await runCli(['analyze', dir]))
  t.equal(empty.code, 2, 'an empty folder is an error, not a green run')
  t.match(empty.stderr, /no Kubernetes objects in/)
  writeFileSync(join(dir, 'notes.txt'), 'hello')
  t.equal((await runCli(['analyze', dir])).code, 2, 'no YAML files: an error')
  writeFileSync(join(dir, 'SHOUTING.YAML'), readFileSync(f, 'utf8'))
  t.equal((await runCli(['analyze', dir])).code, 1, 'an upper-case .YAML is read')
})

t.test('analyze: the line of the field, not of the document; List items at their own line', async (t) => {
  const dir = tempDir(t)
  const text = [
    'apiVersion: v1',
    'kind: List',
    'items:',
    '  - apiVersion: networking.istio.io/v1',
    '    kind: VirtualService',
    '    metadata: {name: ratings, namespace: lines}',
    '    spec:',
    '      hosts: [ratings]',
    '      http:',
    '        - route:',
    '            - destination: {host: ratings, subset: v1}',
    '        - route:',
    '            - destination:',
    '                host: ratings',
    '                subset: v9',
    '  - apiVersion: networking.istio.io/v1',
    '    kind: DestinationRule',
    '    metadata: {name: ratings, namespace: lines}',
    '    spec:',
    '      host: ratings',
    '      subsets: [{name: v1, labels: {version: v1}}]',
    '',
  ].join('\n')
  writeFileSync(join(dir, 'list.yaml'), text)
  const r = (await runCli(['analyze', '-o', 'json', join(dir, 'list.yaml')]))
  const findings = JSON.parse(r.stdout).findings as { code: string; message: string; path?: string; source: { line: number } }[]
  const v9 = findings.find((f) => f.code === 'IST0101' && f.message.includes('v9'))
  t.ok(v9, 'the missing subset v9 is found')
  t.equal(v9?.path, 'spec.http[1].route[0].destination')
  t.equal(v9?.source.line, 13, 'line 13: the destination of http[1].route[0], not line 4 where the item starts')
  const text2 = (await runCli(['analyze', join(dir, 'list.yaml')]))
  t.match(text2.stdout, new RegExp(`Error \\[IST0101\\] \\(VirtualService lines/ratings ${join(dir, 'list.yaml').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:13\\) .*v9`))
  const whole = findings.filter((f) => !f.path)
  for (const f of whole) t.equal(f.source.line, 4, `${f.code} without a field: the item's line`)
})

t.test('analyze --config: the webhook\'s policy decides levels and the exit code, as at admission', async (t) => {
  const dir = tempDir(t)
  const f = 'test/fixtures/rules/ist0109.yaml'
  const write = (name: string, text: string) => {
    writeFileSync(join(dir, name), text)
    return join(dir, name)
  }
  const plain = (await runCli(['analyze', '--rules', 'IST0101', f]))
  t.equal(plain.code, 1, 'without --config: IST0101 is an Error (Istio\'s level) and fails')
  const dflt = (await runCli(['analyze', '--rules', 'IST0101', '--config', write('empty.yaml', 'rules: {}\n'), f]))
  t.equal(dflt.code, 0, dflt.stderr)
  t.match(dflt.stdout, /^Warning \[IST0101\]/m, 'with the default policy IST0101 warns, as at admission')
  t.notMatch(dflt.stdout, /^Error/m)
  const deny = (await runCli(['analyze', '--rules', 'IST0101', '--config', write('deny.yaml', 'rules: {IST0101: deny}\n'), f]))
  t.equal(deny.code, 1, 'rules: {IST0101: deny} fails CI as it denies')
  const off = (await runCli(['analyze', '--config', write('off.yaml', 'rules: {IST0109: off}\n'), f]))
  t.notMatch(off.stdout, /IST0109/, 'off: not shown')
  const exempt = await runCli(['analyze', '--rules', 'IST0109', '--config', write('exempt.yaml', 'exemptNamespaces: [default]\n'), f])
  t.notMatch(exempt.stdout, /\(VirtualService default\//, 'exempt namespaces: nothing about their objects')
  t.match(exempt.stdout, /\(VirtualService other\/reviews-fqdn/, 'the other side is still judged')
  const exc = await runCli(['analyze', '--rules', 'IST0109', '--config', write('exc.yaml', 'exceptions:\n  - name: cut-over\n    codes: [IST0109]\n    namespaces: [default, other]\n    expires: "2999-01-01T00:00:00Z"\n'), f])
  t.notMatch(exc.stdout, /^Error \[IST0109\] \(VirtualService (default|other)\//m, 'an active exception makes the deny a warning')
  t.match(exc.stdout, /^Warning \[IST0109\] \(VirtualService default\/reviews /m)
  const expired = await runCli(['analyze', '--rules', 'IST0109', '--config', write('expired.yaml', 'exceptions:\n  - name: old\n    codes: [IST0109]\n    expires: "2020-01-01T00:00:00Z"\n'), f])
  t.equal(expired.code, 1, 'an expired exception lets nothing through')
  const bad = (await runCli(['analyze', '--config', write('bad.yaml', 'rules: {IST0109: maybe}\n'), f]))
  t.equal(bad.code, 2, 'an invalid config is a usage error')
  t.match(bad.stderr, /IST0109/)
  t.equal((await runCli(['analyze', '--config', join(dir, 'missing.yaml'), f])).code, 2, 'a missing config file is an error')
})

t.test('an object defined twice in the input is an error naming both places (analyze, convert, trace)', async (t) => {
  const dir = tempDir(t)
  const vs = (subset: string) => `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: dup}\nspec:\n  hosts: [reviews]\n  http: [{route: [{destination: {host: reviews, subset: ${subset}}}]}]\n`
  writeFileSync(join(dir, 'a.yaml'), vs('v1'))
  writeFileSync(join(dir, 'b.yaml'), `# the other variant\n${vs('v2')}`)
  for (const args of [['analyze', dir], ['convert', dir], ['trace', dir, '--from', 'dup', '--url', 'http://reviews/']]) {
    const r = cli(args)
    t.equal(r.code, 2, `${args[0]}: exit 2`)
    t.match(r.stderr, new RegExp(`VirtualService dup/reviews is defined 2 times: .*a\\.yaml:1, .*b\\.yaml:2; keep one`), `${args[0]}: names both files and lines`)
  }
})

t.test('analyze -o sarif validates against the SARIF 2.1.0 schema', async (t) => {
  const mod = (await import('ajv-draft-04')) as unknown as { default: new (o: object) => import('ajv').default }
  const AjvDraft04 = mod.default
  const schema = JSON.parse(readFileSync('node_modules/@microsoft/jest-sarif/lib/schemas/sarif-2.1.0-rtm.5.json', 'utf8'))
  const ajv = new AjvDraft04({ allErrors: true, strict: false, validateFormats: false, unicodeRegExp: false })
  const validate = ajv.compile(schema)
  t.notOk(validate({ version: '2.1.0', runs: [{ tool: { driver: {} } }] }), 'the schema rejects a driver without a name (so a pass means something)')

  const r = (await runCli(['analyze', '-o', 'sarif', '--migration', 'test/fixtures/rules/ist0109.yaml', 'test/fixtures/rules/rg0103.yaml']))
  t.equal(r.code, 1, 'exit codes as for text')
  const log = JSON.parse(r.stdout)
  t.ok(validate(log), JSON.stringify(validate.errors?.slice(0, 3)))
  t.equal(log.version, '2.1.0')
  const run = log.runs[0]
  t.equal(run.tool.driver.name, 'routeguard')
  t.ok(run.results.length > 10)
  const ids = run.tool.driver.rules.map((x: { id: string }) => x.id)
  for (const res of run.results) {
    t.equal(ids[res.ruleIndex], res.ruleId, `${res.ruleId}: ruleIndex points at its rule`)
    t.ok(['error', 'warning', 'note'].includes(res.level))
  }
  const conflict = run.results.find((x: any) => x.ruleId === 'IST0109')
  t.match(conflict.locations[0].physicalLocation, { artifactLocation: { uri: 'test/fixtures/rules/ist0109.yaml' }, region: { startLine: 6 } }, 'relative file and the line')
  t.ok(run.results.some((x: any) => x.level === 'note'), 'info findings are notes')
})

t.test('analyze -o json: findings with source file and line; --rules filters', async (t) => {
  const r = (await runCli(['analyze', '-o', 'json', '--rules', 'IST0109', 'test/fixtures/rules']))
  t.equal(r.code, 1)
  const out = JSON.parse(r.stdout)
  t.ok(out.findings.length > 0)
  for (const f of out.findings) {
    t.equal(f.code, 'IST0109')
    t.match(f.source, { file: 'test/fixtures/rules/ist0109.yaml', line: Number })
    t.match(f, { name: String, severity: 'error', resource: { kind: 'VirtualService' }, message: String, related: Array })
  }
  const first = out.findings.find((f: any) => f.resource.name === 'reviews')
  t.equal(first.path, 'spec.hosts')
  t.equal(first.source.line, 6, 'the line of the field (spec.hosts), not of the object (2)')
})

t.test('analyze: a broken document is reported with file:line, the rest still analysed, exit 2', async (t) => {
  const dir = tempDir(t)
  const a = virtualService('default', 'a', ['x'])
  const b = virtualService('default', 'b', ['x'])
  writeFileSync(join(dir, 'mixed.yaml'), `${JSON.stringify(a)}\n---\nkind: [broken\n---\n${JSON.stringify(b)}\n`)
  const r = (await runCli(['analyze', join(dir, 'mixed.yaml')]))
  t.equal(r.code, 2)
  t.match(r.stderr, /mixed\.yaml:[34]: /, 'points into the broken document (lines 3-4)')
  t.match(r.stdout, /IST0109/, 'the good documents were analysed')
  t.equal((await runCli(['analyze', join(dir, 'nope.yaml')])).code, 2, 'unreadable path')
  t.equal((await runCli(['analyze', '--rules', 'XX1', join(dir, 'mixed.yaml')])).code, 2, 'unknown rule')
  t.equal((await runCli(['analyze'])).code, 2, 'usage error')
  t.equal((await runCli(['--help'])).code, 0)
})
