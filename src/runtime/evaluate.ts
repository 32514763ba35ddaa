/**
 * Evaluating one step of a circuit. Vertices run in dependency order; a
 * delay's output is its state (read lazily), and after the step every delay
 * stores its input: as a change (`state += Δ`) when the input is its own
 * state plus a change — an integral — or whole otherwise. Writes are worked
 * out before any is applied, so no read sees this step's writes.
 */
import type { Scope, Vertex } from '../graph/graph.js'
import { type OperatorImpl, operatorImpl } from '../operators/registry.js'
import { canonical, keyText, pairText, rowKey } from '../values/encode.js'
import { GraphError, InvalidValueError } from '../values/errors.js'
import { pair } from '../values/value.js'
import { type Entry, ZSet } from '../zset/zset.js'
import { Bag, consolidated } from '../zset/bag.js'
import { listsOf } from '../zset/rowsByKey.js'
import { BAG_CONSUMERS } from '../graph/consolidation.js'
import { GROUP_KEY_INDEX, type Transaction } from '../stores/store.js'
import { type GroupedValue, type StateReader, ZSetView, groupTotalsOf, materialize, materializeEach, supportOf } from './view.js'
import '../operators/all.js'

const MAX_FIXED_POINT_STEPS = 100_000

type Write = { delay: Vertex; kind: 'delta' | 'replace'; value: ZSet<unknown> }

/**
 * One vertex's value for this step, or a promise of it when it must wait (a store read, an
 * operator that reads state). Most vertices need neither: at one row per iteration an await
 * per vertex was most of the step's own time.
 */
function evaluateVertex(v: Vertex, values: Map<Vertex, unknown>, tx: Transaction): unknown {
  switch (v.kind) {
    case 'input':
    case 'scopeInput':
      return values.get(v)
    case 'delay':
      if (v.params.transient) return values.get(v) // the previous inner step's output, preset by runFixedPoint
      if (v.value === 'scalar') return tx.reader(v).readAll().then((rows) => scalarOf(v, rows))
      return new ZSetView(mappedState(v, tx.reader(v)), new ZSet(), v)
    case 'perGroup':
      return runPerGroup(v, values.get(v.inputs[0]!) as GroupedValue, tx, deferredWrites(values))
    case 'fixedPoint':
      return materialize(values.get(v.inputs[0]!) as ZSet<unknown>).then((change) => runFixedPoint(v, change, tx))
  }
  const impl = operatorImpl(v.kind)
  const args = v.inputs.map((i) => values.get(i))
  if (!impl.lazy && args.some((a) => a instanceof ZSetView)) return materializeEach(args).then((read) => evaluateOperator(v, impl, read))
  return evaluateOperator(v, impl, args)
}

/** An operator's output from its inputs (read whole, unless it is lazy); a promise if it reads state. */
function evaluateOperator(v: Vertex, impl: OperatorImpl, args: unknown[]): unknown {
  let out: unknown
  try {
    out = impl.evaluate(v, bagsFor(v, args))
  } catch (e) {
    throw placed(v, e)
  }
  if (out instanceof Promise) return out.then((o) => finish(v, args, o), (e) => Promise.reject(placed(v, e)))
  return finish(v, args, out)
}

function finish(v: Vertex, args: unknown[], out: unknown): unknown {
  return out !== undefined ? settled(v, out) : addWhole(v, args)
}

/** Lazy operators give up on two lazy inputs: add them whole. */
async function addWhole(v: Vertex, args: unknown[]): Promise<ZSet<unknown>> {
  try {
    const [a, b] = (await materializeEach(args.map((a) => consolidated(a as ZSet<unknown>)))) as ZSet<unknown>[]
    return a!.add(b!)
  } catch (e) {
    throw placed(v, e)
  }
}

/** A delay's state, read as the rows of the state it is derived from (graph/sharedState.ts). */
function mappedState(d: Vertex, state: StateReader<unknown>): StateReader<unknown> {
  switch (d.params.stateMap) {
    case 'support':
      return supportOf(state)
    case 'groupTotals':
      return groupTotalsOf(state)
    default:
      return state
  }
}

/** Bags go only to operators that take them (graph/consolidation.ts); others get them consolidated. */
function bagsFor(v: Vertex, args: unknown[]): unknown[] {
  return BAG_CONSUMERS.has(v.kind) ? args : args.map((a) => (a instanceof Bag ? a.toZSet() : a))
}

/** A vertex not marked for bags hands on a ZSet whatever its operator built. */
function settled(v: Vertex, out: unknown): unknown {
  return out instanceof Bag && !v.bagOutput ? out.toZSet() : out
}

/** Name the operator in errors about bad values (a key function that finds no field, a map returning NaN...). */
function placed(v: Vertex, e: unknown): unknown {
  return e instanceof InvalidValueError ? e.at(`in ${v.path}`) : e
}

/** Evaluate every vertex of `scope` for one step; `preset` gives the inputs. */
export async function evaluateScope(scope: Scope, preset: Map<Vertex, unknown>, tx: Transaction): Promise<Map<Vertex, unknown>> {
  const values = new Map(preset)
  for (const v of scope.order) {
    const out = evaluateVertex(v, values, tx)
    values.set(v, out instanceof Promise ? await out : out)
  }
  return values
}

/** Writes worked out during a step (perGroup's), applied with the others after it. */
const deferred = new WeakMap<Map<Vertex, unknown>, Write[]>()

function deferredWrites(values: Map<Vertex, unknown>): Write[] {
  let writes = deferred.get(values)
  if (!writes) deferred.set(values, (writes = []))
  return writes
}

/** What each delay of `scope` stores after this step (read before anything is written). */
export async function plannedWrites(scope: Scope, values: Map<Vertex, unknown>): Promise<Write[]> {
  const writes: Write[] = [...(deferred.get(values) ?? [])]
  for (const d of scope.delays) {
    if (d.params.stateOf) continue // its rows were written by the delay whose state it reads
    if (d.params.transient) continue // kept by runFixedPoint
    const input = values.get(d.inputs[0]!)
    if (d.value === 'scalar') writes.push({ delay: d, kind: 'replace', value: scalarRows(d, input) })
    else if (input instanceof ZSetView && input.owner === d) writes.push({ delay: d, kind: 'delta', value: input.delta })
    else writes.push({ delay: d, kind: 'replace', value: await materialize(consolidated(input as ZSet<unknown>)) })
  }
  return writes
}

export async function applyWrites(writes: Write[], tx: Transaction): Promise<void> {
  for (const w of writes) {
    if (w.kind === 'delta') {
      if (w.value.entryCount > 0) await tx.addDelta(w.delay, w.value)
    } else {
      await tx.replace(w.delay, w.value)
    }
  }
}

/** Recursion (paper Def. 7.2): feed the change once, then nothing, until the output is empty. */
async function runFixedPoint(v: Vertex, change: ZSet<unknown>, tx: Transaction): Promise<ZSet<unknown>> {
  const sub = v.params.sub!
  const total = new ZSet<unknown>()
  const transient = sub.delays.filter((d) => d.params.transient)
  let input = change
  // A delay of the output holds ∅ when a run starts (the last run ended on an empty output), then the previous step's output.
  let previous = new ZSet<unknown>()
  for (let i = 0; ; i++) {
    if (i > MAX_FIXED_POINT_STEPS) throw new GraphError(`${v.path}: no fixed point after ${MAX_FIXED_POINT_STEPS} steps`)
    const preset = new Map<Vertex, unknown>([[sub.input!, input]])
    for (const d of transient) preset.set(d, previous)
    const values = await evaluateScope(sub, preset, tx)
    const out = await materialize(values.get(sub.output!) as ZSet<unknown>)
    await applyWrites(await plannedWrites(sub, values), tx)
    if (out.isEmpty()) return total
    total.addInPlace(out)
    input = new ZSet()
    previous = out
  }
}

/**
 * perGroup: run the lifted sub-circuit on every group that changed. Values
 * are arrays aligned with the groups; each delay reads all the groups' state
 * in one lookup and writes all their changes in one batch.
 */
async function runPerGroup(v: Vertex, grouped: GroupedValue, tx: Transaction, writes: Write[]): Promise<GroupedValue> {
  const sub = v.params.sub!
  const groups = [...grouped.entries()]
  const result: GroupedValue = new Map()
  if (groups.length === 0) return result
  const keys = groups.map(([, g]) => g.key)
  const stateKeys = groupStateKeys(v, groups)
  const values = new Map<Vertex, unknown[]>()
  const stored = new Map<Vertex, Entry<GroupRow>[][]>()
  for (const u of sub.order) {
    if (u === sub.input) {
      values.set(u, groups.map(([, g]) => g.value))
      continue
    }
    if (u.kind === 'delay') {
      const rows = await readGroupState(u, stateKeys, tx)
      stored.set(u, rows)
      values.set(u, rows.map((entries) => (u.value === 'scalar' ? scalarOfGroup(u, entries) : zsetOfGroup(entries))))
      continue
    }
    const impl = operatorImpl(u.kind)
    const inputs = u.inputs.map((i) => values.get(i)!)
    const out: unknown[] = new Array(groups.length)
    for (let g = 0; g < groups.length; g++) {
      const args = bagsFor(u, inputs.map((arr) => arr[g]))
      // Most operators answer synchronously: await (a microtask per group) only when they do not.
      let r: unknown
      try {
        r = impl.evaluate(u, args)
        if (r instanceof Promise) r = await r
      } catch (e) {
        throw e instanceof InvalidValueError ? e.at(`in ${u.path}`) : e
      }
      out[g] = r === undefined ? consolidated(args[0] as ZSet<unknown>).add(consolidated(args[1] as ZSet<unknown>)) : settled(u, r)
    }
    values.set(u, out)
  }
  const keyKeys = sub.delays.length > 0 ? keys.map((k) => rowKey(k)) : []
  for (const d of sub.delays) {
    const old = stored.get(d)!
    const next = values.get(d.inputs[0]!)!
    const delta = new ZSet<unknown>()
    for (let g = 0; g < groups.length; g++) {
      // Retract the stored rows as they are (their texts are their identities), add the new ones;
      // the state key is known, so the table need not encode it again.
      const groupKey = stateKeys[g]
      for (const e of old[g]!) delta.addWeight(e.key, e.value, -e.weight, groupKey)
      const nextRows = d.value === 'scalar' ? scalarRows(d, next[g]) : consolidated(next[g] as ZSet<unknown>)
      for (const e of nextRows.entries.values()) {
        delta.addWeight(pairText(e.key, keyKeys[g]!), pair(e.value, keys[g]), e.weight, groupKey)
      }
    }
    // Written after the step, as every delay is: a delay reading this state (graph/sharedState.ts) sees it before the step.
    if (!delta.isEmpty()) writes.push({ delay: d, kind: 'delta', value: delta })
  }
  const out = values.get(sub.output!)!
  groups.forEach(([enc, g], i) => result.set(enc, { key: g.key, value: consolidated(out[i] as ZSet<unknown>) }))
  return result
}

type GroupRow = { left: unknown; right: unknown }

/**
 * The groups' keys as GROUP_KEY_INDEX encodes them. When the groups come
 * straight from `group` with an ascending `by`, that is its encoding as is
 * (one component) or wrapped as a tuple (docs/encoding.md §4) — no re-encoding.
 */
function groupStateKeys(v: Vertex, groups: [string, { key: unknown }][]): string[] {
  const source = v.inputs[0]!
  const by = source.kind === 'group' ? source.params.by! : undefined
  if (by && by.ascending.every((a) => a)) {
    return by.composite ? groups.map(([enc]) => '\x40' + enc + '\x00') : groups.map(([enc]) => enc)
  }
  return groups.map(([, g]) => GROUP_KEY_INDEX.encodeKey(g.key))
}

/** A scalar state is one row, or none while it equals zero (so emptied groups leave nothing behind). */
function scalarRows(d: Vertex, value: unknown): ZSet<unknown> {
  const key = rowKey(value)
  const out = new ZSet<unknown>()
  if (keyText(key) !== zeroText(d)) out.addWeight(key, value, 1)
  return out
}

const zeroTexts = new WeakMap<Vertex, string>()

function zeroText(d: Vertex): string {
  let text = zeroTexts.get(d)
  if (text === undefined) zeroTexts.set(d, (text = canonical(d.params.algebra!.zero())))
  return text
}

function scalarOf(d: Vertex, rows: ZSet<unknown>): unknown {
  return rows.isEmpty() ? d.params.algebra!.zero() : [...rows.entries.values()][0]!.value
}

function scalarOfGroup(d: Vertex, rows: Entry<GroupRow>[]): unknown {
  return rows.length === 0 ? d.params.algebra!.zero() : rows[0]!.value.left
}

function zsetOfGroup(rows: Entry<GroupRow>[]): ZSet<unknown> {
  const z = new ZSet<unknown>()
  for (const e of rows) z.addWeight(rowKey(e.value.left), e.value.left, e.weight)
  return z
}

/** Every group's stored rows, in the order of `stateKeys`, from one lookup. */
async function readGroupState(d: Vertex, stateKeys: string[], tx: Transaction): Promise<Entry<GroupRow>[][]> {
  return listsOf(await tx.reader<GroupRow>(d).lookupEach(GROUP_KEY_INDEX, stateKeys))
}
