/** Percentiles and timing helpers shared by the workers. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[i]!
}

export interface Latency {
  p50: number
  p99: number
  n: number
}

/** p50/p99 in milliseconds of durations given in milliseconds. */
export function latency(ms: number[]): Latency {
  const s = [...ms].sort((a, b) => a - b)
  return { p50: round(percentile(s, 50), 4), p99: round(percentile(s, 99), 4), n: s.length }
}

export function round(x: number, digits = 2): number {
  if (!Number.isFinite(x)) return x
  const f = 10 ** digits
  return Math.round(x * f) / f
}

export const now = (): number => performance.now()
