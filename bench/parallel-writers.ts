/**
 * Parallel writers: throughput of 1, 2 and 4 writer processes ingesting the
 * meter-reads data (users ⋈ meters ⋈ half-hourly reads, summed per user,
 * meter and day, cached by day) into one SQLite file and into one PostgreSQL
 * database, with stepping's time protocol ordering the batches (batch i has
 * input time 3 + i and frontier 2 + i), one transaction per iteration and
 * with `flushEverySet`.
 *
 * Each writer opens the store first; the clock runs from "go" until the last
 * writer is done, so process start-up is not counted. Every run's cache is
 * checked against a serial in-memory run.
 *
 *   node --import tsx bench/parallel-writers.ts [--batches 240] [--per-batch 25] [--out bench/results/parallel-writers.md]
 *
 * PostgreSQL: STEPPING_PG_URL, or a throwaway embedded server.
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { cpus, loadavg } from 'node:os'
import { dirname } from 'node:path'
import { parseArgs } from 'node:util'
import * as st from '../src/index.js'
import { freshPostgresUrl, postgresServerUrl } from '../__test__/helpers/postgres.js'
import { freshSqlitePath } from '../__test__/helpers/sqlite.js'
import {
  METERS_TIME,
  type StoreLocation,
  USERS_TIME,
  dailyRows,
  meterReadsData,
  meterReadsQuery,
  openStore,
  serialRun,
  spawnWriter,
} from '../__test__/stores/fixtures/meterReads.js'

const { values: args } = parseArgs({
  options: {
    batches: { type: 'string', default: '240' },
    'per-batch': { type: 'string', default: '25' },
    out: { type: 'string', default: 'bench/results/parallel-writers.md' },
  },
})
const DATA = { seed: 3, users: 50, batches: Number(args.batches), perBatch: Number(args['per-batch']) }
const data = meterReadsData(DATA)
const totalReads = DATA.batches * DATA.perBatch

async function run(location: StoreLocation, writers: number, flushEverySet: boolean): Promise<{ seconds: number; ok: boolean }> {
  const { graph, daily } = meterReadsQuery()
  const setup = await openStore(location, graph, true)
  const [users, meters] = st.actions(setup, graph)
  const at = (t: number) => ({ time: st.time({ inputTime: t, frontier: t - 1 }) })
  await users.apply(data.users.map((u) => [u, 1] as const), at(USERS_TIME))
  await meters.apply(data.meters.map((m) => [m, 1] as const), at(METERS_TIME))
  const procs = Array.from({ length: writers }, (_, writer) => spawnWriter({ location, data: DATA, mode: 'share', writer, writers, flushEverySet }))
  for (const p of procs) if ((await p.waitFor('ready')) === undefined) throw new Error(p.stderr())
  const started = performance.now()
  for (const p of procs) p.child.stdin!.write('go\n')
  const exits = await Promise.all(procs.map((p) => p.exited))
  const seconds = (performance.now() - started) / 1000
  exits.forEach((e, i) => {
    if (e.code !== 0) throw new Error(`writer ${i} failed:\n${procs[i]!.stderr()}`)
  })
  const ok = JSON.stringify(await dailyRows(setup, daily)) === JSON.stringify((await expected).daily)
  await setup.close()
  return { seconds, ok }
}

const expected = serialRun(data)
const pgUrl = await postgresServerUrl(process.pid)
const lines: string[] = []
const say = (line: string): void => {
  console.log(line)
  lines.push(line)
}

say(`# Parallel writers (meter reads)`)
say('')
say(`${totalReads} reads in ${DATA.batches} batches of ${DATA.perBatch} (${DATA.users} users, ${data.meters.length} meters), ` +
  `after the users and meters; ${cpus().length} CPUs (${cpus()[0]?.model ?? 'unknown'}, load average ${loadavg()[0]!.toFixed(1)} at the start), node ${process.version}, ` +
  `PostgreSQL ${process.env.STEPPING_PG_URL ? 'from STEPPING_PG_URL' : 'embedded (fsync off)'}, ${new Date().toISOString()}.`)
say('Time from "go" to the last writer done (process start-up and store opening excluded); cache checked against a serial run.')
say('')
say('| store | commits | writers | seconds | reads/s | speed-up | cache = serial |')
say('| --- | --- | --- | ---: | ---: | ---: | --- |')
for (const kind of ['sqlite', 'postgres'] as const) {
  for (const flushEverySet of [false, true]) {
    let one = 0
    for (const writers of [1, 2, 4]) {
      const location: StoreLocation = { kind, target: kind === 'sqlite' ? freshSqlitePath() : await freshPostgresUrl(process.pid) }
      const { seconds, ok } = await run(location, writers, flushEverySet)
      const rate = totalReads / seconds
      if (writers === 1) one = rate
      say(`| ${kind} | ${flushEverySet ? 'every set' : 'per iteration'} | ${writers} | ${seconds.toFixed(2)} | ${Math.round(rate)} | ${(rate / one).toFixed(2)}× | ${ok ? 'yes' : 'NO'} |`)
    }
  }
}
void pgUrl
mkdirSync(dirname(args.out!), { recursive: true })
writeFileSync(args.out!, lines.join('\n') + '\n')
console.log(`\nwritten to ${args.out}`)
process.exit(0)
