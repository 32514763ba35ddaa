/**
 * Evaluating one step of a circuit. Vertices run in dependency order; a
 * delay's output is its state (read lazily), and after the step every delay
 * stores its input: as a change (`state += Δ`) when the input is its own
 * state plus a change — an integral — or whole otherwise. Writes are worked
 * out before any is applied, so no read sees this step's writes.
 */
import type { Scope, Vertex } from '../graph/graph.js'
import { operatorImpl } from '../operators/registry.js'
import { singleton } from '../operators/makeSet.js'
import { canonical, pairText, rowKey } from '../values/encode.js'
import { GraphError, InvalidValueError } from '../values/errors.js'
import { pair } from '../values/value.js'
import { ZSet } from '../zset/zset.js'
import { GROUP_KEY_INDEX, type Transaction } from '../stores/store.js'
import { type GroupedValue, ZSetView, materialize } from './view.js'
import '../operators/all.js'

const MAX_FIXED_POINT_STEPS = 100_000

type Write = { delay: Vertex; kind: 'delta' | 'replace'; value: ZSet<unknown> }

async function evaluateVertex(v: Vertex, values: Map<Vertex, unknown>, tx: Transaction): Promise<unknown> {
  switch (v.kind) {
    case 'input':
    case 'scopeInput':
      return values.get(v)
    case 'delay':
      if (v.value === 'scalar') return scalarOf(v, await tx.reader(v).readAll())
      return new ZSetView(tx.reader(v), new ZSet(), v)
    case 'perGroup':
      return runPerGroup(v, values.get(v.inputs[0]!) as GroupedValue, tx)
    case 'fixedPoint':
      return runFixedPoint(v, await materialize(values.get(v.inputs[0]!) as ZSet<unknown>), tx)
  }
  const impl = operatorImpl(v.kind)
  let args = v.inputs.map((i) => values.get(i))
  if (!impl.lazy) args = await Promise.all(args.map((a) => (a instanceof ZSetView ? a.materialize() : a)))
  const out = await withPlace(v, () => impl.evaluate(v, args))
  if (out !== undefined) return out
  // Lazy operators give up on two lazy inputs: add them whole.
  const [a, b] = await Promise.all(args.map((a) => materialize(a as ZSet<unknown>)))
  return a!.add(b!)
}

/** Name the operator in errors about bad values (a key function that finds no field, a map returning NaN...). */
async function withPlace<R>(v: Vertex, run: () => R | Promise<R>): Promise<R> {
  try {
    return await run()
  } catch (e) {
    throw e instanceof InvalidValueError ? e.at(`in ${v.path}`) : e
  }
}

/** Evaluate every vertex of `scope` for one step; `preset` gives the inputs. */
export async function evaluateScope(scope: Scope, preset: Map<Vertex, unknown>, tx: Transaction): Promise<Map<Vertex, unknown>> {
  const values = new Map(preset)
  for (const v of scope.order) values.set(v, await evaluateVertex(v, values, tx))
  return values
}

/** What each delay of `scope` stores after this step (read before anything is written). */
export async function plannedWrites(scope: Scope, values: Map<Vertex, unknown>): Promise<Write[]> {
  const writes: Write[] = []
  for (const d of scope.delays) {
    const input = values.get(d.inputs[0]!)
    if (d.value === 'scalar') writes.push({ delay: d, kind: 'replace', value: scalarRows(d, input) })
    else if (input instanceof ZSetView && input.owner === d) writes.push({ delay: d, kind: 'delta', value: input.delta })
    else writes.push({ delay: d, kind: 'replace', value: await materialize(input as ZSet<unknown>) })
  }
  return writes
}

export async function applyWrites(writes: Write[], tx: Transaction): Promise<void> {
  for (const w of writes) {
    if (w.kind === 'delta') {
      if (!w.value.isEmpty()) await tx.addDelta(w.delay, w.value)
    } else {
      await tx.replace(w.delay, w.value)
    }
  }
}

/** Recursion (paper Def. 7.2): feed the change once, then nothing, until the output is empty. */
async function runFixedPoint(v: Vertex, change: ZSet<unknown>, tx: Transaction): Promise<ZSet<unknown>> {
  const sub = v.params.sub!
  const total = new ZSet<unknown>()
  let input = change
  for (let i = 0; ; i++) {
    if (i > MAX_FIXED_POINT_STEPS) throw new GraphError(`${v.path}: no fixed point after ${MAX_FIXED_POINT_STEPS} steps`)
    const values = await evaluateScope(sub, new Map([[sub.input!, input]]), tx)
    const out = await materialize(values.get(sub.output!) as ZSet<unknown>)
    await applyWrites(await plannedWrites(sub, values), tx)
    if (out.isEmpty()) return total
    total.addInPlace(out)
    input = new ZSet()
  }
}

/**
 * perGroup: run the lifted sub-circuit on every group that changed. Values
 * are arrays aligned with the groups; each delay reads all the groups' state
 * in one lookup and writes all their changes in one batch.
 */
async function runPerGroup(v: Vertex, grouped: GroupedValue, tx: Transaction): Promise<GroupedValue> {
  const sub = v.params.sub!
  const groups = [...grouped.entries()]
  const result: GroupedValue = new Map()
  if (groups.length === 0) return result
  const keys = groups.map(([, g]) => g.key)
  const stateKeys = keys.map((k) => GROUP_KEY_INDEX.encodeKey(k))
  const values = new Map<Vertex, unknown[]>()
  const before = new Map<Vertex, unknown[]>()
  for (const u of sub.order) {
    if (u === sub.input) {
      values.set(u, groups.map(([, g]) => g.value))
      continue
    }
    if (u.kind === 'delay') {
      const rows = await readGroupState(u, stateKeys, tx)
      before.set(u, rows)
      values.set(u, u.value === 'scalar' ? rows.map((z) => scalarOf(u, z)) : rows)
      continue
    }
    const impl = operatorImpl(u.kind)
    const inputs = u.inputs.map((i) => values.get(i)!)
    const out: unknown[] = []
    for (let g = 0; g < groups.length; g++) {
      const args = inputs.map((arr) => arr[g])
      const r = await withPlace(u, () => impl.evaluate(u, args))
      out.push(r === undefined ? (args[0] as ZSet<unknown>).add(args[1] as ZSet<unknown>) : r)
    }
    values.set(u, out)
  }
  for (const d of sub.delays) {
    const old = before.get(d)! as ZSet<unknown>[]
    const next = values.get(d.inputs[0]!)!
    const delta = new ZSet<unknown>()
    for (let g = 0; g < groups.length; g++) {
      const key = keys[g]
      const keyKey = rowKey(key)
      const nextRows = d.value === 'scalar' ? scalarRows(d, next[g]) : (next[g] as ZSet<unknown>)
      for (const [z, sign] of [[nextRows, 1], [old[g]!, -1]] as const) {
        for (const e of z.entries.values()) {
          delta.addWeight(pairText(e.key, keyKey), pair(e.value, key), sign * e.weight)
        }
      }
    }
    if (!delta.isEmpty()) await tx.addDelta(d, delta)
  }
  const out = values.get(sub.output!)!
  groups.forEach(([enc, g], i) => result.set(enc, { key: g.key, value: out[i] }))
  return result
}

/** A scalar state is one row, or none while it equals zero (so emptied groups leave nothing behind). */
function scalarRows(d: Vertex, value: unknown): ZSet<unknown> {
  return canonical(value) === canonical(d.params.algebra!.zero()) ? new ZSet() : singleton(value)
}

function scalarOf(d: Vertex, rows: ZSet<unknown>): unknown {
  return rows.isEmpty() ? d.params.algebra!.zero() : [...rows.entries.values()][0]!.value
}

async function readGroupState(d: Vertex, stateKeys: string[], tx: Transaction): Promise<ZSet<unknown>[]> {
  const rows = await tx.reader<{ left: unknown; right: unknown }>(d).lookup(GROUP_KEY_INDEX, stateKeys)
  const byKey = new Map<string, ZSet<unknown>>()
  for (const e of rows.entries.values()) {
    const k = GROUP_KEY_INDEX.encodeKey(e.value.right)
    let z = byKey.get(k)
    if (!z) byKey.set(k, (z = new ZSet()))
    z.addWeight(rowKey(e.value.left), e.value.left, e.weight)
  }
  return stateKeys.map((k) => byKey.get(k) ?? new ZSet())
}
