/** bench/results/latest.{json,md,svg}: the table, the issue's targets and the chart. */
import type { Machine } from './machine.js'
import { SCENARIO_TITLE, type RunResult, type Scenario } from './types.js'
import type { TimeSplit } from './timeSplit.js'

export interface Report {
  /** The results file name (latest, quick, ...): the markdown links `<name>.svg`. */
  name?: string
  machine: Machine & { postgres?: string }
  mode: 'quick' | 'full' | 'custom'
  startedAt: string
  finishedAt: string
  argv: string[]
  peers: Record<string, string>
  results: RunResult[]
}

const ENGINE_ORDER = ['stepping', 'reference', 'd2ts', 'tanstack', 'floor', 'recompute']
const STORE_ORDER = ['memory', 'sqlite', 'postgres']

export function engineLabel(r: RunResult, _peers: Record<string, string> = {}): string {
  const c = r.config
  switch (c.engine) {
    case 'stepping':
      return `stepping (${c.backend ?? 'ts'})`
    case 'reference':
      return 'reference (Python)'
    case 'd2ts':
      return 'd2ts'
    case 'tanstack':
      return 'TanStack DB'
    case 'floor':
      return 'storage floor'
    case 'recompute':
      return 'recompute (plain SQL)'
  }
}

const fmt = (n: number | undefined, digits = 0): string =>
  n === undefined || n === null || Number.isNaN(n) ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
const ms = (n: number | undefined): string => (n === undefined || n === null || Number.isNaN(n) ? '–' : n < 1 ? n.toFixed(3) : n < 100 ? n.toFixed(1) : n.toFixed(0))
const mb = (bytes: number | undefined): string => (bytes === undefined ? '–' : `${(bytes / 1e6).toFixed(1)} MB`)

function sortResults(rs: RunResult[]): RunResult[] {
  return [...rs].sort(
    (a, b) =>
      a.config.rows - b.config.rows ||
      a.config.batch - b.config.batch ||
      ENGINE_ORDER.indexOf(a.config.engine) - ENGINE_ORDER.indexOf(b.config.engine) ||
      STORE_ORDER.indexOf(a.config.store) - STORE_ORDER.indexOf(b.config.store) ||
      String(a.config.backend).localeCompare(String(b.config.backend)),
  )
}

/** What the storage floor adds to its result (bench/lib/engines/floor.ts). */
interface FloorExtra {
  stateRowsPerInputRow?: number
  serializeSeconds?: number
}

/**
 * The best share of the floor's rate that any engine writing the same rows in our stored
 * form could reach: its SQL and the encoding of those rows, with the query itself free.
 */
function shareBound(floor: RunResult): number | undefined {
  const encode = (floor.extra as FloorExtra | undefined)?.serializeSeconds
  return encode === undefined || !floor.seconds ? undefined : floor.seconds / (floor.seconds + encode)
}

/** What our engine adds to its result: microseconds per row of each part of its time. */
interface SteppingExtra {
  timeSplit?: Record<keyof TimeSplit, number>
}

/** Microseconds per input row our engine spends on the query itself: its operators, and its input as a ZSet. */
function queryUsPerRow(r: RunResult): number | undefined {
  const t = (r.extra as SteppingExtra | undefined)?.timeSplit
  return t && t.query + t.input
}

/**
 * The best share of the floor's rate an engine could reach whose query took what ours
 * takes and whose store cost only the floor's SQL (no reads, no encoding, no commit).
 */
function queryBound(floor: RunResult, us: RunResult): { bound: number; queryUs: number; sqlUs: number } | undefined {
  const queryUs = queryUsPerRow(us)
  const sqlUs = floorUsPerRow(floor)?.sqlUs
  if (queryUs === undefined || sqlUs === undefined) return undefined
  return { bound: sqlUs / (sqlUs + queryUs), queryUs, sqlUs }
}

/** Microseconds per input row of the floor's SQL and of its encoding (when timed). */
function floorUsPerRow(floor: RunResult): { sqlUs: number; encodeUs: number | undefined } | undefined {
  if (!floor.seconds || !floor.rowsIngested) return undefined
  const encode = (floor.extra as FloorExtra | undefined)?.serializeSeconds
  return { sqlUs: (floor.seconds * 1e6) / floor.rowsIngested, encodeUs: encode === undefined ? undefined : (encode * 1e6) / floor.rowsIngested }
}

/**
 * The best share of the floor's rate an engine could reach with the query free that wrote
 * the floor's rows in our stored form (the floor's SQL and encoding) and read its state back
 * as our store does. The floor never reads: it learns each iteration's state from an untimed
 * in-memory run, where an engine keeping its state in SQL has to look it up. (The commit is
 * left out: the floor's SQL times its own.)
 */
function readsBound(floor: RunResult, us: RunResult): { bound: number; readsUs: number } | undefined {
  const per = floorUsPerRow(floor)
  const readsUs = (us.extra as SteppingExtra | undefined)?.timeSplit?.storeReads
  if (per?.encodeUs === undefined || readsUs === undefined) return undefined
  return { bound: per.sqlUs / (per.sqlUs + per.encodeUs + readsUs), readsUs }
}

function note(r: RunResult): string {
  const parts: string[] = []
  if (r.status !== 'ok') parts.push(`**${r.status}**`)
  if (r.note) parts.push(r.note.replace(/\|/g, '/'))
  if (r.status === 'ok' || r.status === 'partial') {
    if (r.rowsIngested !== undefined && r.rowsIngested < r.config.rows) parts.push(`${fmt(r.rowsIngested)} of ${fmt(r.config.rows)} rows`)
    const x = r.extra as FloorExtra | undefined
    if (x?.stateRowsPerInputRow !== undefined) parts.push(`${x.stateRowsPerInputRow} state rows written per input row`)
    if (x?.serializeSeconds !== undefined && r.seconds) parts.push(`encoding them: ${x.serializeSeconds} s besides ${r.seconds} s of SQL`)
    if ((r.extra as { answerChecked?: boolean } | undefined)?.answerChecked) parts.push('answer = a plain recount')
    const t = (r.extra as SteppingExtra | undefined)?.timeSplit
    if (t) {
      parts.push(`µs/row: query ${t.query}, input ${t.input}, store reads ${t.storeReads}, writes ${t.storeWrites}, transaction ${t.transaction}`)
    }
    if (r.recompute?.fullQueryMs !== undefined) {
      parts.push(`${r.config.scenario === 'complex' ? 'full recursive closure' : 'full GROUP BY'} ${ms(r.recompute.fullQueryMs)} ms`)
    }
  }
  return parts.join('; ')
}

// ------------------------------------------------------------------ targets

interface Target {
  what: string
  goal: string
  measured: string
  ok: boolean | undefined
}

function find(rs: RunResult[], f: (r: RunResult) => boolean): RunResult | undefined {
  // The largest complete run at batch 1,000 that matches.
  return rs
    .filter((r) => r.status === 'ok' && r.config.batch === 1000 && f(r))
    .sort((a, b) => b.config.rows - a.config.rows)[0]
}

function bestStepping(rs: RunResult[], scenario: Scenario, store: string, rows?: number): RunResult | undefined {
  const c = rs.filter(
    (r) => r.config.engine === 'stepping' && r.config.scenario === scenario && r.config.store === store && r.status === 'ok' && r.config.batch === 1000,
  )
  const sizes = rows ?? Math.max(0, ...c.map((r) => r.config.rows))
  return c.filter((r) => r.config.rows === sizes).sort((a, b) => (b.rowsPerSec ?? 0) - (a.rowsPerSec ?? 0))[0]
}

export function targets(rs: RunResult[]): Target[] {
  const out: Target[] = []
  const ratio = (a?: number, b?: number) => (a && b ? a / b : undefined)
  for (const [scenario, store] of [
    ['ref', 'sqlite'],
    ['ref', 'postgres'],
    ['complex', 'sqlite'],
  ] as const) {
    const ref = find(rs, (r) => r.config.engine === 'reference' && r.config.scenario === scenario && r.config.store === store)
    const us = ref && bestStepping(rs, scenario, store, ref.config.rows)
    const x = ratio(us?.rowsPerSec, ref?.rowsPerSec)
    out.push({
      what: `${scenario === 'ref' ? 'reference-shaped standard' : 'complex'} on ${store}: rows/s vs the reference`,
      goal: '≥ 10×',
      measured: x ? `${x.toFixed(1)}× (${fmt(us!.rowsPerSec)} vs ${fmt(ref!.rowsPerSec)} rows/s, ${us!.config.backend}, ${fmt(ref!.config.rows)} rows)` : 'not measured',
      ok: x === undefined ? undefined : x >= 10,
    })
  }
  const mem = bestStepping(rs, 'ref', 'memory')
  out.push({
    what: 'memory, reference-shaped standard: rows/s',
    goal: '≥ 300,000',
    measured: mem ? `${fmt(mem.rowsPerSec)} (${mem.config.backend}, ${fmt(mem.config.rows)} rows)` : 'not measured',
    ok: mem?.rowsPerSec === undefined ? undefined : mem.rowsPerSec >= 300_000,
  })
  // d2ts slows down as it grows and may be stopped at the time limit: its rate over the rows it
  // got through is then an upper bound on its rate for the whole run, so that run still counts
  // (labelled), and the largest size it finished is shown beside it.
  const isWideD2ts = (r: RunResult) => r.config.engine === 'd2ts' && r.config.scenario === 'wide' && r.config.store === 'memory'
  const d2Complete = find(rs, isWideD2ts)
  const d2Stopped = rs
    .filter((r) => r.status === 'partial' && r.config.batch === 1000 && isWideD2ts(r) && r.config.rows > (d2Complete?.config.rows ?? 0))
    .sort((a, b) => b.config.rows - a.config.rows)[0]
  const wideVs = (d2: RunResult | undefined) => {
    const us = d2 && bestStepping(rs, 'wide', 'memory', d2.config.rows)
    const x = ratio(us?.rowsPerSec, d2?.rowsPerSec)
    const stopped = d2?.status === 'partial' ? `, d2ts stopped at the time limit after ${fmt(d2.rowsIngested)} rows` : ''
    return { x, text: x ? `${x.toFixed(1)}× (${fmt(us!.rowsPerSec)} vs ${fmt(d2!.rowsPerSec)} rows/s, ${fmt(d2!.config.rows)} rows${stopped})` : undefined }
  }
  const largest = wideVs(d2Stopped ?? d2Complete)
  const finished = d2Stopped && d2Complete ? wideVs(d2Complete) : undefined
  out.push({
    what: 'memory, wide: rows/s vs d2ts',
    goal: '≥ 5×',
    measured: largest.text ? largest.text + (finished?.text ? `; ${finished.text}` : '') : 'not measured',
    ok: largest.x === undefined ? undefined : largest.x >= 5,
  })
  for (const scenario of ['ref', 'wide', 'complex'] as const) {
    const floor = find(rs, (r) => r.config.engine === 'floor' && r.config.scenario === scenario && r.config.store === 'sqlite')
    const us = floor && bestStepping(rs, scenario, 'sqlite', floor.config.rows)
    const x = ratio(us?.rowsPerSec, floor?.rowsPerSec)
    const bound = floor && shareBound(floor)
    const query = floor && us && queryBound(floor, us)
    let bounded = bound === undefined ? '' : `; at most ${(bound * 100).toFixed(0)}% with the query itself free (encoding the rows to store costs ${((1 / bound - 1) * 100).toFixed(0)}% of the SQL)`
    if (query) {
      bounded += `; at most ${(query.bound * 100).toFixed(0)}% with this query and a store costing only the floor's SQL (query ${query.queryUs.toFixed(2)} µs/row, SQL ${query.sqlUs.toFixed(2)} µs/row)`
    }
    const reads = floor && us && readsBound(floor, us)
    if (reads) {
      bounded += `; at most ${(reads.bound * 100).toFixed(0)}% with the query free and the state read back as our store reads it (${reads.readsUs.toFixed(2)} µs/row, which the floor never spends)`
    }
    out.push({
      what: `SQLite, ${scenario}: share of the storage floor's rate`,
      goal: '≥ 50%',
      measured: x ? `${(x * 100).toFixed(0)}% (${fmt(us!.rowsPerSec)} vs ${fmt(floor!.rowsPerSec)} rows/s)${bounded}` : 'not measured',
      ok: x === undefined ? undefined : x >= 0.5,
    })
  }
  const cx = bestStepping(rs, 'complex', 'sqlite')
  out.push({
    what: 'storage, complex on SQLite: bytes per 100,000 input rows',
    goal: '≤ 30 MB (reference: 120 MB)',
    measured: cx?.bytesPer100k ? `${mb(cx.bytesPer100k)} (${fmt(cx.config.rows)} rows)` : 'not measured',
    ok: cx?.bytesPer100k === undefined ? undefined : cx.bytesPer100k <= 30e6,
  })
  const reads = rs.filter((r) => r.config.engine === 'stepping' && r.config.store === 'sqlite' && r.status === 'ok' && r.cacheRead)
  // One row per key in ref and complex; a day in wide holds ~1,000 rows, shown for information.
  const single = reads.filter((r) => r.config.scenario !== 'wide').sort((a, b) => b.cacheRead!.p50 - a.cacheRead!.p50)[0]
  out.push({
    what: 'cache read from SQLite, single key (one row): p50, worst of ref and complex',
    goal: '≤ 0.2 ms',
    measured: single ? `${ms(single.cacheRead!.p50)} ms (${single.config.scenario}, ${fmt(single.config.rows)} rows, ${single.config.backend})` : 'not measured',
    ok: single ? single.cacheRead!.p50 <= 0.2 : undefined,
  })
  const wideRead = reads.filter((r) => r.config.scenario === 'wide').sort((a, b) => b.config.rows - a.config.rows || b.cacheRead!.p50 - a.cacheRead!.p50)[0]
  if (wideRead) {
    out.push({
      what: 'cache read from SQLite, wide (one day: many rows): p50',
      goal: '(information)',
      measured: `${ms(wideRead.cacheRead!.p50)} ms for ${fmt(wideRead.cacheRead!.rowsPerRead, 0)} rows (${fmt(wideRead.config.rows)} rows ingested)`,
      ok: undefined,
    })
  }
  // Linear: seconds per row at the largest size against 10k, same configuration.
  let worstLin: { x: number; label: string; big: RunResult } | undefined
  for (const big of rs.filter((r) => r.config.engine === 'stepping' && r.status === 'ok' && r.config.rows >= 1_000_000 && r.config.batch === 1000)) {
    const small = rs.find(
      (r) =>
        r.config.engine === 'stepping' &&
        r.status === 'ok' &&
        r.config.rows === 10_000 &&
        r.config.batch === 1000 &&
        r.config.scenario === big.config.scenario &&
        r.config.store === big.config.store &&
        r.config.backend === big.config.backend,
    )
    if (!small?.rowsPerSec || !big.rowsPerSec) continue
    const x = small.rowsPerSec / big.rowsPerSec
    if (!worstLin || x > worstLin.x) worstLin = { x, label: `${big.config.scenario}, ${big.config.store}, ${big.config.backend}`, big }
  }
  // The storage floor over the same sizes: how much of the growth the stored rows bring by themselves
  // (a table that grows costs more per write, and a workload may write more state rows per input row).
  let floorNote = ''
  if (worstLin) {
    const { scenario, store, rows } = worstLin.big.config
    const floorAt = (n: number) => find(rs, (r) => r.config.engine === 'floor' && r.config.scenario === scenario && r.config.store === store && r.config.rows === n)
    const growth = ratio(floorAt(10_000)?.rowsPerSec, floorAt(rows)?.rowsPerSec)
    if (growth) floorNote = `; the storage floor's own per-row cost grows ${growth.toFixed(2)}× over the same sizes`
  }
  out.push({
    what: 'linear: per-row cost at 1M rows against 10k (worst configuration)',
    goal: '≤ 1.5×',
    measured: worstLin ? `${worstLin.x.toFixed(2)}× (${worstLin.label})${floorNote}` : 'not measured (needs 10k and 1M runs)',
    ok: worstLin ? worstLin.x <= 1.5 : undefined,
  })
  return out
}

/**
 * Our rate in memory against each TypeScript peer's on the same rows (the product aims to be
 * faster than every one): a table, or nothing when no peer ran. A peer stopped at the time
 * limit shows its rate over the rows it got through.
 */
export function typescriptPeers(rs: RunResult[]): string[] {
  const ran = rs.filter((r) => (r.config.engine === 'd2ts' || r.config.engine === 'tanstack') && r.config.store === 'memory' && r.config.batch === 1000 && r.rowsPerSec)
  if (!ran.length) return []
  // A column for each peer that ran.
  const peers = (['d2ts', 'tanstack'] as const).filter((p) => ran.some((r) => r.config.engine === p))
  const out = ['', '### TypeScript peers in memory (batches of 1,000): rows/s, and ours as a multiple of theirs', '']
  out.push(`| scenario | rows | stepping | ${peers.map((p) => engineLabel(ran.find((r) => r.config.engine === p)!)).join(' | ')} |`)
  out.push(`| --- | ---: | ---: |${peers.map(() => ' ---: |').join('')}`)
  const cells = [...new Set(ran.map((r) => `${r.config.scenario}|${r.config.rows}`))].map((k) => k.split('|') as [Scenario, string])
  cells.sort(([a, n], [b, m]) => a.localeCompare(b) || Number(n) - Number(m))
  for (const [scenario, rowsText] of cells) {
    const rows = Number(rowsText)
    const us = bestStepping(rs, scenario, 'memory', rows)
    const peer = (engine: string) => {
      const r = ran.find((x) => x.config.engine === engine && x.config.scenario === scenario && x.config.rows === rows)
      if (!r) return '–'
      const x = us?.rowsPerSec && r.rowsPerSec ? ` (${(us.rowsPerSec / r.rowsPerSec).toFixed(1)}×)` : ''
      const stopped = r.status === 'partial' ? `, stopped after ${fmt(r.rowsIngested)} rows` : ''
      return `${fmt(r.rowsPerSec)}${x}${stopped}`
    }
    out.push(`| ${scenario} | ${fmt(rows)} | ${us ? `${fmt(us.rowsPerSec)} (${us.config.backend})` : '–'} | ${peers.map(peer).join(' | ')} |`)
  }
  return out
}

// ------------------------------------------------------------------ markdown

export function markdown(report: Report): string {
  const m = report.machine
  const lines: string[] = []
  lines.push(`# stepping benchmarks`)
  lines.push('')
  lines.push(
    `${report.mode === 'quick' ? '**Quick smoke run** (small sizes; not for comparison). ' : ''}Run ${report.startedAt.slice(0, 16).replace('T', ' ')} UTC, ` +
      `\`npm run bench -- ${report.argv.join(' ')}\`.`,
  )
  lines.push('')
  lines.push(
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGB} GB; ${m.os}; Node ${m.node}; ${m.rust ?? 'no rustc'}; ${m.python ?? 'no python'}; ` +
      `SQLite ${m.sqlite}; PostgreSQL ${m.postgres ?? '–'}; commit ${m.commit ?? '–'}; load average at start ${m.loadAverage.join(' / ')}.`,
  )
  const peers = Object.entries(report.peers)
  if (peers.length) lines.push('', `Peers: ${peers.map(([k, v]) => `${k} ${v}`).join('; ')}.`)
  lines.push('')
  lines.push(`## Targets (issue 5; batches of 1,000, largest size measured)`)
  lines.push('')
  lines.push('| target | goal | measured | |')
  lines.push('| --- | --- | --- | --- |')
  for (const t of targets(report.results)) lines.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.ok === undefined ? '–' : t.ok ? 'met' : '**not met**'} |`)
  lines.push(...typescriptPeers(report.results))
  lines.push('')
  lines.push(
    'Columns: rows/s = measured input rows / time inside the insert calls; iteration = one batch; cache read = one single-key ' +
      '`iterByIndex` (for the recompute baseline: the same answer by plain SQL); bytes per 100k = on-disk size ' +
      '(SQLite file + WAL after a checkpoint, PostgreSQL `pg_total_relation_size` of the tables) scaled to 100,000 input rows; ' +
      'peak RSS of the measuring process (not of the PostgreSQL server).',
  )
  for (const scenario of ['ref', 'wide', 'complex'] as Scenario[]) {
    const rs = sortResults(report.results.filter((r) => r.config.scenario === scenario))
    if (!rs.length) continue
    lines.push('')
    lines.push(`## ${SCENARIO_TITLE[scenario]}`)
    lines.push('')
    const delays = rs.find((r) => r.config.engine === 'stepping' && r.delays)?.delays
    const refDelays = rs.find((r) => r.config.engine === 'reference' && r.delays)?.delays
    if (delays) lines.push(`Delay vertices: ${delays} (ours)${refDelays ? `, ${refDelays} (reference)` : ''}.`, '')
    lines.push('| rows | batch | engine | store | rows/s | iteration p50 / p99 ms | cache read p50 / p99 ms | bytes / 100k rows | peak RSS MB | note |')
    lines.push('| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | ---: | --- |')
    for (const r of rs) {
      const read = r.cacheRead ?? r.recompute
      lines.push(
        `| ${fmt(r.config.rows)} | ${fmt(r.config.batch)} | ${engineLabel(r, report.peers)} | ${r.config.store} | ${fmt(r.rowsPerSec)} | ` +
          `${r.iteration ? `${ms(r.iteration.p50)} / ${ms(r.iteration.p99)}` : '–'} | ${read ? `${ms(read.p50)} / ${ms(read.p99)}` : '–'} | ` +
          `${mb(r.bytesPer100k)} | ${fmt(r.peakRssMB)} | ${note(r)} |`,
      )
    }
  }
  lines.push('')
  lines.push(`![rows/s against rows ingested](${report.name ?? 'latest'}.svg)`)
  lines.push('')
  return lines.join('\n')
}

// ------------------------------------------------------------------ chart

const COLORS: Record<string, string> = {
  'stepping (native)': '#1f77b4',
  'stepping (ts)': '#2ca02c',
  reference: '#d62728',
  d2ts: '#9467bd',
  'TanStack DB': '#e377c2',
  'storage floor': '#7f7f7f',
  'recompute (plain SQL)': '#ff7f0e',
}
const DASH: Record<string, string> = { memory: '', sqlite: '7 4', postgres: '2 3' }

/** Text for an SVG text node or title. */
export const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

function colorOf(label: string): string {
  for (const [k, v] of Object.entries(COLORS)) if (label.startsWith(k)) return v
  return '#333'
}

/**
 * Rows/s against rows ingested, log-log, one panel per scenario and one line
 * per engine × store × backend (its largest run at batch 1,000; the recompute
 * baseline's plain inserts are left out).
 */
export function svgChart(report: Report): string {
  const scenarios = (['ref', 'wide', 'complex'] as Scenario[]).filter((s) =>
    report.results.some((r) => r.config.scenario === s && r.series?.length && r.config.batch === 1000),
  )
  const PH = 300
  // Room for a tick label of 10,000,000 rows/s (~70 px) and the axis title beside it.
  const left = 96
  const plotW = 520
  const top = 40
  const gap = 70
  const H = top + scenarios.length * (PH + gap) + 10
  const out: string[] = []
  // As wide as the longest legend line needs (~7 px a character at 12 px), so that none is cut off.
  let W = 860
  out.push(`<text x="${left}" y="22" font-size="15" font-weight="bold">Rows/s against rows ingested (batches of 1,000; log–log)</text>`)
  scenarios.forEach((scenario, i) => {
    const y0 = top + i * (PH + gap) + 20
    const lines = new Map<string, RunResult>()
    for (const r of report.results) {
      if (r.config.scenario !== scenario || r.config.batch !== 1000 || !r.series?.length || r.config.engine === 'recompute') continue
      const key = `${engineLabel(r, report.peers)} · ${r.config.store}`
      const was = lines.get(key)
      if (!was || (r.rowsIngested ?? 0) > (was.rowsIngested ?? 0)) lines.set(key, r)
    }
    const pts = [...lines.values()].flatMap((r) => r.series!)
    const xs = pts.map((p) => p[0]).filter((x) => x > 0)
    const ys = pts.map((p) => p[1]).filter((y) => y > 0)
    const xMin = 10 ** Math.floor(Math.log10(Math.min(...xs)))
    const xMax = 10 ** Math.ceil(Math.log10(Math.max(...xs)))
    const yMin = 10 ** Math.floor(Math.log10(Math.min(...ys)))
    const yMax = 10 ** Math.ceil(Math.log10(Math.max(...ys)))
    const X = (x: number) => left + ((Math.log10(x) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin) || 1)) * plotW
    const Y = (y: number) => y0 + PH - ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin) || 1)) * PH
    out.push(`<text x="${left}" y="${y0 - 8}" font-size="13" font-weight="bold">${esc(SCENARIO_TITLE[scenario])}</text>`)
    out.push(`<rect x="${left}" y="${y0}" width="${plotW}" height="${PH}" fill="none" stroke="#999"/>`)
    for (let e = Math.log10(yMin); e <= Math.log10(yMax); e++) {
      const y = Y(10 ** e)
      out.push(`<line x1="${left}" x2="${left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`)
      out.push(`<text x="${left - 6}" y="${y + 4}" text-anchor="end">${fmt(10 ** e)}</text>`)
    }
    for (let e = Math.log10(xMin); e <= Math.log10(xMax); e++) {
      const x = X(10 ** e)
      out.push(`<line x1="${x}" x2="${x}" y1="${y0}" y2="${y0 + PH}" stroke="#eee"/>`)
      out.push(`<text x="${x}" y="${y0 + PH + 16}" text-anchor="middle">${fmt(10 ** e)}</text>`)
    }
    out.push(`<text x="${left + plotW / 2}" y="${y0 + PH + 34}" text-anchor="middle">rows ingested</text>`)
    out.push(`<text transform="translate(${left - 82},${y0 + PH / 2}) rotate(-90)" text-anchor="middle">rows/s</text>`)
    const sorted = [...lines.entries()].sort((a, b) => (b[1].rowsPerSec ?? 0) - (a[1].rowsPerSec ?? 0))
    sorted.forEach(([label, r], j) => {
      const color = colorOf(label)
      const dash = DASH[r.config.store] ?? ''
      const d = r.series!.filter((p) => p[0] > 0 && p[1] > 0).map((p, k) => `${k ? 'L' : 'M'}${X(p[0]).toFixed(1)},${Y(p[1]).toFixed(1)}`).join(' ')
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
      const ly = y0 + 8 + j * 17
      const lx = left + plotW + 16
      out.push(`<line x1="${lx}" x2="${lx + 26}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`)
      const legend = `${label} (${fmt(r.rowsPerSec)})`
      out.push(`<text x="${lx + 32}" y="${ly + 4}">${esc(legend)}</text>`)
      W = Math.max(W, Math.ceil(lx + 32 + legend.length * 7 + 10))
    })
  })
  out.unshift(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
  )
  out.push('</svg>')
  return out.join('\n')
}
