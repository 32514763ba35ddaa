/** Ingest bookkeeping shared by every engine: per-iteration times, the rows/s series, the time limit. */
import { latency, now, round } from './stats.js'
import type { RunResult } from './types.js'

export class IngestMeter {
  private readonly times: number[] = []
  private rows = 0
  private busyMs = 0
  private readonly started = now()
  private readonly series: [number, number][] = []
  private windowRows = 0
  private windowMs = 0
  private readonly window: number

  constructor(
    total: number,
    private readonly timeLimitS: number,
    points = 20,
  ) {
    this.window = Math.max(1, Math.floor(total / points))
  }

  /** Time one iteration of `rows` rows. */
  async time<R>(rows: number, work: () => Promise<R> | R): Promise<R> {
    const t0 = now()
    const r = await work()
    this.add(rows, now() - t0)
    return r
  }

  add(rows: number, ms: number): void {
    this.times.push(ms)
    this.rows += rows
    this.busyMs += ms
    this.windowRows += rows
    this.windowMs += ms
    if (this.windowRows >= this.window) {
      this.series.push([this.rows, round((this.windowRows / this.windowMs) * 1000, 0)])
      this.windowRows = 0
      this.windowMs = 0
    }
  }

  /** True once the wall time since the start passes the limit. */
  get overLimit(): boolean {
    return (now() - this.started) / 1000 > this.timeLimitS
  }

  get ingested(): number {
    return this.rows
  }

  result(): Partial<RunResult> {
    if (this.windowRows > 0 && this.windowMs > 0) {
      this.series.push([this.rows, round((this.windowRows / this.windowMs) * 1000, 0)])
      this.windowRows = 0
    }
    return {
      rowsIngested: this.rows,
      seconds: round(this.busyMs / 1000, 3),
      rowsPerSec: this.busyMs > 0 ? round((this.rows / this.busyMs) * 1000, 0) : undefined,
      iteration: latency(this.times),
      series: this.series,
    }
  }
}

export function peakRssMB(): number {
  return round(process.resourceUsage().maxRSS / 1024, 1)
}

/** A run's status and note. An answer that differs from the recount makes an error, however fast. */
export function outcome(partial: boolean, timeLimitS: number, difference: string | undefined): Pick<RunResult, 'status' | 'note'> {
  if (difference !== undefined) return { status: 'error', note: `the answer differs from a plain recount: ${difference}` }
  return { status: partial ? 'partial' : 'ok', note: partial ? `stopped at the ${timeLimitS}s limit` : undefined }
}
