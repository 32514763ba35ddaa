/**
 * Loading the Rust core (crates/stepping-napi). The addon comes from the
 * platform package (`stepping-linux-x64-gnu`, ...) or, in a checkout, from
 * `native/` after `npm run build:native`. `STEPPING_BACKEND=ts|native` forces a
 * backend; without it, native is used when it loads, else the pure-TS backend
 * with one warning line. `STEPPING_NATIVE_PATH=<dir>` loads the addon from
 * `<dir>/stepping.<triple>.node` instead (and only from there): for testing a
 * build elsewhere, or the fallback, with a directory that has none.
 */
import { createRequire } from 'node:module'
import path from 'node:path'

/** Byte strings in the offsets layout (the standalone helpers). */
export interface EncodedBatch {
  bytes: Buffer
  offsets: Uint32Array
}

/**
 * The addon's table (crates/stepping-napi/src/lib.rs documents every call).
 * Inputs are joined strings written into one buffer plus per-item lengths;
 * outputs go into typed arrays the caller passes in and reuses.
 */
export interface NativeZSet {
  readonly size: number
  /** The table's number for the binding's `table*` functions, valid while this object lives. */
  readonly handle: number
  readonly indexCount: number
  mergeFrom(other: NativeZSet, factor: number, out: Uint32Array): number
  copy(): NativeZSet
  negate(): void
  scale(factor: number): void
  clear(): void
  hash(): string
  recomputeHash(): string
  equals(other: NativeZSet): boolean
  entries(outSlots: Uint32Array, outWeights: Float64Array): number
  scan(
    index: number,
    after: Uint8Array,
    prefix: Uint8Array,
    limit: number,
    outSlots: Uint32Array,
    outWeights: Float64Array,
    outKeyLengths: Uint32Array,
    outBytes: Uint8Array,
  ): number
}

/** The stored form of canonical texts, batch by batch (sql.ts `compactText`, in Rust). */
export interface NativeCompactor {
  setNames(names: readonly string[] | null, full: boolean): void
  compact(texts: Uint8Array, textLengths: Uint32Array, keyTexts: Uint8Array, keyLengths: Uint32Array, outLengths: Uint32Array): string | null
}

/** The arrays the per-iteration table calls read and write (`Binding.setExchange`); no two may share memory. */
export interface ExchangeArrays {
  rowBytes: Uint8Array
  keyBytes: Uint8Array
  rowLengths: Uint32Array
  keyLengths: Uint32Array
  weights: Float64Array
  /** `tableApply`'s (slot, origin) pairs, `tableLookup`'s slots. */
  slots: Uint32Array
  /** `tableLookup`'s and `tableWeightsOf`'s weights. */
  slotWeights: Float64Array
  counts: Uint32Array
}

export interface Binding {
  NativeZSet: new (indexCount: number) => NativeZSet
  /** Absent from addons built before it existed: the stores then compact in TS. */
  NativeCompactor?: new (tokens: readonly string[]) => NativeCompactor
  identityHashes(canonical: Uint8Array, offsets: Uint32Array): Buffer
  multisetHash(canonical: Uint8Array, offsets: Uint32Array, weights: Float64Array): string
  encodeKeysFromCanonical(canonical: Uint8Array, offsets: Uint32Array, ascending: boolean[], composite: boolean): EncodedBatch
  /**
   * A table's calls made every iteration, by its handle (`NativeZSet.handle`):
   * a class method costs ~175 ns more per call than a function in napi-rs 3,
   * which registers a borrow of `this` for each. Their data goes through the
   * exchange arrays (`setExchange`), so they take only numbers: each typed
   * array argument costs napi ~50 ns to read.
   */
  setExchange(exchange: ExchangeArrays): void
  /** Adds `rows` rows (`rowBytes` bytes of texts, `keyBytes` of keys); (slot, origin) pairs into `slots`; returns their number. */
  tableApply(handle: number, rows: number, rowBytes: number, keyBytes: number): number
  /** The rows under `keys` keys (`keyBytes` bytes) of index `index`, into `slots`, `slotWeights` (and `counts`); returns how many. */
  tableLookup(handle: number, index: number, keys: number, keyBytes: number, sorted: boolean, withCounts: boolean): number
  /** The weights of `rows` rows (`rowBytes` bytes of texts) into `slotWeights`. */
  tableWeightsOf(handle: number, rows: number, rowBytes: number): void
  tableSize(handle: number): number
}

/** The napi-rs platform triple of this machine, e.g. `linux-x64-gnu`. */
export function platformTriple(): string {
  const { platform, arch } = process
  if (platform === 'linux') {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined
    return `linux-${arch}-${report?.header?.glibcVersionRuntime ? 'gnu' : 'musl'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  return `${platform}-${arch}`
}

/** Methods and functions this version of the library calls: an addon built from older sources lacks some. */
const API = ['mergeFrom', 'copy', 'entries', 'scan', 'hash'] as const
const FUNCTIONS = ['setExchange', 'tableApply', 'tableLookup', 'tableWeightsOf', 'tableSize'] as const

function load(): { binding?: Binding; errors: string[] } {
  const require = createRequire(import.meta.url)
  const triple = platformTriple()
  const errors: string[] = []
  // STEPPING_NATIVE_PATH: a directory holding stepping.<triple>.node, tried instead of the defaults.
  const dir = process.env.STEPPING_NATIVE_PATH
  const candidates = dir ? [path.resolve(dir, `stepping.${triple}.node`)] : [`../../native/stepping.${triple}.node`, `stepping-${triple}`]
  for (const candidate of candidates) {
    try {
      const binding = require(candidate) as Binding
      const missing = [
        ...API.filter((m) => typeof (binding.NativeZSet?.prototype as unknown as Record<string, unknown>)?.[m] !== 'function'),
        ...FUNCTIONS.filter((f) => typeof binding[f] !== 'function'),
      ]
      if (missing.length > 0) {
        errors.push(`${candidate}: out of date (no ${missing.join(', ')}); rebuild it with npm run build:native`)
        continue
      }
      return { binding, errors }
    } catch (e) {
      errors.push(`${candidate}: ${(e as Error).message.split('\n')[0]}`)
    }
  }
  return { errors }
}

function choose(): { backend: 'native' | 'ts'; binding?: Binding } {
  const wanted = process.env.STEPPING_BACKEND
  if (wanted !== undefined && wanted !== 'ts' && wanted !== 'native') {
    throw new Error(`STEPPING_BACKEND must be "ts" or "native", got ${JSON.stringify(wanted)}`)
  }
  if (wanted === 'ts') return { backend: 'ts' }
  const { binding, errors } = load()
  if (binding) return { backend: 'native', binding }
  if (wanted === 'native') {
    throw new Error(`STEPPING_BACKEND=native but the native addon did not load:\n  ${errors.join('\n  ')}`)
  }
  console.warn(`stepping: native addon not found for ${platformTriple()}; using the pure-TS backend (set STEPPING_BACKEND=ts to silence)`)
  return { backend: 'ts' }
}

const chosen = choose()

/** Which ZSet backend is in use. */
export const backend: 'native' | 'ts' = chosen.backend

/** The addon, when the native backend is in use. */
export const binding: Binding | undefined = chosen.binding

/**
 * The addon whatever backend was chosen (undefined if it does not load), for
 * tests and benchmarks that compare the two backends in one process.
 */
export function loadNative(): Binding | undefined {
  if (chosen.binding) return chosen.binding
  if (loadedOnDemand === null) loadedOnDemand = load().binding
  return loadedOnDemand
}
let loadedOnDemand: Binding | undefined | null = null
