/**
 * The property behind most of the suite: feed a random sequence of changes,
 * and after every step the integral of everything the query has output must
 * equal the query evaluated from scratch (by the oracle) on the integral of
 * everything fed in.
 */
import type { ExecutionContext } from 'ava'
import fc from 'fast-check'
import * as st from '../../src/index.js'
import { type Bag, add, addTo, bagsEqual, occurrences, show } from './oracle.js'
import type { OpenStore } from './stores.js'
import { plain, toBag } from './zsets.js'

export type Oracle = (inputs: Bag[]) => Bag[]

export interface StepSpec {
  graph: st.Graph<any, any>
  /** One row arbitrary per input. */
  rows: fc.Arbitrary<unknown>[]
  oracle: Oracle
  numRuns?: number
  maxSteps?: number
}

type Op = { input: number; kind: 'insert' | 'remove' | 'replace'; rows: unknown[]; pick: number }

function describeOp(op: Op, done: string): string {
  return `input ${op.input} ${done}`
}

async function compareAll(outputs: Bag[], expected: Bag[], history: string[]): Promise<void> {
  for (let j = 0; j < expected.length; j++) {
    if (!bagsEqual(outputs[j]!, expected[j]!)) {
      throw new Error(
        `output ${j} after:\n  ${history.join('\n  ')}\nintegrated output:\n${show(outputs[j]!)}\nfrom scratch:\n${show(expected[j]!)}`,
      )
    }
  }
}

/**
 * Inserts, removes and replaces through `st.actions`. Removes (and the old
 * row of a replace) always pick a row that is present, so the integrated
 * inputs stay bags with positive counts. (Removed rows are taken from the
 * oracle's bag, where nested ZSets are Maps: input rows must not hold ZSets.)
 */
export async function checkSteps(t: ExecutionContext, open: OpenStore, spec: StepSpec): Promise<void> {
  const op: fc.Arbitrary<Op> = fc.oneof(
    ...spec.rows.map((arb, i) =>
      fc.record({
        input: fc.constant(i),
        kind: fc.constantFrom<Op['kind']>('insert', 'insert', 'remove', 'replace'),
        rows: fc.array(arb, { minLength: 1, maxLength: 3 }),
        pick: fc.nat(1000),
      }),
    ),
  )
  let checks = 0
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: spec.maxSteps ?? 10 }), async (ops) => {
      const store = await open(spec.graph)
      const acts = st.actions(store, spec.graph) as unknown as st.Action<unknown, unknown[]>[]
      const inputs: Bag[] = spec.rows.map(() => new Map())
      const outputs: Bag[] = spec.oracle(inputs).map(() => new Map())
      const history: string[] = []
      for (const o of ops) {
        const present = occurrences(inputs[o.input]!)
        const kind = present.length === 0 ? 'insert' : o.kind
        let out: st.ZSet<unknown>[]
        if (kind === 'insert') {
          out = await acts[o.input]!.insert(...o.rows)
          for (const r of o.rows) addTo(inputs[o.input]!, plain(r), 1)
          history.push(describeOp(o, `insert ${JSON.stringify(o.rows)}`))
        } else if (kind === 'remove') {
          const positions = new Set<number>()
          for (let k = 0; k < o.rows.length; k++) positions.add((o.pick + 7 * k) % present.length)
          const gone = [...positions].map((p) => present[p])
          out = await acts[o.input]!.remove(...gone)
          for (const r of gone) addTo(inputs[o.input]!, plain(r), -1)
          history.push(describeOp(o, `remove ${JSON.stringify(gone)}`))
        } else {
          const old = present[o.pick % present.length]
          const next = o.rows[0]
          out = await acts[o.input]!.replace(old, next)
          addTo(inputs[o.input]!, plain(old), -1)
          addTo(inputs[o.input]!, plain(next), 1)
          history.push(describeOp(o, `replace ${JSON.stringify(old)} by ${JSON.stringify(next)}`))
        }
        for (let j = 0; j < outputs.length; j++) outputs[j] = add(outputs[j]!, await toBag(out[j]!))
        await compareAll(outputs, spec.oracle(inputs), history)
        checks++
      }
    }),
    { numRuns: spec.numRuns ?? 20 },
  )
  t.true(checks > 0)
}

/**
 * Arbitrary changes (any integer weights, negative included) through
 * `st.iteration`: for linear and bilinear queries the same equation holds
 * for Z-sets that are not bags.
 */
export async function checkWeightedSteps(t: ExecutionContext, open: OpenStore, spec: StepSpec): Promise<void> {
  const change = fc.tuple(
    ...spec.rows.map((arb) => fc.array(fc.tuple(arb, fc.integer({ min: -3, max: 3 })), { maxLength: 4 })),
  )
  let checks = 0
  await fc.assert(
    fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: spec.maxSteps ?? 8 }), async (steps) => {
      const store = await open(spec.graph)
      const inputs: Bag[] = spec.rows.map(() => new Map())
      const outputs: Bag[] = spec.oracle(inputs).map(() => new Map())
      const history: string[] = []
      for (const step of steps) {
        const zs = step.map((pairs) => st.zset(pairs as [unknown, number][]))
        const out = (await st.iteration(store, spec.graph, zs as never)) as st.ZSet<unknown>[]
        step.forEach((pairs, i) => {
          for (const [v, w] of pairs) addTo(inputs[i]!, plain(v), w)
        })
        history.push(JSON.stringify(step))
        for (let j = 0; j < outputs.length; j++) outputs[j] = add(outputs[j]!, await toBag(out[j]!))
        await compareAll(outputs, spec.oracle(inputs), history)
        checks++
      }
    }),
    { numRuns: spec.numRuns ?? 20 },
  )
  t.true(checks > 0)
}
