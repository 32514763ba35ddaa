/**
 * Running a query: `iteration` feeds one change per input and returns the
 * change of every output; `actions` wraps it as insert/remove/replace per input.
 * Rows are checked (zod schemas, value rules) before anything is read or written.
 */
import type { Graph } from '../graph/compile.js'
import type { Store } from '../stores/store.js'
import { InvalidValueError, UsageError } from '../values/errors.js'
import { rowKey } from '../values/encode.js'
import { ZSet } from '../zset/zset.js'
import { applyWrites, evaluateScope, plannedWrites } from './evaluate.js'
import { NO_TIME, type Time } from './time.js'
import { materializeEach } from './view.js'

type ZSets<T extends readonly unknown[]> = { [K in keyof T]: ZSet<T[K]> }

export interface IterationOptions {
  time?: Time
}

function checkInputs(graph: Graph<any, any>, inputs: readonly unknown[]): void {
  const def = graph.def
  if (!Array.isArray(inputs)) throw new UsageError('iteration: inputs must be an array with one ZSet per input')
  if (inputs.length !== def.inputs.length) {
    throw new UsageError(`iteration: the graph has ${def.inputs.length} input(s), got ${inputs.length}`)
  }
  inputs.forEach((z, i) => {
    const name = def.inputs[i]!.path
    if (!(z instanceof ZSet)) throw new UsageError(`iteration: input ${i} (${name}) must be a ZSet (st.zset([...]))`)
    const validator = def.inputSchemas[i]
    if (!validator) return
    let n = 0
    for (const e of z.eachEntry()) {
      const r = validator.validate(e.value)
      if (!r.ok) throw new UsageError(`input ${i} (${name}), row ${n} ${preview(e.value)}: ${r.message}`)
      n++
    }
  })
}

function preview(v: unknown): string {
  try {
    const s = typeof v === 'string' ? JSON.stringify(v) : rowKey(v).toString()
    return s.length > 80 ? s.slice(0, 77) + '...' : s
  } catch {
    return String(v)
  }
}

/** Run one step: the change to each input in, the change to each output out. All or nothing. */
export async function iteration<In extends readonly unknown[], Out extends readonly unknown[]>(
  store: Store,
  graph: Graph<In, Out>,
  inputs: ZSets<In>,
  options: IterationOptions = {},
): Promise<ZSets<Out>> {
  if (store.graph !== graph.def) throw new UsageError('iteration: the store was opened for a different graph')
  checkInputs(graph, inputs as readonly unknown[])
  const def = graph.def
  return store.transaction(options.time ?? NO_TIME, async (tx) => {
    const preset = new Map(def.inputs.map((v, i) => [v, (inputs as readonly unknown[])[i]]))
    const values = await evaluateScope(def.root, preset, tx)
    const outputs = (await materializeEach(def.outputs.map((o) => values.get(o)))) as ZSet<unknown>[]
    await applyWrites(await plannedWrites(def.root, values), tx)
    // Outputs the caller owns: no sharing with state.
    return outputs.map((z) => (z.indexStates ? z.copy() : z)) as unknown as ZSets<Out>
  })
}

export interface Action<T, Out extends readonly unknown[]> {
  insert(...rows: T[]): Promise<ZSets<Out>>
  remove(...rows: T[]): Promise<ZSets<Out>>
  replace(oldRow: T, newRow: T): Promise<ZSets<Out>>
  /** Any change at once: [row, weight] pairs. */
  apply(changes: Iterable<readonly [T, number]>, options?: IterationOptions): Promise<ZSets<Out>>
}

type Actions<In extends readonly unknown[], Out extends readonly unknown[]> = { [K in keyof In]: Action<In[K], Out> }

/** One `Action` per input: insert, remove and replace rows of that input. */
export function actions<In extends readonly unknown[], Out extends readonly unknown[]>(
  store: Store,
  graph: Graph<In, Out>,
  options: IterationOptions = {},
): Actions<In, Out> {
  const n = graph.def.inputs.length
  // async so that a bad row rejects the returned promise like every other
  // failure, instead of throwing synchronously out of insert/remove/replace.
  const run = async (i: number, changes: Iterable<readonly [unknown, number]>, opts: IterationOptions) => {
    let z: ZSet<unknown>
    try {
      // Summed only where a consumer needs it (see ZSet.unconsolidated).
      z = ZSet.unconsolidated(changes)
    } catch (e) {
      throw e instanceof InvalidValueError ? e.at(`input ${i} (${graph.def.inputs[i]!.path})`) : e
    }
    const inputs = Array.from({ length: n }, (_, j) => (j === i ? z : new ZSet()))
    return iteration(store, graph, inputs as unknown as ZSets<In>, { ...options, ...opts })
  }
  return Array.from({ length: n }, (_, i) => ({
    insert: (...rows: unknown[]) => run(i, rows.map((r) => [r, 1] as const), {}),
    remove: (...rows: unknown[]) => run(i, rows.map((r) => [r, -1] as const), {}),
    replace: (oldRow: unknown, newRow: unknown) => run(i, [[oldRow, -1], [newRow, 1]], {}),
    apply: (changes: Iterable<readonly [unknown, number]>, opts: IterationOptions = {}) => run(i, changes, opts),
  })) as unknown as Actions<In, Out>
}
