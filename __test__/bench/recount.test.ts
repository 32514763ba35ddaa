/**
 * The recounts the bench checks every engine's answer against (bench/lib/scenarios/):
 * what they count, and that a wrong answer is caught.
 */
import test from 'ava'
import * as st from '../../src/index.js'
import { differenceFromRecount, meterReads, meterSetup, recountDailyTotals, type DailyUsage } from '../../bench/lib/scenarios/meterReads.js'
import { differenceFromResolvedRecount, type Resolved } from '../../bench/lib/scenarios/typechecker.js'
import { batched, workload } from '../../bench/lib/workloads.js'
import { storeTest } from '../helpers/stores.js'

const usage = (userId: number, meterId: string, date: string, value: number): DailyUsage => ({ userId, meterId, date, value })

test('recount: a daily total per user, meter and day, summing every read once', (t) => {
  for (const shape of ['ref', 'wide'] as const) {
    const totals = recountDailyTotals(shape, 5_000, 7)
    const reads = [...meterReads(shape, 5_000, 7)]
    const owner = new Map(meterSetup(shape).meters.map((m) => [m.meterId, m.userId]))
    // Each key names a meter's owner, and a day of January 2023.
    for (const key of totals.keys()) {
      const [userId, meterId, date] = key.split('|')
      t.is(Number(userId), owner.get(meterId!)!, key)
      t.regex(date!, /^2023-01-(0[1-9]|[12]\d|3[01])$/)
    }
    // The same reads, summed per key in another order (last to first), give the same totals.
    const backwards = new Map<string, number>()
    for (const r of reads.reverse()) {
      const key = `${owner.get(r.meterId)}|${r.meterId}|${r.timestamp.toISOString().slice(0, 10)}`
      backwards.set(key, (backwards.get(key) ?? 0) + r.value)
    }
    t.is(totals.size, backwards.size)
    for (const [key, v] of backwards) t.true(Math.abs(totals.get(key)! - v) < 1e-6, key)
  }
  // ref: one meter, owned by user 1, so at most one total per day.
  t.true(recountDailyTotals('ref', 5_000, 7).size <= 31)
})

test('recount: an answer matches only with each key once, at weight 1, with its sum', (t) => {
  const m = '00000001-b3fb-47ef-b22f-a45ba5b7b645'
  const expected = new Map([
    [`1|${m}|2023-01-01`, 12.5],
    [`1|${m}|2023-01-02`, 1e6],
  ])
  const right = [usage(1, m, '2023-01-01', 12.5), usage(1, m, '2023-01-02', 1e6)]
  t.is(differenceFromRecount(right.map((r) => [r, 1] as const), expected), undefined)
  // Sums added in another order may differ in their last bits: 1e-9 of the sum is allowed.
  t.is(differenceFromRecount([[right[0]!, 1], [usage(1, m, '2023-01-02', 1e6 + 1e-4), 1]], expected), undefined)
  t.is(differenceFromRecount([[right[0]!, 1], [usage(1, m, '2023-01-02', 1e6 + 1e-2), 1]], expected), `1|${m}|2023-01-02 sums to 1000000.01, the recount to 1000000`)
  t.is(differenceFromRecount([[right[0]!, 2], [right[1]!, 1]], expected), `1|${m}|2023-01-01 has weight 2`)
  t.is(differenceFromRecount([[right[0]!, 1], [right[0]!, 1]], expected), `1|${m}|2023-01-01 appears twice`)
  t.is(differenceFromRecount([[right[0]!, 1]], expected), '1 daily totals, the recount has 2')
  t.is(differenceFromRecount([...right.map((r) => [r, 1] as const), [usage(2, m, '2023-01-01', 3), 1]], expected), `2|${m}|2023-01-01 is not in the recount`)
  t.is(differenceFromRecount([[usage(1, m, '2023-01-01', NaN), 1], [right[1]!, 1]], expected), `1|${m}|2023-01-01 sums to NaN, the recount to 12.5`)
})

test('recount: the type checker’s classes resolve, nested, to the classes their attributes name', (t) => {
  // The first group of five classes (bench/lib/scenarios/typechecker.ts), resolved by hand.
  const a = [{ key: 'x', value: 'str' }]
  const right: Resolved[] = [
    { identifier: 'one.A.0', attrs: a },
    { identifier: 'one.B.0', attrs: [{ key: 'y', value: a }] },
    { identifier: 'one.C.0', attrs: [{ key: 'z', value: [{ key: 'y', value: a }] }] },
    { identifier: 'two.D.0', attrs: [{ key: 'y', value: a }, { key: 'z', value: 'int' }] },
    { identifier: 'two.E.0', attrs: [{ key: 'x', value: 'float' }] },
  ]
  const ones = (rows: Resolved[]) => rows.map((r) => [r, 1] as const)
  t.is(differenceFromResolvedRecount(ones(right), 5), undefined)
  // C left one level unresolved.
  const shallow = [...right.slice(0, 2), { identifier: 'one.C.0', attrs: [{ key: 'z', value: 'one.B.0' }] }, ...right.slice(3)]
  t.is(
    differenceFromResolvedRecount(ones(shallow), 5),
    'one.C.0 resolves to {"identifier":"one.C.0","attrs":[{"key":"z","value":"one.B.0"}]}, the recount to {"identifier":"one.C.0","attrs":[{"key":"z","value":[{"key":"y","value":[{"key":"x","value":"str"}]}]}]}',
  )
  t.is(differenceFromResolvedRecount(ones(right.slice(0, 4)), 5), '4 classes resolved, the recount has 5')
  t.is(differenceFromResolvedRecount(ones(right), 4), 'two.E.0 is not one of the classes')
  t.is(differenceFromResolvedRecount([...ones(right.slice(1)), [right[0]!, -1]], 5), 'one.A.0 has weight -1')
  t.is(differenceFromResolvedRecount([...ones(right), [right[4]!, 1]], 5), 'two.E.0 appears twice')
})

storeTest('recount: our engine’s cache after the bench’s inserts equals it, for each scenario', async (t, open) => {
  for (const scenario of ['ref', 'wide', 'complex'] as const) {
    const w = workload(scenario, 3_000, 42)
    const store = await open(w.graph)
    const acts = st.actions(store, w.graph) as unknown as st.Action<unknown, unknown[]>[]
    for (const [input, rows] of w.setup) for (const b of batched(rows, 1000)) await acts[input]!.insert(...b)
    for (const b of batched(w.rows(), 1000)) await acts[w.mainInput]!.insert(...b)
    const answer: [unknown, number][] = []
    for await (const [, row, n] of w.cache.zset(store).iterByIndex(w.index)) answer.push([row, n])
    t.is(w.differenceFromRecount(answer, 3_000), undefined, scenario)
    // Short of the last batch, the cache is not the recount of all the rows.
    t.truthy(w.differenceFromRecount(answer, 2_000), scenario)
  }
})
