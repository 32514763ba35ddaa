/**
 * Crash safety: a writer process ingesting the meter-reads data is killed
 * with SIGKILL at random points, again and again (at least 20 times per
 * store), while opening the store and in the middle of iterations. Each
 * restart resumes after the store's `writtenUpTo()`. At the end every delay's
 * state and the cache must equal a clean serial run: nothing lost (a batch
 * whose iteration was killed is re-run), nothing counted twice (a batch that
 * committed is not).
 */
import test from 'ava'
import { freshPostgresUrl, dropPostgresDatabase } from '../helpers/postgres.js'
import { freshSqlitePath } from '../helpers/sqlite.js'
import { type StoreLocation, type WriterJob, meterReadsQuery, openStore, allState, dailyRows, meterReadsData, serialRun, spawnWriter } from './fixtures/meterReads.js'

// Only matters for a server given by STEPPING_PG_URL: an embedded one is thrown away whole.
test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

const KILLS = 20
const DATA = { seed: 7, users: 4, batches: 400, perBatch: 4 }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

interface CrashReport {
  kills: number
  killedWhileOpening: number
  /** Kills that landed after the writer had committed at least one batch in that life. */
  killedMidIngestion: number
  /** Batches committed by each killed writer before it died. */
  committedPerLife: number[]
}

async function crashAndResume(location: StoreLocation): Promise<CrashReport> {
  const job: WriterJob = { location, data: DATA, mode: 'resume' }
  const report: CrashReport = { kills: 0, killedWhileOpening: 0, killedMidIngestion: 0, committedPerLife: [] }
  for (let attempt = 0; report.kills < KILLS; attempt++) {
    if (attempt > KILLS * 3) throw new Error(`only ${report.kills} kills landed in ${attempt} attempts`)
    const w = spawnWriter(job)
    // Kills land while the store is opened (the first while its tables are created), in the first
    // iteration after opening, or any time after the first commit of this life.
    const whileOpening = attempt % 4 === 0
    const mark = whileOpening ? 'opening' : attempt % 4 === 1 ? 'ready' : 'committed'
    const line = await w.waitFor(mark)
    if (line === undefined) throw new Error(`the writer ended early:\n${w.stderr()}`)
    await sleep(Math.random() * (mark === 'committed' ? 30 : 15))
    const landed = w.child.exitCode === null && w.child.kill('SIGKILL')
    const { signal, code } = await w.exited
    if (landed && signal === 'SIGKILL') {
      const committed = w.lines.filter((l) => l.startsWith('committed')).length
      report.kills++
      report.committedPerLife.push(committed)
      if (whileOpening) report.killedWhileOpening++
      else if (committed > 0) report.killedMidIngestion++
    } else if (code !== 0) {
      throw new Error(`the writer failed (exit ${code}):\n${w.stderr()}`)
    } else {
      throw new Error('the writer finished before it could be killed: give it more batches')
    }
  }
  // One last run, left alone, finishes the ingestion.
  const last = spawnWriter(job)
  const { code } = await last.exited
  if (code !== 0) throw new Error(`the final writer failed (exit ${code}):\n${last.stderr()}`)
  return report
}

const expected = serialRun(meterReadsData(DATA))

for (const kind of ['sqlite', 'postgres'] as const) {
  test(`crash: ${KILLS}+ SIGKILLs of a ${kind} writer lose nothing and count nothing twice`, async (t) => {
    const location: StoreLocation = { kind, target: kind === 'sqlite' ? freshSqlitePath() : await freshPostgresUrl() }
    const report = await crashAndResume(location)
    t.true(report.kills >= KILLS)
    t.true(report.killedWhileOpening >= 1)
    // Half the kills come after a commit of that life: in the middle of the ingestion.
    t.true(report.killedMidIngestion >= KILLS / 2 - 1, `only ${report.killedMidIngestion} kills landed mid-ingestion`)
    const { graph, daily } = meterReadsQuery()
    const store = await openStore(location, graph, false)
    try {
      t.is(await store.writtenUpTo(), 2 + DATA.batches)
      const want = await expected
      t.deepEqual(await allState(store), want.state)
      t.deepEqual(await dailyRows(store, daily), want.daily)
      t.log(
        `${report.kills} kills: ${report.killedWhileOpening} while opening, ${report.killedMidIngestion} mid-ingestion; ` +
          `batches committed per life: ${report.committedPerLife.join(' ')}`,
      )
    } finally {
      await store.close()
    }
  })
}
