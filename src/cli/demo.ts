/**
 * `stepping demo`: the meter-reads query (src/examples/meterReads.ts) run on a
 * generated data set. Users and meters go in first, then the half-hourly reads
 * in batches (one iteration per batch) with a progress bar; at the end the
 * daily-usage cache is read back through its date index and the top daily
 * usages are printed, with how long the read took.
 */
import { existsSync, rmSync } from 'node:fs'
import { resolve } from 'node:path'
import Database from 'better-sqlite3'
import cliProgress from 'cli-progress'
import * as st from '../index.js'
import { batches, type DailyUsage, generateMeterReads, type MeterReadsQuery, meterReadsGraph } from '../examples/meterReads.js'
import { CliError } from './errors.js'
import { formatCount, formatDuration, renderTable } from './format.js'

export const STORE_KINDS = ['memory', 'sqlite', 'postgres'] as const
export type StoreKind = (typeof STORE_KINDS)[number]

export interface DemoOptions {
  readonly store: StoreKind
  /** SQLite file (for --store sqlite). */
  readonly file: string
  /** Postgres connection URL (for --store postgres). */
  readonly url: string | undefined
  /** Number of half-hourly reads. */
  readonly rows: number
  /** Reads per iteration. */
  readonly batch: number
  readonly seed: number
  /** Rows in the printed table. */
  readonly top: number
}

/** Where the demo writes: stdout, and whether it is a terminal (for the progress bar). */
export interface DemoOutput {
  readonly stream: NodeJS.WritableStream
  readonly isTTY: boolean
}

interface OpenedStore {
  readonly store: st.Store
  /** Names the store in the header line. */
  readonly where: string
  /** Close the store and whatever was opened for it. */
  close(): Promise<void>
}

/** True when `file` is a SQLite database holding stepping tables (so the demo may replace it). */
function isSteppingDatabase(file: string): boolean {
  let db: Database.Database | undefined
  try {
    db = new Database(file, { readonly: true, fileMustExist: true })
    const metaTables = db
      .prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_graph' ESCAPE '\\'`)
      .all() as { name: string }[]
    return metaTables.some(({ name }) => {
      const columns = db!.prepare(`SELECT name FROM pragma_table_info(?)`).all(name) as { name: string }[]
      return columns.some((c) => c.name === 'name') && columns.some((c) => c.name === 'value')
    })
  } catch {
    return false
  } finally {
    db?.close()
  }
}

async function openSqlite(file: string, query: MeterReadsQuery): Promise<OpenedStore> {
  const path = resolve(file)
  if (existsSync(path)) {
    // The demo starts from empty state; it only ever deletes a database it made itself.
    if (!isSteppingDatabase(path)) {
      throw new CliError(`${file} exists and is not a stepping database; pass --file with another path`)
    }
    for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true })
  }
  const store = await st.sqliteStore(path, query.graph, { createTables: true })
  return { store, where: `sqlite (${file})`, close: () => store.close() }
}

async function openPostgres(url: string | undefined, query: MeterReadsQuery): Promise<OpenedStore> {
  if (!url) throw new CliError('--store postgres needs --url postgres://user:password@host:5432/database (or DATABASE_URL)')
  const { openDemoPostgres } = await import('./demoPostgres.js')
  return openDemoPostgres(url, query)
}

async function openStore(options: DemoOptions, query: MeterReadsQuery): Promise<OpenedStore> {
  switch (options.store) {
    case 'memory': {
      const store = st.memoryStore(query.graph)
      return { store, where: 'memory', close: () => store.close() }
    }
    case 'sqlite':
      return openSqlite(options.file, query)
    case 'postgres':
      return openPostgres(options.url, query)
  }
}

/** Progress of the reads: a bar with rows/s on a terminal, a plain line every 10% elsewhere. */
function progressReporter(out: DemoOutput, total: number) {
  const started = performance.now()
  const rate = (done: number) => {
    const seconds = (performance.now() - started) / 1000
    return seconds > 0 ? formatCount(done / seconds) : '-'
  }
  if (out.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        stream: out.stream,
        format: 'ingesting reads {bar} {percentage}% | {done}/{all} | {rate} rows/s | eta {eta_formatted}',
        hideCursor: true,
        clearOnComplete: true,
        fps: 10,
      },
      cliProgress.Presets.shades_classic,
    )
    bar.start(total, 0, { rate: '-', done: '0', all: formatCount(total) })
    return {
      update: (done: number) => bar.update(done, { rate: rate(done), done: formatCount(done) }),
      stop: () => bar.stop(),
    }
  }
  let nextReport = 0.1
  return {
    update: (done: number) => {
      if (total === 0 || done / total + 1e-9 < nextReport) return
      while (done / total + 1e-9 >= nextReport) nextReport += 0.1
      out.stream.write(`  ${formatCount(done)}/${formatCount(total)} reads (${rate(done)} rows/s)\n`)
    },
    stop: () => undefined,
  }
}

/** Highest usage first; ties in a deterministic order (by day, user, meter). */
export function compareDailyUsages(a: DailyUsage, b: DailyUsage): number {
  // Compare whole watt-hours: sums of the same reads in another order may differ in the last bit.
  const byValue = Math.round(b.value * 1000) - Math.round(a.value * 1000)
  if (byValue !== 0) return byValue
  if (a.date !== b.date) return a.date < b.date ? -1 : 1
  if (a.userId !== b.userId) return a.userId - b.userId
  return a.meterId < b.meterId ? -1 : a.meterId > b.meterId ? 1 : 0
}

/** The table the demo ends with: rank, day, user, meter, kWh to the Wh. */
export function topUsageTable(usages: readonly DailyUsage[], top: number): string {
  const rows = [...usages]
    .sort(compareDailyUsages)
    .slice(0, top)
    .map((u, i) => [String(i + 1), u.date, String(u.userId), u.meterId, u.value.toFixed(3)])
  return renderTable(
    [
      { title: '#', align: 'right' },
      { title: 'date' },
      { title: 'user', align: 'right' },
      { title: 'meter' },
      { title: 'kWh', align: 'right' },
    ],
    rows,
  )
}

export async function runDemo(options: DemoOptions, out: DemoOutput): Promise<void> {
  const print = (line = '') => out.stream.write(line + '\n')
  const started = performance.now()
  const query = meterReadsGraph()
  const data = generateMeterReads({ rows: options.rows, seed: options.seed })
  const opened = await openStore(options, query)
  const { store, where } = opened
  try {
    print('stepping demo: users ⋈ meters ⋈ half-hourly reads → daily usage per user, meter and day')
    print(`store: ${where} · backend: ${st.backend}`)
    print(
      `data: ${formatCount(data.users.length)} users, ${formatCount(data.meters.length)} meters, ` +
        `${formatCount(data.reads.length)} reads in January 2023 (seed ${options.seed})`,
    )

    const [users, meters, reads] = st.actions(store, query.graph)
    const asInserts = <T>(rows: readonly T[]) => rows.map((row) => [row, 1] as const)
    for (const chunk of batches(data.users, options.batch)) await users.apply(asInserts(chunk))
    for (const chunk of batches(data.meters, options.batch)) await meters.apply(asInserts(chunk))
    print(`inserted ${formatCount(data.users.length)} users and ${formatCount(data.meters.length)} meters`)

    const progress = progressReporter(out, data.reads.length)
    const ingestStarted = performance.now()
    let done = 0
    let iterations = 0
    try {
      for (const chunk of batches(data.reads, options.batch)) {
        await reads.apply(asInserts(chunk))
        done += chunk.length
        iterations++
        progress.update(done)
      }
    } finally {
      progress.stop()
    }
    const ingestMs = performance.now() - ingestStarted
    print(
      `ingested ${formatCount(done)} reads in ${formatCount(iterations)} iterations of up to ${formatCount(options.batch)} ` +
        `in ${formatDuration(ingestMs)} (${formatCount(done / Math.max(ingestMs / 1000, 1e-6))} rows/s)`,
    )

    const cache = query.dailyCache.zset(store)
    const readStarted = performance.now()
    const usages: DailyUsage[] = []
    for await (const [, usage, weight] of cache.iterByIndex(query.byDate)) {
      for (let i = 0; i < weight; i++) usages.push(usage)
    }
    const readMs = performance.now() - readStarted
    print(`read ${formatCount(usages.length)} daily usages from the cache in date order (iterByIndex by date) in ${formatDuration(readMs)}`)

    if (usages.length > 0) {
      const busiest = [...usages].sort(compareDailyUsages)[0]!.date
      const lookupStarted = performance.now()
      let sameDay = 0
      for await (const _ of cache.iterByIndex(query.byDate, [busiest])) sameDay++
      print(`looked up one day by index (${busiest}): ${formatCount(sameDay)} daily usages in ${formatDuration(performance.now() - lookupStarted)}`)
    }

    print()
    print(`top ${Math.min(options.top, usages.length)} daily usages`)
    print(topUsageTable(usages, options.top))
    print()
    print(`done in ${formatDuration(performance.now() - started)}`)
  } finally {
    await opened.close()
  }
}
