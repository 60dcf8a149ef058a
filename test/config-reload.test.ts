/**
 * `--config` is reloaded when it changes, without a restart; an invalid new file keeps the last
 * good one (ERROR log, routeguard_config_valid 0, a Warning Event on the Pod in cluster mode).
 */
import * as k8s from '@kubernetes/client-node'
import { renameSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import t from 'tap'
import { loadConfig } from '../src/config/config.js'
import { FakeApiServer } from './fake-apiserver.js'
import { eventually, get, post, review, startTestServer, tempDir, virtualService } from './helpers.js'

/** Writes `text` the way a ConfigMap volume changes: a new file renamed over the old one. */
function replace(path: string, text: string): void {
  writeFileSync(`${path}.tmp`, text)
  renameSync(`${path}.tmp`, path)
}

const conflict = () => review(virtualService('default', 'reviews-2', ['reviews']), { dryRun: true })

t.test('a changed config is in use for the next review; an invalid one keeps the last good one', async (t) => {
  const dir = tempDir(t)
  const path = join(dir, 'config.yaml')
  writeFileSync(path, 'rules:\n  IST0109: warn\n')
  const s = await startTestServer(t, { config: loadConfig(path), configPath: path })
  t.equal((await post(s.agent, `${s.url}/validate`, review(virtualService('default', 'reviews', ['reviews'])))).body.response.allowed, true)
  t.equal((await post(s.agent, `${s.url}/validate`, conflict())).body.response.allowed, true, 'IST0109: warn, as the file says')

  replace(path, 'rules:\n  IST0109: deny\n')
  t.ok(await eventually(async () => (await post(s.agent, `${s.url}/validate`, conflict())).body.response.allowed === false), 'after the file changed: deny, no restart')

  replace(path, 'rules:\n  IST0109: block-it\n')
  const metric = async (re: RegExp) => re.test((await get(s.agent, `${s.url}/metrics`)).text)
  t.ok(await eventually(() => metric(/^routeguard_config_valid 0$/m)), 'an invalid file: routeguard_config_valid 0')
  t.ok(await metric(/routeguard_config_reloads_total\{result="failure"\} 1/))
  t.equal((await post(s.agent, `${s.url}/validate`, conflict())).body.response.allowed, false, 'the last good config (deny) stays')

  replace(path, 'rules:\n  IST0109: warn\n')
  t.ok(await eventually(() => metric(/^routeguard_config_valid 1$/m)), 'valid again')
  t.ok(await eventually(async () => (await post(s.agent, `${s.url}/validate`, conflict())).body.response.allowed === true))
})

t.test('cluster mode: a refused config is a Warning Event on the Pod', async (t) => {
  const api = new FakeApiServer()
  await api.start()
  t.teardown(() => api.stop())
  const kc = new k8s.KubeConfig()
  kc.loadFromString(JSON.stringify(api.kubeconfig()))
  const saved = { ns: process.env.POD_NAMESPACE, name: process.env.POD_NAME }
  process.env.POD_NAMESPACE = 'routeguard-system'
  process.env.POD_NAME = 'routeguard-7d9f-abcde'
  t.teardown(() => {
    process.env.POD_NAMESPACE = saved.ns
    process.env.POD_NAME = saved.name
    if (saved.ns === undefined) delete process.env.POD_NAMESPACE
    if (saved.name === undefined) delete process.env.POD_NAME
  })
  const dir = tempDir(t)
  const path = join(dir, 'config.yaml')
  writeFileSync(path, 'exemptNamespaces: [sandbox]\n')
  const s = await startTestServer(t, { kubeConfig: kc, config: loadConfig(path), configPath: path })
  t.ok(await eventually(async () => (await get(s.agent, `${s.url}/readyz`)).status === 200))
  replace(path, 'exemptNamespaces: sandbox\nunknownKey: 1\n')
  const event = await eventually(() => api.list('', 'events').find((e: any) => e.reason === 'ConfigInvalid'))
  t.ok(event, 'a ConfigInvalid Event')
  t.match((event as any)?.involvedObject, { kind: 'Pod', name: 'routeguard-7d9f-abcde', namespace: 'routeguard-system' })
  t.match((event as any)?.message, /last good configuration stays in use: .*unknownKey: unknown key/)
})
