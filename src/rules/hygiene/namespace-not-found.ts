/**
 * RG0503 NamespaceNotFound, info: a VirtualService `exportTo` entry, or a ReferenceGrant
 * `from[].namespace`, names a namespace that does not exist. It is no error (the namespace may
 * come later), but today it exports to nobody, or grants nobody: often a typo. Judged only when
 * the view covers Namespaces and holds at least one (cluster mode, or files that hold them), so
 * that files without Namespaces are never flagged. Reads: Namespaces.
 */
import { arr, KIND, kindKeyOf, rec, str, strs } from '../../model/object.js'
import { knowsObjectsIn, type View } from '../../view/view.js'
import { finding } from '../messages.js'
import { defineRule, type Finding } from '../types.js'

/** Does the view know the cluster's namespaces (it covers them and holds one at least)? */
function knowsNamespaces(view: View): boolean {
  return knowsObjectsIn(view, KIND.Namespace, '')
}

export const rg0503 = defineRule({
  code: 'RG0503',
  subjects: [KIND.VirtualService, KIND.ReferenceGrant],
  inputs: [KIND.Namespace],
  check(subject, { view }) {
    if (!knowsNamespaces(view)) return []
    const missing = (ns: string) => view.get(KIND.Namespace, '', ns) === undefined
    const out: Finding[] = []
    if (kindKeyOf(subject) === KIND.VirtualService) {
      strs(rec(subject.spec).exportTo).forEach((ns, i) => {
        if (ns === '*' || ns === '.' || ns === '~' || !missing(ns)) return
        out.push(finding('RG0503', subject, { path: `spec.exportTo[${i}]`, namespace: ns, effect: 'no namespace of that name sees this VirtualService' }, { path: `spec.exportTo[${i}]` }))
      })
      return out
    }
    arr(rec(subject.spec).from).forEach((f, i) => {
      const ns = str(rec(f).namespace)
      if (!ns || !missing(ns)) return
      out.push(finding('RG0503', subject, { path: `spec.from[${i}].namespace`, namespace: ns, effect: 'the grant lets nothing reference these objects yet' }, { path: `spec.from[${i}].namespace` }))
    })
    return out
  },
})
