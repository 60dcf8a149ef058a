/**
 * The review deadline: how long one synchronous piece of work (deciding a review, judging one
 * object in the audit) may hold the event loop. Cooperative, and everywhere by construction:
 * the readers every rule, routing model and index walk uses to read an object (`rec`, `arr` in
 * model/object.ts) call `tick()`, so any loop over a tenant's object or over the view checks
 * the clock every TICKS_PER_CHECK reads and throws `DeadlineExceeded` once the deadline has
 * passed. Outside `withDeadline` (analyze, convert, trace on the command line) `tick()` costs an
 * increment and a compare and never throws.
 *
 * What is not a loop over reads is bounded elsewhere: parsing by the JSON value count
 * (server/json.ts), each regular expression by RE2's linear time and the input lengths
 * (routing/regex.ts).
 */
import { performance } from 'node:perf_hooks'

/** Reads between two looks at the clock (a look costs ~50 ns; a read a few ns). */
export const TICKS_PER_CHECK = 256

/**
 * Thrown by `tick()` when the current deadline has passed. Carries the budget, ms. Code that
 * catches errors around rule or routing work must rethrow it (`rethrowDeadline`).
 */
export class DeadlineExceeded extends Error {
  constructor(readonly budgetMs: number) {
    super(`ran past its ${budgetMs} ms budget`)
    this.name = 'DeadlineExceeded'
  }
}

/** performance.now() value past which tick() throws; Infinity outside withDeadline. */
let deadlineAt = Infinity
let budget = 0
let ticks = 0

/**
 * Counts one read; every TICKS_PER_CHECK reads looks at the clock.
 * @throws DeadlineExceeded inside `withDeadline` once its deadline has passed
 */
export function tick(): void {
  if (++ticks < TICKS_PER_CHECK) return
  ticks = 0
  if (deadlineAt !== Infinity && performance.now() > deadlineAt) throw new DeadlineExceeded(budget)
}

/** Looks at the clock now (before an expensive step that does not read through `rec`/`arr`). */
export function checkDeadline(): void {
  if (deadlineAt !== Infinity && performance.now() > deadlineAt) throw new DeadlineExceeded(budget)
}

/**
 * Runs `fn` (synchronous) with a deadline `ms` from now. Nested calls keep the earlier of the
 * two deadlines. `ms` Infinity (or ≤ 0 meaning none) runs without one.
 * @throws DeadlineExceeded when `fn` runs past it (whatever `fn` had done is discarded by the caller)
 */
export function withDeadline<T>(ms: number, fn: () => T): T {
  const outerAt = deadlineAt
  const outerBudget = budget
  if (ms > 0 && Number.isFinite(ms)) {
    const at = performance.now() + ms
    if (at < deadlineAt) {
      deadlineAt = at
      budget = ms
    }
  }
  ticks = 0
  try {
    return fn()
  } finally {
    deadlineAt = outerAt
    budget = outerBudget
  }
}

/** Rethrows `e` when it is a DeadlineExceeded (for `catch` blocks around rule or routing work). */
export function rethrowDeadline(e: unknown): void {
  if (e instanceof DeadlineExceeded) throw e
}
