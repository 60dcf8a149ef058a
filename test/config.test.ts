import t from 'tap'
import { ConfigError, parseConfig } from '../src/config/config.js'
import { actionFor, decide, DEFAULT_POLICY } from '../src/policy.js'

t.test('config file: valid document and defaults', async (t) => {
  const c = parseConfig('rules:\n  RG0103: warn\n  IST0131: deny\nexemptNamespaces: [sandbox]\nfailurePolicy: Ignore\n')
  t.same(c, { policy: { rules: { RG0103: 'warn', IST0131: 'deny' }, exemptNamespaces: ['sandbox'] }, failurePolicy: 'Ignore' })
  t.same(parseConfig(''), { policy: { rules: {}, exemptNamespaces: [] }, failurePolicy: 'Fail' })
  t.equal(parseConfig('allowExistingViolations: false').policy.allowExistingViolations, false)
  t.equal(parseConfig('allowExistingViolations: true').policy.allowExistingViolations, undefined, 'true is the default')
  t.throws(() => parseConfig('allowExistingViolations: sometimes'), /allowExistingViolations: must be boolean/)
})

t.test('config file: errors name the bad key', async (t) => {
  t.throws(() => parseConfig('rulez: {}'), new ConfigError('config: rulez: unknown key'))
  t.throws(() => parseConfig('rules: {RG9999: deny}'), /rules\.RG9999: unknown rule code/)
  t.throws(() => parseConfig('rules: {RG0103: block}'), /rules\/RG0103|rules\.RG0103: must be one of deny, warn, off/)
  t.throws(() => parseConfig('failurePolicy: Maybe'), /failurePolicy: must be one of Fail, Ignore/)
  t.throws(() => parseConfig('a: [b'), /not valid YAML/)
})

t.test('policy defaults by level', async (t) => {
  t.equal(actionFor(DEFAULT_POLICY, 'IST0109'), 'deny')
  t.equal(actionFor(DEFAULT_POLICY, 'IST0130'), 'warn')
  t.equal(actionFor(DEFAULT_POLICY, 'IST0131'), 'off')
  const f = { code: 'IST0109' as const, name: '', severity: 'error' as const, resource: { kind: 'VirtualService', namespace: 'a', name: 'b' }, message: '', related: [] }
  t.same(decide(DEFAULT_POLICY, 'a', [f]), { deny: [f], warn: [] })
  t.same(decide({ rules: { IST0109: 'off' }, exemptNamespaces: [] }, 'a', [f]), { deny: [], warn: [] })
})

t.test('manifests: the shipped ConfigMap is a valid config, mounted as a directory and passed as --config', async (t) => {
  const { readFileSync } = await import('node:fs')
  const { parse, parseAllDocuments } = await import('yaml')
  const cm = parse(readFileSync('manifests/base/config.yaml', 'utf8'))
  t.same(parseConfig(cm.data['config.yaml'], 'manifests/base/config.yaml').policy, { rules: {}, exemptNamespaces: [] })
  const dep = parseAllDocuments(readFileSync('manifests/base/deployment.yaml', 'utf8')).map((d) => d.toJS()).find((d) => d?.kind === 'Deployment')
  const c = dep.spec.template.spec.containers[0]
  t.ok(c.args.includes('--config=/etc/routeguard/config/config.yaml'))
  const mount = c.volumeMounts.find((m: any) => m.name === 'config')
  t.equal(mount.mountPath, '/etc/routeguard/config')
  t.notOk(mount.subPath, 'no subPath: the kubelet updates a directory mount atomically, a subPath never')
  t.equal(dep.spec.template.spec.volumes.find((v: any) => v.name === 'config').configMap.name, cm.metadata.name)
  t.ok(readFileSync('manifests/base/kustomization.yaml', 'utf8').includes('config.yaml'))
})
