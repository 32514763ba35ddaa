/**
 * Loading the Rust core (crates/stepping-napi). The addon comes from the
 * platform package (`stepping-linux-x64-gnu`, ...) or, in a checkout, from
 * `native/` after `npm run build:native`. `STEPPING_BACKEND=ts|native` forces a
 * backend; without it, native is used when it loads, else the pure-TS backend
 * with one warning line.
 */
import { createRequire } from 'node:module'

export interface SlotWeights {
  slots: Uint32Array
  weights: Float64Array
}
export interface KeyedRows extends SlotWeights {
  offsets: Uint32Array
}
export interface ChangeBatch {
  origins: Uint32Array
  slots: Uint32Array
  oldWeights: Float64Array
  newWeights: Float64Array
}
export interface EncodedBatch {
  bytes: Buffer
  offsets: Uint32Array
}

export interface NativeZSet {
  readonly size: number
  readonly indexCount: number
  addBatch(canonical: Uint8Array, offsets: Uint32Array, weights: Float64Array, keys: Uint8Array, keyOffsets: Uint32Array): ChangeBatch
  mergeFrom(other: NativeZSet): ChangeBatch
  negate(): void
  scale(factor: number): void
  clear(): void
  hash(): string
  equals(other: NativeZSet): boolean
  findRows(canonical: Uint8Array, offsets: Uint32Array): SlotWeights
  entries(): SlotWeights
  lookupByKeys(index: number, keys: Uint8Array, offsets: Uint32Array): KeyedRows
  scanPrefix(index: number, prefix: Uint8Array, limit?: number | null): SlotWeights
  scanOrdered(index: number, limit?: number | null, reverse?: boolean | null): SlotWeights
  canonicalOf(slots: Uint32Array): EncodedBatch
}

export interface Binding {
  NativeZSet: new (indexCount: number) => NativeZSet
  identityHashes(canonical: Uint8Array, offsets: Uint32Array): Buffer
  multisetHash(canonical: Uint8Array, offsets: Uint32Array, weights: Float64Array): string
  encodeKeysFromCanonical(canonical: Uint8Array, offsets: Uint32Array, ascending: boolean[], composite: boolean): EncodedBatch
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

function load(): { binding?: Binding; errors: string[] } {
  const require = createRequire(import.meta.url)
  const triple = platformTriple()
  const errors: string[] = []
  for (const candidate of [`../../native/stepping.${triple}.node`, `stepping-${triple}`]) {
    try {
      return { binding: require(candidate) as Binding, errors }
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
