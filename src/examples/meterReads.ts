/**
 * The meter-reads example (stepping's test_profile / docs meter-reads snippet):
 * users ⋈ meters ⋈ half-hourly reads, summed per user, meter and day into
 * `DailyUsage` rows, integrated into a cache indexed by day.
 *
 * The demo, the benchmarks and the tests share this module: `meterReadsGraph()`
 * builds the query, `generateMeterReads()` makes a deterministic data set for a
 * seed, and `batches()` cuts a list of rows into insert-sized chunks.
 */
import * as st from '../index.js'

export interface User {
  readonly userId: number
  readonly name: string
}

export interface Meter {
  readonly meterId: string
  readonly userId: number
}

export interface HalfHourlyMeterRead {
  readonly meterId: string
  /** The start of the half-hour, in UTC. */
  readonly timestamp: Date
  /** Energy used in the half-hour, in kWh. */
  readonly value: number
}

/** A user next to one of their meters. */
export interface UserMeter extends User, Meter {}

/** A read with its user and the calendar day it belongs to. */
export interface UserMeterRead extends UserMeter, HalfHourlyMeterRead {
  /** 'YYYY-MM-DD' (UTC) */
  readonly date: string
}

export interface DailyUsage {
  readonly userId: number
  readonly meterId: string
  /** 'YYYY-MM-DD' (UTC) */
  readonly date: string
  /** Sum of the day's reads, in kWh. */
  readonly value: number
}

type DayKey = readonly [userId: number, meterId: string, date: string]

function toUserMeter(p: st.Pair<User, Meter>): UserMeter {
  return { userId: p.left.userId, name: p.left.name, meterId: p.right.meterId }
}

function withDate(p: st.Pair<UserMeter, HalfHourlyMeterRead>): UserMeterRead {
  return {
    userId: p.left.userId,
    name: p.left.name,
    meterId: p.left.meterId,
    timestamp: p.right.timestamp,
    value: p.right.value,
    date: isoDate(p.right.timestamp),
  }
}

function toDailyUsage(p: st.Pair<number, DayKey>): DailyUsage {
  const [userId, meterId, date] = p.right
  return { userId, meterId, date, value: p.left }
}

const DAY_MS = 86_400_000
// Reads share few days, and Date#toISOString costs ~0.4 µs: remember days already formatted.
const dayTexts = new Map<number, string>()

/** The calendar day (UTC) of a timestamp, as 'YYYY-MM-DD'. */
export function isoDate(timestamp: Date): string {
  const day = Math.floor(timestamp.getTime() / DAY_MS)
  let text = dayTexts.get(day)
  if (text === undefined) {
    text = timestamp.toISOString().slice(0, 10)
    if (dayTexts.size >= 100_000) dayTexts.clear()
    dayTexts.set(day, text)
  }
  return text
}

/** The cache's index: daily usages looked up (and ordered) by day. */
export const dailyUsageByDate: st.Index<DailyUsage, string> = st.index<DailyUsage>((d) => d.date) as st.Index<DailyUsage, string>

/** One compiled meter-reads query with the cache it fills. */
export interface MeterReadsQuery {
  readonly graph: st.Graph<[User, Meter, HalfHourlyMeterRead], [DailyUsage]>
  /** Every current DailyUsage, readable with `iterByIndex(dailyUsageByDate, ...)`. */
  readonly dailyCache: st.Cache<DailyUsage>
  readonly byDate: st.Index<DailyUsage, string>
}

/**
 * Build the query. Each call compiles a fresh graph with its own cache, so two
 * stores (or two tests) never share one.
 */
export function meterReadsGraph(): MeterReadsQuery {
  const dailyCache = st.cache<DailyUsage>()
  const graph = st.compile(
    [st.input<User>({ name: 'users' }), st.input<Meter>({ name: 'meters' }), st.input<HalfHourlyMeterRead>({ name: 'reads' })],
    (users, meters, reads) => {
      const userMeters = st.map(
        st.join(users, meters, {
          onLeft: st.index<User>((u) => u.userId),
          onRight: st.index<Meter>((m) => m.userId),
        }),
        toUserMeter,
      )
      const userMeterReads = st.map(
        st.join(userMeters, reads, {
          onLeft: st.index<UserMeter>((um) => um.meterId),
          onRight: st.index<HalfHourlyMeterRead>((r) => r.meterId),
        }),
        withDate,
      )
      const dailyTotals = st.groupReduceFlatten(userMeterReads, {
        by: st.index<UserMeterRead>((r) => [r.userId, r.meterId, r.date] as const) as st.Index<UserMeterRead, DayKey>,
        zero: () => 0,
        pick: (r) => r.value,
      })
      const dailyUsages = st.map(dailyTotals, toDailyUsage)
      dailyCache.integrateIndexed(dailyUsages, [dailyUsageByDate])
      return dailyUsages
    },
  )
  return { graph, dailyCache, byDate: dailyUsageByDate }
}

/** The query compiled once, for `stepping graph src/examples/meterReads.ts`. */
export const graph = meterReadsGraph().graph

// ---- data ----

export interface MeterReadsOptions {
  /** Total number of half-hourly reads, spread evenly over the meters. */
  rows?: number
  /** Alternatively, the number of reads of every meter (at most 1488: 48 a day for 31 days). */
  rowsPerMeter?: number
  /** Number of users; each has one to three meters. Defaults to one user per 400 reads (10 with rowsPerMeter). */
  users?: number
  /** Same seed, same data. */
  seed?: number
}

export interface MeterReadsData {
  readonly users: User[]
  readonly meters: Meter[]
  /** Ordered by time (then meter), as reads would arrive. */
  readonly reads: HalfHourlyMeterRead[]
}

/** The month the reads fall in: January 2023, 31 days, as in the reference. */
export const MONTH_START = Date.UTC(2023, 0, 1)
export const DAYS_IN_MONTH = 31
export const HALF_HOURS_IN_MONTH = DAYS_IN_MONTH * 48
const HALF_HOUR_MS = 30 * 60 * 1000

/** mulberry32: a tiny seeded PRNG, so data sets are identical on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function uuidFrom(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16))
  hex[12] = '4' // version 4, as a random UUID would be
  hex[16] = ((Math.floor(random() * 4) + 8) as number).toString(16) // RFC 4122 variant
  const s = hex.join('')
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`
}

/** `count` distinct half-hour slots of the month, by a partial Fisher-Yates shuffle. */
function distinctSlots(count: number, random: () => number): number[] {
  const slots = Array.from({ length: HALF_HOURS_IN_MONTH }, (_, i) => i)
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(random() * (HALF_HOURS_IN_MONTH - i))
    const tmp = slots[i]!
    slots[i] = slots[j]!
    slots[j] = tmp
  }
  return slots.slice(0, count)
}

/** Household-ish consumption: a base load, more in the evening, in kWh to the Wh. */
function readValue(slot: number, random: () => number): number {
  const hour = (slot % 48) / 2
  const evening = hour >= 17 && hour < 22 ? 1.2 : 0
  const night = hour < 6 ? -0.1 : 0
  return Math.round((0.15 + night + evening * random() + 0.6 * random()) * 1000) / 1000
}

/**
 * A deterministic meter-reads data set: users with one to three meters each,
 * every meter read at distinct random half-hours of January 2023.
 */
export function generateMeterReads(options: MeterReadsOptions = {}): MeterReadsData {
  const { seed = 1 } = options
  if (options.rows !== undefined && options.rowsPerMeter !== undefined) {
    throw new RangeError('generateMeterReads: give rows or rowsPerMeter, not both')
  }
  const rows = options.rows ?? (options.rowsPerMeter === undefined ? 1000 : undefined)
  for (const [name, v] of Object.entries({ rows, rowsPerMeter: options.rowsPerMeter, users: options.users, seed })) {
    if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0)) {
      throw new RangeError(`generateMeterReads: ${name} must be a non-negative integer, got ${v}`)
    }
  }
  const userCount = options.users ?? (rows === undefined ? 10 : Math.max(1, Math.ceil(rows / 400)))
  const random = seededRandom(seed)

  const users: User[] = []
  const meters: Meter[] = []
  for (let userId = 1; userId <= userCount; userId++) {
    users.push({ userId, name: `user-${userId}` })
    const meterCount = 1 + Math.floor(random() * 3)
    for (let m = 0; m < meterCount; m++) meters.push({ meterId: uuidFrom(random), userId })
  }

  const readsOf = (i: number): number =>
    rows === undefined ? options.rowsPerMeter! : Math.floor(rows / meters.length) + (i < rows % meters.length ? 1 : 0)
  if (readsOf(0) > HALF_HOURS_IN_MONTH) {
    throw new RangeError(
      `generateMeterReads: ${readsOf(0)} reads per meter do not fit in ${HALF_HOURS_IN_MONTH} half-hours; use more users`,
    )
  }

  const slotted: { slot: number; read: HalfHourlyMeterRead }[] = []
  meters.forEach((meter, i) => {
    for (const slot of distinctSlots(readsOf(i), random)) {
      const timestamp = new Date(MONTH_START + slot * HALF_HOUR_MS)
      slotted.push({ slot, read: { meterId: meter.meterId, timestamp, value: readValue(slot, random) } })
    }
  })
  slotted.sort((a, b) => a.slot - b.slot || (a.read.meterId < b.read.meterId ? -1 : a.read.meterId > b.read.meterId ? 1 : 0))
  return { users, meters, reads: slotted.map((s) => s.read) }
}

/** Cut `rows` into chunks of at most `size` (the last may be shorter). */
export function* batches<T>(rows: readonly T[], size: number): Generator<T[]> {
  if (!(Number.isSafeInteger(size) && size > 0)) throw new RangeError(`batch size must be a positive integer, got ${size}`)
  for (let i = 0; i < rows.length; i += size) yield rows.slice(i, i + size)
}
