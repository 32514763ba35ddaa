/**
 * The meter-reads query: users ⋈ meters ⋈ half-hourly reads, grouped by user,
 * meter and day, summed, cached with an index on day. Reference
 * tests/run/test_profile.py (test_profile_1, test_integrate) and
 * docs/snippets/test_meter_reads.py. UUIDs are strings, timestamps Dates and
 * calendar days ISO `YYYY-MM-DD` strings (API.md, "Values").
 */
import * as st from '../../src/index.js'
import { storeTest } from '../helpers/stores.js'
import { byIndex } from '../helpers/zsets.js'

type User = { userId: number; name: string }
type Meter = { meterId: string; userId: number }
type HalfHourlyMeterRead = { meterId: string; timestamp: Date; value: number }
type UserMeter = { userId: number; name: string; meterId: string }
type UserMeterRead = UserMeter & { timestamp: Date; value: number; date: string }
type DailyUsage = { userId: number; meterId: string; date: string; value: number }

const indexDaily = st.index<DailyUsage>((d) => d.date)

function meterReadsQuery() {
  const dailyCache = st.cache<DailyUsage>()
  const graph = st.compile([st.input<User>(), st.input<Meter>(), st.input<HalfHourlyMeterRead>()], (users, meters, reads) => {
    const joinMeters = st.join(users, meters, {
      onLeft: st.index<User>((u) => u.userId),
      onRight: st.index<Meter>((m) => m.userId),
    })
    const userMeters = st.map(joinMeters, (p): UserMeter => ({ userId: p.left.userId, name: p.left.name, meterId: p.right.meterId }))
    const joinReads = st.join(userMeters, reads, {
      onLeft: st.index<UserMeter>((u) => u.meterId),
      onRight: st.index<HalfHourlyMeterRead>((r) => r.meterId),
    })
    const merged = st.map(
      joinReads,
      (p): UserMeterRead => ({
        ...p.left,
        timestamp: p.right.timestamp,
        value: p.right.value,
        date: p.right.timestamp.toISOString().slice(0, 10),
      }),
    )
    const grouped = st.groupReduceFlatten(merged, {
      by: st.index<UserMeterRead>((f) => [f.userId, f.meterId, f.date]),
      zero: () => 0,
      pick: (u) => u.value,
    })
    const asDaily = st.map(grouped, (p): DailyUsage => {
      const [userId, meterId, date] = p.right
      return { userId, meterId, date, value: p.left }
    })
    dailyCache.integrateIndexed(asDaily, [indexDaily])
    return asDaily
  })
  return { graph, dailyCache }
}

const user1: User = { userId: 1, name: 'oli' }
const meterId1 = '00000001-b3fb-47ef-b22f-a45ba5b7b645'
const meterId2 = '00000002-b3fb-47ef-b22f-a45ba5b7b645'
const meter1: Meter = { meterId: meterId1, userId: 1 }
const at = (day: number, hour: number) => new Date(Date.UTC(2023, 0, day, hour))
const halfHourlyReads1: HalfHourlyMeterRead[] = [
  { meterId: meterId1, timestamp: at(1, 2), value: 24.0 },
  { meterId: meterId1, timestamp: at(1, 3), value: 0.0 },
  { meterId: meterId1, timestamp: at(2, 4), value: 12.5 },
  { meterId: meterId1, timestamp: at(3, 5), value: 8.0 },
  { meterId: meterId1, timestamp: at(2, 6), value: 6.0 },
  { meterId: meterId2, timestamp: at(2, 6), value: 100.0 },
]
const daily = (date: string, value: number): DailyUsage => ({ userId: 1, meterId: meterId1, date, value })

storeTest('meter reads: the changes read by read (reference test_profile_1)', async (t, open) => {
  const { graph } = meterReadsQuery()
  const store = await open(graph)
  const [iUsers, iMeters, iReads] = st.actions(store, graph)
  const soFar = new Map<string, [number, DailyUsage]>()
  const note = ([z]: st.ZSet<DailyUsage>[]) => {
    for (const [v, count] of z.iter()) soFar.set(JSON.stringify([count, v]), [count, v])
  }
  note(await iUsers.insert(user1))
  note(await iMeters.insert(meter1))
  for (const read of halfHourlyReads1) note(await iReads.insert(read))

  const actual = [...soFar.values()]
    .filter(([, v]) => v.value !== 0)
    .sort(([ca, a], [cb, b]) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.value - b.value || cb - ca))
  t.deepEqual(actual, [
    [1, daily('2023-01-01', 24)],
    [1, daily('2023-01-02', 12.5)],
    [-1, daily('2023-01-02', 12.5)],
    [1, daily('2023-01-02', 18.5)],
    [1, daily('2023-01-03', 8)],
  ])
})

storeTest('meter reads: the cache by day, then a read removed (reference docs/snippets/test_meter_reads.py)', async (t, open) => {
  const { graph, dailyCache } = meterReadsQuery()
  const store = await open(graph)
  const [iUsers, iMeters, iReads] = st.actions(store, graph)
  await iUsers.insert(user1)
  await iMeters.insert(meter1)
  await iReads.insert(...halfHourlyReads1)

  t.deepEqual(await byIndex(dailyCache.zset(store), indexDaily, ['2023-01-02', '2023-01-03']), [
    ['2023-01-02', daily('2023-01-02', 18.5), 1],
    ['2023-01-03', daily('2023-01-03', 8), 1],
  ])
  t.deepEqual(await byIndex(dailyCache.zset(store), indexDaily), [
    ['2023-01-01', daily('2023-01-01', 24), 1],
    ['2023-01-02', daily('2023-01-02', 18.5), 1],
    ['2023-01-03', daily('2023-01-03', 8), 1],
  ])

  await iReads.remove(halfHourlyReads1[2]!) // a read from 2023-01-02
  t.deepEqual(await byIndex(dailyCache.zset(store), indexDaily, ['2023-01-02', '2023-01-03']), [
    ['2023-01-02', daily('2023-01-02', 6), 1],
    ['2023-01-03', daily('2023-01-03', 8), 1],
  ])

  // Removing the meter removes every day of it (the groups are retracted: API.md "Where we differ").
  await iMeters.remove(meter1)
  t.deepEqual(await byIndex(dailyCache.zset(store), indexDaily), [])
  // ... and putting it back brings them back.
  await iMeters.insert(meter1)
  t.deepEqual(await byIndex(dailyCache.zset(store), indexDaily, ['2023-01-02']), [['2023-01-02', daily('2023-01-02', 6), 1]])
})

storeTest('meter reads: many users and reads, then a lookup by day (reference test_integrate)', async (t, open) => {
  const { graph, dailyCache } = meterReadsQuery()
  const store = await open(graph)
  const [iUsers, iMeters, iReads] = st.actions(store, graph)
  await iUsers.insert(user1)
  await iMeters.insert(meter1)
  await iReads.insert(...halfHourlyReads1)

  const n = 60
  await iUsers.insert(...Array.from({ length: n }, (_, i) => ({ userId: i + 10, name: `user-${i + 10}` })))
  // deterministic "random" reads on meter 1 with whole-number values (exact sums)
  let seed = 42
  const next = (m: number) => (seed = (seed * 1103515245 + 12345) % 2147483648) % m
  const reads: HalfHourlyMeterRead[] = Array.from({ length: n }, (_, i) => ({
    meterId: meterId1,
    timestamp: new Date(Date.UTC(2023, 0, 1 + next(31), next(24), i % 60)),
    value: next(100),
  }))
  for (let i = 0; i < reads.length; i += 20) await iReads.insert(...reads.slice(i, i + 20))
  const extra = [
    { meterId: meterId1, timestamp: at(2, 23), value: 7 },
    { meterId: meterId1, timestamp: at(5, 1), value: 1 },
  ]
  await iReads.insert(...extra)

  const on2nd = [...halfHourlyReads1, ...reads, ...extra].filter((r) => r.meterId === meterId1 && r.timestamp.toISOString().startsWith('2023-01-02'))
  const expected = on2nd.reduce((s, r) => s + r.value, 0)
  const actual = await byIndex(dailyCache.zset(store), indexDaily, ['2023-01-02'])
  t.deepEqual(actual, [['2023-01-02', daily('2023-01-02', expected), 1]])
})
