/**
 * Time for parallel writers (stepping's Time): `inputTime` stamps what this
 * iteration writes; `frontier` makes it wait until every table it reads has
 * been written up to that time; `flushEverySet` commits each delay's write
 * as soon as it is made (stepping's per-set flushing) instead of once per
 * iteration.
 */
export interface Time {
  readonly inputTime: number
  readonly frontier: number
  readonly flushEverySet: boolean
}

export function time(options: Partial<Time> = {}): Time {
  const t = { inputTime: options.inputTime ?? -1, frontier: options.frontier ?? -1, flushEverySet: options.flushEverySet ?? false }
  for (const [k, v] of Object.entries(t)) {
    if (k !== 'flushEverySet' && !Number.isSafeInteger(v)) throw new TypeError(`time: ${k} must be an integer, got ${v}`)
  }
  return t
}

export const NO_TIME: Time = time()
