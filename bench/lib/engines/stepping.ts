/** Our engine: the workload's query on one store, with the backend chosen by STEPPING_BACKEND. */
import * as st from '../../../src/index.js'
import { IngestMeter, outcome, peakRssMB } from '../measure.js'
import { latency, now, round } from '../stats.js'
import { openSteppingStore, Unavailable } from '../stores.js'
import { perRow, timedStore } from '../timeSplit.js'
import type { RunConfig, RunResult } from '../types.js'
import { batched, workload } from '../workloads.js'

/** Single-key reads through the cache's index, timed. */
export async function timeCacheReads(
  read: (key: unknown) => AsyncIterable<unknown> | Iterable<unknown>,
  keys: unknown[],
): Promise<RunResult['cacheRead']> {
  const ms: number[] = []
  let rows = 0
  for (let i = 0; i < Math.min(10, keys.length); i++) for await (const _ of read(keys[i])) void _ // warm up
  for (const k of keys) {
    const t0 = now()
    for await (const _ of read(k)) rows++
    ms.push(now() - t0)
  }
  return { ...latency(ms), rowsPerRead: round(rows / Math.max(1, keys.length), 1) }
}

export async function runStepping(c: RunConfig): Promise<Partial<RunResult>> {
  const backendUsed = st.backend
  if (c.backend === 'native' && backendUsed !== 'native') {
    return { status: 'unavailable', backendUsed, note: 'native backend not available (st.backend is "ts")' }
  }
  const w = workload(c.scenario, c.rows, c.seed)
  let opened
  try {
    opened = await openSteppingStore(c.store, w.graph, { dir: c.dir, pgUrl: c.pgUrl, id: c.id })
  } catch (e) {
    if (e instanceof Unavailable) return { status: 'unavailable', backendUsed, note: e.message }
    throw e
  }
  const timer = timedStore(opened.store)
  const { store } = timer
  try {
    const acts = st.actions(store, w.graph) as unknown as st.Action<unknown, unknown[]>[]
    const t0 = now()
    for (const [input, rows] of w.setup) for (const b of batched(rows, 1000)) await acts[input]!.insert(...b)
    const setupSeconds = round((now() - t0) / 1000, 3)

    const meter = new IngestMeter(c.rows, c.timeLimitS)
    const action = acts[w.mainInput]!
    let partial = false
    for (const b of batched(w.rows(), c.batch)) {
      await meter.time(b.length, () => timer.measure(() => action.insert(...b)))
      if (meter.overLimit) {
        partial = true
        break
      }
    }
    const ingest = meter.result()
    const reader = w.cache.zset(store)
    const cacheRead = await timeCacheReads((k) => reader.iterByIndex(w.index, [k]), w.lookupKeys(c.lookups, meter.ingested))
    // Before the answer is read whole: the check's memory is not the run's.
    const peakRss = peakRssMB()
    const answer: [unknown, number][] = []
    for await (const [, row, n] of reader.iterByIndex(w.index)) answer.push([row, n])
    const difference = w.differenceFromRecount(answer, meter.ingested)
    // Last: it may close the store (SQLite checkpoints and closes before it measures the file).
    const bytes = await opened.bytesOnDisk()
    return {
      ...outcome(partial, c.timeLimitS, difference),
      backendUsed,
      delays: w.graph.def.delays.length,
      setupSeconds,
      ...ingest,
      cacheRead,
      bytesOnDisk: bytes,
      bytesPer100k: bytes === undefined ? undefined : Math.round((bytes / Math.max(1, meter.ingested)) * 100_000),
      peakRssMB: peakRss,
      extra: { store: opened.info, timeSplit: perRow(timer.split, meter.ingested), answerChecked: true },
    }
  } finally {
    await opened.close()
  }
}
