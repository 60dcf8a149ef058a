/**
 * The README's quick start and examples, run as written (issue #17, item 9): every ```sh block of
 * the Quick start and Command line sections. `npm start` runs package.json's start script (the build is pretest's;
 * a second tsc here would rewrite dist/ under the other test files), on a free port instead of
 * 8443 (the commands' URLs follow), in a scratch directory that links the clone's files, so
 * `certs/` is the scratch one. Each command's output must hold what the `# ` lines after it show:
 * the text between the `…` elisions, with the line breaks of the README taken out.
 * `npm ci && npm test` is the command running this test, so it is not run again. The deploy
 * section (docker, kubectl) is checked by conformance/manifests.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, readFileSync, symlinkSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import t from 'tap'
import { eventually, tempDir } from './helpers.js'

interface Step {
  command: string
  expected: string[]
}

const readme = readFileSync('README.md', 'utf8')
/** The text of a `## ` section. */
const section = (title: string) => readme.slice(readme.indexOf(title), readme.indexOf('\n## ', readme.indexOf(title) + 5))
const blocks = ['## Quick start', '## Command line'].flatMap((title) => [...section(title).matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!))

/** Commands (continuation lines joined) and the `# ` lines that follow each. */
export function steps(block: string): Step[] {
  const out: Step[] = []
  const lines = block.split('\n')
  // `# ` lines right after a command (or after its output) are its output; after a blank line, prose
  let output = false
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (!line.trim()) {
      output = false
      continue
    }
    if (line.startsWith('#')) {
      if (output) out.at(-1)!.expected.push(line.replace(/^#\s?/, ''))
      continue
    }
    let command = line
    while (command.endsWith('\\')) command = `${command.slice(0, -1)}${lines[++i]!.trim()}`
    out.push({ command, expected: [] })
    output = true
  }
  return out
}

/** The pieces of the expected output between `…`, with the README's line breaks taken out. */
export function pieces(expected: string[]): string[] {
  return expected
    .join(' ')
    .split('…')
    .map((p) => p.replace(/\s+/g, ' ').replace(/([,{[:]) "/g, '$1"').trim().replace(/^[,\s]+|[,\s]+$/g, ''))
    .filter((p) => p.replace(/[{}[\]",:\s]/g, '').length >= 3)
}

async function freePort(): Promise<number> {
  return new Promise((res) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => res(port))
    })
  })
}

function run(command: string, cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((res) => {
    const c = spawn('bash', ['-c', command], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    c.stdout.on('data', (d) => (stdout += d))
    c.stderr.on('data', (d) => (stderr += d))
    c.on('close', (code) => res({ code, stdout, stderr }))
  })
}

t.test('the parser reads commands and their output (so a pass means something)', async (t) => {
  const s = steps('# prose\ncurl a \\\n  b\n# {"x":1,\n#  "y":"two words"} …\n\n# more prose\n# and more\nnode c\n')
  t.same(s, [
    { command: 'curl a b', expected: ['{"x":1,', ' "y":"two words"} …'] },
    { command: 'node c', expected: [] },
  ])
  t.same(pieces(s[0]!.expected), ['{"x":1,"y":"two words"}'])
  t.ok(blocks.length >= 4, 'start, test, examples, more examples, analyze')
})

t.test('README quick start and examples, as written', async (t) => {
  const dir = tempDir(t)
  for (const f of ['dist', 'node_modules', 'package.json', 'examples', 'test', 'manifests']) symlinkSync(resolve(f), join(dir, f))
  const port = await freePort()
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }
  let server: ChildProcess | undefined
  t.teardown(() => {
    server?.kill('SIGTERM')
  })
  let checked = 0
  for (const block of blocks) {
    for (const step of steps(block)) {
      if (step.command === 'npm ci && npm test') {
        t.equal(pkg.scripts.test, 'tap', 'npm test runs tap (this suite)')
        continue
      }
      if (step.command === 'npm ci && npm start') {
        t.ok(existsSync('package-lock.json'), 'npm ci has a lockfile to install from')
        server = spawn('bash', ['-c', `${pkg.scripts.start} --port ${port}`], { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] })
        let log = ''
        server.stdout!.on('data', (d) => (log += d))
        const up = await eventually(async () => (await run(`curl -s --cacert certs/ca.crt https://127.0.0.1:${port}/readyz`, dir)).stdout.includes('"ready"') || (await run(`curl -s -o /dev/null -w '%{http_code}' --cacert certs/ca.crt https://127.0.0.1:${port}/readyz`, dir)).stdout === '200')
        t.ok(up, 'npm start: the webhook answers /readyz over TLS with the certificates it made in certs/')
        t.ok(await eventually(() => log.includes('generated a development CA and serving certificate')), 'npm start says it generated certificates')
        t.match(log, /certs\/ca\.crt, certs\/tls\.crt, certs\/tls\.key/, 'and where')
        continue
      }
      const command = step.command.replaceAll('127.0.0.1:8443', `127.0.0.1:${port}`)
      const r = await run(command, dir)
      t.not(r.code, 127, `${step.command}: runs (${r.stderr.slice(0, 200)})`)
      if (command.startsWith('curl')) t.equal(r.code, 0, `${step.command}: curl succeeds`)
      // the README's output lines are compared with line breaks taken out on both sides, and
      // JSON's spaces before a string (`{ "a": "b" }` as `{"a":"b"}`) on both sides alike
      const flat = r.stdout.replace(/\s+/g, ' ').replace(/([,{[:]) "/g, '$1"')
      // (pretty-printed JSON, `-o json`, is compared without any whitespace)
      const found = (piece: string) => flat.includes(piece) || (/[{}[\]]/.test(piece) && flat.replace(/\s/g, '').includes(piece.replace(/\s/g, '')))
      for (const piece of pieces(step.expected)) {
        t.ok(found(piece), `${step.command}\n  prints ${JSON.stringify(piece.slice(0, 120))}${found(piece) ? '' : `\n  got ${r.stdout.slice(0, 600)}`}`)
        checked++
      }
      const redirect = /> (\S+)$/.exec(command)
      if (redirect) t.ok(readFileSync(join(dir, redirect[1]!), 'utf8').length > 0, `${step.command}: writes ${redirect[1]}`)
    }
  }
  t.ok(server, 'the quick start starts the webhook')
  t.ok(checked >= 10, `${checked} documented outputs compared`)
})

t.test('the README holds on a fresh clone: the paths it names ship with the repo', async (t) => {
  const quick = section('## Quick start')
  // every `npm start -- …` and `routeguard …`/`node dist/cli.js …` command in prose names files the clone has
  const commands = [...readme.matchAll(/`((?:npm start --|node dist\/cli\.js) [^`]+)`/g)].map((m) => m[1]!)
  t.ok(commands.some((c) => c.includes('--state')), 'the --state tip is checked')
  for (const c of commands) {
    for (const arg of c.split(/\s+/).filter((a) => /\.(ya?ml|json)$/.test(a))) {
      // only paths inside the clone are looked at; one outside it is the failure itself
      t.notOk(arg.startsWith('..') || arg.startsWith('/'), `${c}: ${arg} is a path inside the clone`)
      t.ok(!arg.startsWith('..') && !arg.startsWith('/') && existsSync(arg), `${c}: ${arg} is in the clone`)
    }
  }
  t.match(quick, /`npm ci` removes `node_modules`/, 'the quick start warns that npm ci under a running server removes its modules')
  t.match(quick, /Node 20 and Node 24/, 'and says which Node versions are tested')
})

t.test('the README says what analyze prints: the summary line on stderr in every format', async (t) => {
  t.match(readme, /A summary line on stderr counts the findings by level,\s+in every output format/)
  const { runCli } = await import('./helpers.js')
  for (const format of ['text', 'json', 'yaml', 'sarif']) {
    const r = await runCli(['analyze', '-o', format, 'test/fixtures/rules/ist0109.yaml'])
    t.match(r.stderr, /^\d+ finding\(s\) in \d+ object\(s\): \d+ error\(s\)/m, `-o ${format}: summary on stderr`)
    t.notMatch(r.stdout, /finding\(s\) in/, `-o ${format}: stdout is the document alone`)
  }
})

t.test('engines and the dependency tree agree (no EBADENGINE on a supported Node)', async (t) => {
  const semver = (await import('semver')).default
  const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } }
  const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as { packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }> }
  // the lowest release of each major line `engines` admits
  const lowest = pkg.engines.node.split('||').map((r) => semver.minVersion(r.trim())!.version)
  t.same(lowest, ['20.19.0', '22.12.0', '24.0.0'], 'engines admits 20.19, 22.12 and 24')
  const refused: string[] = []
  for (const [path, p] of Object.entries(lock.packages)) {
    const range = p.engines && !Array.isArray(p.engines) ? p.engines.node : undefined
    if (!path || !range) continue
    for (const v of lowest) if (!semver.satisfies(v, range)) refused.push(`${path} wants node ${range}, not ${v}`)
  }
  t.same(refused, [], 'every installed package runs on every Node that engines admits')
})
