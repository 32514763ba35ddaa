/**
 * Peer: TanStack DB (@tanstack/db), the standard meter-reads pipeline as one live
 * query over three local-only (in-memory) collections, kept up to date by its IVM:
 * reads ⋈ meters ⋈ users, grouped by (user, meter, day), `sum(value)`.
 *
 * What it is given, in its favour:
 * - its query language has no date functions, so each read gets its day
 *   ('YYYY-MM-DD', by the same function as our query's) in plain JS before it is
 *   inserted (inside the timed call), where our query and d2ts compute it in the pipeline;
 * - every collection indexes its fields eagerly (`autoIndex: 'eager'`), so joins
 *   look rows up instead of scanning (it warns otherwise).
 * A collection is keyed, and a bag of reads may repeat a row, so each read is keyed
 * by its place in the input: repeats then count twice, as their weight does in ours.
 * The cache is the live query's changes kept in a Map by day (as for d2ts); the
 * single-key read is a Map lookup. One `insert` (one transaction) per batch.
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { isoDate } from '../../../src/examples/meterReads.js'
import { IngestMeter, outcome, peakRssMB } from '../measure.js'
import { npmPeerRoot, NPM_PEERS } from '../peers/npmPeer.js'
import type { DailyUsage, HalfHourlyMeterRead, Meter, User } from '../scenarios/meterReads.js'
import type { RunConfig, RunResult } from '../types.js'
import { batched, workload } from '../workloads.js'
import { timeCacheReads } from './stepping.js'

/** A read as inserted: keyed by its place, with its day. */
interface DatedRead {
  id: number
  meterId: string
  date: string
  value: number
}

export async function runTanstack(c: RunConfig): Promise<Partial<RunResult>> {
  if (c.scenario === 'complex') return { status: 'skipped', note: 'TanStack DB runs the standard pipeline only' }
  if (c.store !== 'memory') return { status: 'skipped', note: 'TanStack DB keeps its collections in memory' }
  if (!c.peerDir) return { status: 'unavailable', note: 'TanStack DB not installed' }
  let db: any
  try {
    db = await import(pathToFileURL(path.join(npmPeerRoot(c.peerDir, NPM_PEERS.tanstack), 'dist', 'esm', 'index.js')).href)
  } catch (e) {
    return { status: 'unavailable', note: `TanStack DB not installed: ${(e as Error).message}` }
  }
  const w = workload(c.scenario, c.rows, c.seed)
  const indexed = { autoIndex: 'eager', defaultIndexType: db.BasicIndex }
  const collection = <T>(id: string, getKey: (row: T) => string | number) =>
    db.createCollection({ ...db.localOnlyCollectionOptions({ id, getKey }), ...indexed })
  const users = collection<User>('users', (u) => u.userId)
  const meters = collection<Meter>('meters', (m) => m.meterId)
  const reads = collection<DatedRead>('reads', (r) => r.id)
  const { eq, sum } = db
  const daily = db.createLiveQueryCollection({
    startSync: true,
    query: (q: any) =>
      q
        .from({ r: reads })
        .innerJoin({ m: meters }, ({ r, m }: any) => eq(r.meterId, m.meterId))
        .innerJoin({ u: users }, ({ m, u }: any) => eq(m.userId, u.userId))
        .groupBy(({ r, m, u }: any) => [u.userId, m.meterId, r.date])
        .select(({ r, m, u }: any) => ({ userId: u.userId, meterId: m.meterId, date: r.date, value: sum(r.value) })),
  })
  // The cache: day → (group key → daily usage).
  const cache = new Map<string, Map<string, DailyUsage>>()
  daily.subscribeChanges((changes: { type: 'insert' | 'update' | 'delete'; key: string; value: DailyUsage }[]) => {
    for (const { type, key, value } of changes) {
      let day = cache.get(value.date)
      if (!day) cache.set(value.date, (day = new Map()))
      // Its rows carry virtual fields ($key, $origin, ...): the cache keeps the four of ours.
      if (type === 'delete') day.delete(key)
      else day.set(key, { userId: value.userId, meterId: value.meterId, date: value.date, value: value.value })
    }
  })
  await daily.preload()

  for (const b of batched(w.setup[0]![1] as User[], 1000)) users.insert(b)
  for (const b of batched(w.setup[1]![1] as Meter[], 1000)) meters.insert(b)
  const meter = new IngestMeter(c.rows, c.timeLimitS)
  let partial = false
  let id = 0
  for (const b of batched(w.rows() as Generator<HalfHourlyMeterRead>, c.batch)) {
    await meter.time(b.length, () => {
      reads.insert(b.map((r) => ({ id: id++, meterId: r.meterId, date: isoDate(r.timestamp), value: r.value })))
    })
    if (meter.overLimit) {
      partial = true
      break
    }
  }
  const cacheRead = await timeCacheReads((k) => cache.get(String(k))?.values() ?? [], w.lookupKeys(c.lookups, meter.ingested))
  const peakRss = peakRssMB() // before the recount
  const answer = [...cache.values()].flatMap((day) => [...day.values()].map((row) => [row, 1] as const))
  return {
    ...outcome(partial, c.timeLimitS, w.differenceFromRecount(answer, meter.ingested)),
    ...meter.result(),
    cacheRead,
    peakRssMB: peakRss,
    extra: { cacheRows: answer.length, answerChecked: true },
  }
}
