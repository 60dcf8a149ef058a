/**
 * RG0302 NoGatewayApiEquivalent (info; warning with `migration: true`): VirtualService features
 * that a move to the Gateway API loses or changes — the same list `routeguard convert` reports.
 * Reads nothing but the subject.
 */
import { KIND } from '../../model/object.js'
import { vsGaps } from '../../convert/gaps.js'
import { finding } from '../messages.js'
import { defineRule } from '../types.js'

export const rg0302 = defineRule({
  code: 'RG0302',
  subjects: [KIND.VirtualService],
  inputs: [],
  check: (subject) => vsGaps(subject).map((g) => finding('RG0302', subject, { path: g.path, feature: g.feature, detail: g.detail }, { path: g.path })),
})
