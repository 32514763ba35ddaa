/**
 * Meter-reads data for the two standard scenarios. The query itself is the
 * project's example (src/examples/meterReads.ts: users ⋈ meters ⋈ reads,
 * grouped by user, meter and day, summed, cached by day).
 *
 * The rows are generated here rather than with the example's
 * `generateMeterReads`, because the scenarios need shapes it does not make:
 * - ref: the reference's profile (tests/run/test_profile.py): ONE meter and
 *   every read at a random hour of a random day of January 2023, repeats
 *   allowed (so ~31 groups however many reads; the example caps a meter at
 *   1,488 distinct half-hours);
 * - wide: 1,000 users with exactly one meter each and reads spread at random
 *   over all meters (~31,000 groups).
 * Reads are generated lazily so that the input does not count towards peak RSS.
 */
import { type DailyUsage, type HalfHourlyMeterRead, type Meter, type User, meterReadsGraph, seededRandom } from '../../../src/examples/meterReads.js'

export type { DailyUsage, HalfHourlyMeterRead, Meter, User } from '../../../src/examples/meterReads.js'

export function buildMeterReads() {
  const q = meterReadsGraph()
  return { graph: q.graph, cache: q.dailyCache, index: q.byDate }
}

export type MeterShape = 'ref' | 'wide'

/** Meter ids shaped like the reference's UUID('00000001-b3fb-47ef-b22f-a45ba5b7b645'). */
export function meterId(i: number): string {
  return i.toString(16).padStart(8, '0') + '-b3fb-47ef-b22f-a45ba5b7b645'
}

/** Users and meters, inserted before the measured reads. */
export function meterSetup(shape: MeterShape, users = 1000): { users: User[]; meters: Meter[] } {
  const us: User[] = []
  for (let i = 1; i <= users; i++) us.push({ userId: i, name: `user-${i}` })
  // ref: one meter, owned by user 1 (the reference's profile); wide: one meter per user.
  const ms: Meter[] = shape === 'ref' ? [{ meterId: meterId(1), userId: 1 }] : us.map((u) => ({ meterId: meterId(u.userId), userId: u.userId }))
  return { users: us, meters: ms }
}

/** `n` reads at a random hour of January 2023 on the one meter (ref) or a random one of `meters` (wide). */
export function* meterReads(shape: MeterShape, n: number, seed = 42, meters = 1000): Generator<HalfHourlyMeterRead> {
  const random = seededRandom(seed)
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1))
  for (let i = 0; i < n; i++) {
    const m = shape === 'ref' ? 1 : int(1, meters)
    const day = int(1, 31)
    const hour = int(0, 23)
    yield { meterId: meterId(m), timestamp: new Date(Date.UTC(2023, 0, day, hour)), value: Math.round(random() * 10000) / 100 }
  }
}

export const meterDays: string[] = Array.from({ length: 31 }, (_, i) => `2023-01-${String(i + 1).padStart(2, '0')}`)

/**
 * The answer recounted from scratch, the oracle every engine's final cache is checked
 * against: the first `n` reads summed per user, meter and day by a plain loop
 * (key `userId|meterId|date`).
 */
export function recountDailyTotals(shape: MeterShape, n: number, seed: number): Map<string, number> {
  const ownerOf = new Map(meterSetup(shape).meters.map((m) => [m.meterId, m.userId]))
  const totals = new Map<string, number>()
  for (const r of meterReads(shape, n, seed)) {
    const key = `${ownerOf.get(r.meterId)}|${r.meterId}|${r.timestamp.toISOString().slice(0, 10)}`
    totals.set(key, (totals.get(key) ?? 0) + r.value)
  }
  return totals
}

/**
 * Undefined when `answer` (daily usages with their weights) is the recount: each key once,
 * at weight 1, with the same sum. Sums are compared to 1e-9 of their size, since engines
 * add the same reads in different orders.
 */
export function differenceFromRecount(answer: Iterable<readonly [DailyUsage, number]>, expected: ReadonlyMap<string, number>): string | undefined {
  const seen = new Set<string>()
  for (const [row, weight] of answer) {
    const key = `${row.userId}|${row.meterId}|${row.date}`
    const want = expected.get(key)
    if (weight !== 1) return `${key} has weight ${weight}`
    if (seen.has(key)) return `${key} appears twice`
    seen.add(key)
    if (want === undefined) return `${key} is not in the recount`
    if (!(Math.abs(row.value - want) <= 1e-9 * Math.max(1, Math.abs(want)))) return `${key} sums to ${row.value}, the recount to ${want}`
  }
  if (seen.size !== expected.size) return `${seen.size} daily totals, the recount has ${expected.size}`
  return undefined
}
