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
import { type HalfHourlyMeterRead, type Meter, type User, meterReadsGraph, seededRandom } from '../../../src/examples/meterReads.js'

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
