/**
 * Peer: @electric-sql/d2ts (differential dataflow in TypeScript), the standard
 * meter-reads pipeline in memory and with its SQLite-persisted operators:
 * users ⋈ meters (by user) ⋈ reads (by meter) → reduce (sum) by (user, meter, day).
 * d2ts has no indexed cache, so its output changes are kept in a Map by day and
 * the single-key read is a Map lookup. One version per batch.
 * Installed by the orchestrator into a scratch directory (lib/peers/npmPeer.ts).
 */
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import Database from 'better-sqlite3'
import { IngestMeter, outcome, peakRssMB } from '../measure.js'
import { npmPeerRoot, NPM_PEERS } from '../peers/npmPeer.js'
import { sqliteBytes } from '../stores.js'
import type { RunConfig, RunResult } from '../types.js'
import { batched, workload } from '../workloads.js'
import type { HalfHourlyMeterRead, Meter, User } from '../scenarios/meterReads.js'
import { timeCacheReads } from './stepping.js'
import { isoDate as isoDateOf } from '../../../src/examples/meterReads.js'

// The same day function as our engine's query. d2ts's SQLite operators keep values as JSON, so a Date may come back as a string.
const isoDate = (d: Date | string): string => isoDateOf(typeof d === 'string' ? new Date(d) : d)

export async function runD2ts(c: RunConfig): Promise<Partial<RunResult>> {
  if (c.scenario === 'complex') return { status: 'skipped', note: 'd2ts runs the standard pipeline only' }
  if (c.store === 'postgres') return { status: 'skipped', note: 'd2ts has no PostgreSQL backend' }
  if (!c.peerDir) return { status: 'unavailable', note: 'd2ts not installed' }
  const root = npmPeerRoot(c.peerDir, NPM_PEERS.d2ts)
  let d2: any, d2sql: any
  try {
    d2 = await import(pathToFileURL(path.join(root, 'dist', 'index.js')).href)
    d2sql = await import(pathToFileURL(path.join(root, 'dist', 'sqlite', 'index.js')).href)
  } catch (e) {
    return { status: 'unavailable', note: `d2ts not installed: ${(e as Error).message}` }
  }
  const w = workload(c.scenario, c.rows, c.seed)
  const file = path.join(c.dir, `${c.id}.sqlite`)
  const sqlite = c.store === 'sqlite' ? new Database(file) : undefined
  if (sqlite) {
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma('synchronous = NORMAL') // as our SQLite store sets it
  }
  const db = sqlite ? new d2sql.BetterSQLite3Wrapper(sqlite) : undefined
  const join = (other: unknown) => (db ? d2sql.join(other, db, 'inner') : d2.join(other, 'inner'))
  const reduce = (f: (vals: [number, number][]) => [number, number][]) => (db ? d2sql.reduce(f, db) : d2.reduce(f))

  // The cache: day → (user|meter|day → [daily usage, multiplicity]).
  const cache = new Map<string, Map<string, [unknown, number]>>()
  const graph = new d2.D2({ initialFrontier: 0 })
  const users = graph.newInput()
  const meters = graph.newInput()
  const reads = graph.newInput()
  const userMeters = users.pipe(
    join(meters),
    d2.map(([, [u, m]]: [number, [User, Meter]]) => [m.meterId, { userId: u.userId, name: u.name, meterId: m.meterId }]),
  )
  userMeters.pipe(
    join(reads),
    d2.map(([, [um, r]]: [string, [{ userId: number; meterId: string }, HalfHourlyMeterRead]]) => [
      `${um.userId}|${um.meterId}|${isoDate(r.timestamp)}`,
      r.value,
    ]),
    reduce((vals) => {
      let sum = 0
      for (const [v, n] of vals) sum += v * n
      return [[sum, 1]]
    }),
    d2.output((msg: any) => {
      if (msg.type !== d2.MessageType.DATA) return
      for (const [[key, value], n] of msg.data.collection.getInner() as [[string, number], number][]) {
        const [userId, meterId, date] = key.split('|') as [string, string, string]
        let day = cache.get(date)
        if (!day) cache.set(date, (day = new Map()))
        const k = key + '|' + value
        const was = day.get(k)
        const weight = (was?.[1] ?? 0) + n
        if (weight === 0) day.delete(k)
        else day.set(k, [{ userId: Number(userId), meterId, date, value }, weight])
      }
    }),
  )
  graph.finalize()
  let version = 0
  const send = (input: any, rows: unknown[], key: (r: any) => unknown) => {
    input.sendData(version, new d2.MultiSet(rows.map((r) => [[key(r), r], 1])))
    version++
    for (const i of [users, meters, reads]) i.sendFrontier(version)
    graph.run()
  }
  try {
    for (const b of batched(w.setup[0]![1] as User[], 1000)) send(users, b, (u) => u.userId)
    for (const b of batched(w.setup[1]![1] as Meter[], 1000)) send(meters, b, (m) => m.userId)
    const meter = new IngestMeter(c.rows, c.timeLimitS)
    let partial = false
    for (const b of batched(w.rows() as Generator<HalfHourlyMeterRead>, c.batch)) {
      await meter.time(b.length, () => send(reads, b, (r) => r.meterId))
      if (meter.overLimit) {
        partial = true
        break
      }
    }
    const cacheRead = await timeCacheReads(function* (k) {
      const day = cache.get(String(k))
      if (day) for (const [v, n] of day.values()) yield [k, v, n]
    }, w.lookupKeys(c.lookups, meter.ingested))
    const bytes = sqlite ? sqliteBytes(sqlite, file) : undefined
    const peakRss = peakRssMB() // before the recount
    const answer = [...cache.values()].flatMap((day) => [...day.values()].map(([row, n]) => [row, n] as const))
    return {
      ...outcome(partial, c.timeLimitS, w.differenceFromRecount(answer, meter.ingested)),
      ...meter.result(),
      cacheRead,
      bytesOnDisk: bytes,
      bytesPer100k: bytes === undefined ? undefined : Math.round((bytes / Math.max(1, meter.ingested)) * 100_000),
      peakRssMB: peakRss,
      extra: { cacheRows: answer.length, answerChecked: true },
    }
  } finally {
    sqlite?.close()
  }
}
