/**
 * One workload per scenario: the compiled query, the rows set up before the
 * measurement (users and meters), the measured input rows, and the keys a
 * single-key cache read asks for. Every engine and peer uses these rows.
 */
import type * as st from '../../src/index.js'
import { Rng } from './rng.js'
import {
  buildMeterReads,
  type DailyUsage,
  differenceFromRecount,
  meterDays,
  meterReads,
  meterSetup,
  type MeterShape,
  recountDailyTotals,
} from './scenarios/meterReads.js'
import { buildTypechecker, classes, differenceFromResolvedRecount } from './scenarios/typechecker.js'
import type { Scenario } from './types.js'

export interface Workload {
  scenario: Scenario
  graph: st.Graph<any, any>
  cache: st.Cache<any>
  index: st.Index<any, any>
  /** Rows inserted (in batches of 1,000) before the measured rows: [input number, rows]. */
  setup: [number, unknown[]][]
  /** The input the measured rows go to. */
  mainInput: number
  /** The measured rows, generated lazily (so they don't count towards peak RSS). */
  rows(): Generator<unknown>
  /** Keys for single-key cache reads. */
  lookupKeys(n: number, rows: number): unknown[]
  /**
   * Undefined when an engine's final cache (rows with weights), after the first `ingested`
   * measured rows, equals a plain recount of them; else the first difference.
   */
  differenceFromRecount(answer: Iterable<readonly [unknown, number]>, ingested: number): string | undefined
}

export function workload(scenario: Scenario, rows: number, seed: number): Workload {
  if (scenario === 'complex') {
    const { graph, cache, index } = buildTypechecker()
    return {
      scenario,
      graph,
      cache,
      index,
      setup: [],
      mainInput: 0,
      rows: () => classes(rows),
      lookupKeys(n, ingested) {
        const r = new Rng(seed + 1)
        const groups = Math.max(1, Math.floor(ingested / 5))
        const kinds = ['one.A', 'one.B', 'one.C', 'two.D', 'two.E']
        return Array.from({ length: n }, () => `${kinds[r.int(0, 4)]}.${r.int(0, groups - 1)}`)
      },
      differenceFromRecount: differenceFromResolvedRecount,
    }
  }
  const shape: MeterShape = scenario
  const { graph, cache, index } = buildMeterReads()
  const { users, meters } = meterSetup(shape)
  return {
    scenario,
    graph,
    cache,
    index,
    setup: [
      [0, users],
      [1, meters],
    ],
    mainInput: 2,
    rows: () => meterReads(shape, rows, seed),
    lookupKeys(n) {
      const r = new Rng(seed + 1)
      return Array.from({ length: n }, () => meterDays[r.int(0, meterDays.length - 1)])
    },
    differenceFromRecount: (answer, ingested) =>
      differenceFromRecount(answer as Iterable<readonly [DailyUsage, number]>, recountDailyTotals(shape, ingested, seed)),
  }
}

/** Batches of `size` from an iterable. */
export function* batched<T>(rows: Iterable<T>, size: number): Generator<T[]> {
  let batch: T[] = []
  for (const r of rows) {
    batch.push(r)
    if (batch.length >= size) {
      yield batch
      batch = []
    }
  }
  if (batch.length) yield batch
}
