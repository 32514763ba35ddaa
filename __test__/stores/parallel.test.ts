/**
 * Parallel writers: 4 processes ingest disjoint batches of meter reads into
 * one store (one SQLite file; one PostgreSQL schema), batch i with input time
 * 3 + i and frontier 2 + i, so that stepping's time protocol orders them. The
 * final state and cache must equal a serial run's, whether each iteration is
 * one transaction or commits every set (`flushEverySet`).
 */
import test from 'ava'
import * as st from '../../src/index.js'
import { freshPostgresUrl, dropPostgresDatabase } from '../helpers/postgres.js'
import { freshSqlitePath } from '../helpers/sqlite.js'
import {
  METERS_TIME,
  type StoreLocation,
  USERS_TIME,
  allState,
  dailyRows,
  meterReadsData,
  meterReadsQuery,
  openStore,
  serialRun,
  spawnWriter,
} from './fixtures/meterReads.js'

// Only matters for a server given by STEPPING_PG_URL: an embedded one is thrown away whole.
test.after.always('drop this process’s PostgreSQL database', () => dropPostgresDatabase())

const WRITERS = 4
const DATA = { seed: 11, users: 6, batches: 48, perBatch: 10 }
const data = meterReadsData(DATA)
const expected = serialRun(data)

/** Create the store, put the users and meters in, then let WRITERS processes ingest the reads. */
export async function ingestInParallel(location: StoreLocation, writers: number, flushEverySet: boolean): Promise<void> {
  const { graph } = meterReadsQuery()
  const setup = await openStore(location, graph, true)
  try {
    const [users, meters] = st.actions(setup, graph)
    const at = (t: number) => ({ time: st.time({ inputTime: t, frontier: t - 1 }) })
    await users.apply(data.users.map((u) => [u, 1] as const), at(USERS_TIME))
    await meters.apply(data.meters.map((m) => [m, 1] as const), at(METERS_TIME))
  } finally {
    await setup.close()
  }
  const procs = Array.from({ length: writers }, (_, writer) =>
    spawnWriter({ location, data: DATA, mode: 'share', writer, writers, flushEverySet }),
  )
  for (const p of procs) {
    if ((await p.waitFor('ready')) === undefined) throw new Error(`a writer failed to open the store:\n${p.stderr()}`)
  }
  for (const p of procs) p.child.stdin!.write('go\n')
  const results = await Promise.all(procs.map((p) => p.exited))
  results.forEach((r, i) => {
    if (r.code !== 0) throw new Error(`writer ${i} failed (exit ${r.code}):\n${procs[i]!.stderr()}`)
  })
}

for (const kind of ['sqlite', 'postgres'] as const) {
  for (const flushEverySet of [false, true]) {
    test(`parallel: ${WRITERS} ${kind} writers${flushEverySet ? ' flushing every set' : ''} end where a serial run ends`, async (t) => {
      const location: StoreLocation = { kind, target: kind === 'sqlite' ? freshSqlitePath() : await freshPostgresUrl() }
      await ingestInParallel(location, WRITERS, flushEverySet)
      const { graph, daily } = meterReadsQuery()
      const store = await openStore(location, graph, false)
      try {
        const want = await expected
        t.is(await store.writtenUpTo(), 2 + DATA.batches)
        t.deepEqual(await dailyRows(store, daily), want.daily)
        t.deepEqual(await allState(store), want.state)
      } finally {
        await store.close()
      }
    })
  }
}
