/**
 * Strings across the native boundary: many strings written into one reused
 * buffer, with each one's length (in UTF-16 units, JS's `length`, or bytes
 * for latin1), so that a batch crosses in one call (crates/stepping-core
 * batch.rs splits them again).
 */

/** A key length meaning "the previous row's key" (crates/stepping-core batch.rs): rows of a batch often share one. */
export const SAME_AS_PREVIOUS_ROW = 0xffffffff

/** Node's per-encoding writers (what `Buffer#write` calls, minus its argument parsing). */
interface RawWriters {
  utf8Write(s: string, offset: number): number
  latin1Write(s: string, offset: number): number
}

/**
 * Packs many strings into one reused buffer. Short strings are concatenated
 * and written a chunk (≤ 16K chars) at a time, since a native call per short
 * string costs more than copying it; a long one is written straight from the
 * string, because concatenating first costs a flattened copy of its bytes,
 * and that garbage makes scavenges frequent enough to promote an iteration's
 * live data. (One `join` of the whole batch is worse than either: a string
 * over ~128 KB is a large-object allocation.)
 */
export class Packer {
  private buf: Buffer
  private end = 0
  private pending = ''

  constructor(private readonly encoding: 'utf8' | 'latin1') {
    this.buf = Buffer.allocUnsafe(1 << 16)
  }

  reset(): this {
    this.end = 0
    this.pending = ''
    return this
  }

  add(s: string): void {
    if (s.length > 48) {
      if (this.pending.length > 0) this.write(this.pending)
      this.pending = ''
      this.write(s)
      return
    }
    this.pending += s
    if (this.pending.length > 16384) {
      this.write(this.pending)
      this.pending = ''
    }
  }

  private write(s: string): void {
    const max = this.encoding === 'utf8' ? 3 * s.length : s.length
    if (this.end + max > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, 2 * (this.end + max)))
      this.buf.copy(bigger, 0, 0, this.end)
      this.buf = bigger
    }
    const raw = this.buf as unknown as RawWriters
    this.end += this.encoding === 'utf8' ? raw.utf8Write(s, this.end) : raw.latin1Write(s, this.end)
  }

  /** How many bytes were packed since the last reset: they are the first ones of `buffer`. */
  finish(): number {
    if (this.pending.length > 0) {
      this.write(this.pending)
      this.pending = ''
    }
    return this.end
  }

  /** The buffer packed into (a new one after it grew: valid until the next `add`). */
  get buffer(): Buffer {
    return this.buf
  }

  /** The bytes packed since the last reset (valid until the next use). */
  bytes(): Uint8Array {
    return this.buf.subarray(0, this.finish())
  }
}

/** The length to give a reused scratch array (lengths, weights, results) that must hold `n` items. */
export function scratchLength(n: number): number {
  return Math.max(1024, 2 ** Math.ceil(Math.log2(n)))
}

/** Packs `strings` into `packer`'s buffer, their lengths into `lengths`, for one boundary crossing for all; returns the bytes packed. */
export function pack(packer: Packer, strings: readonly string[], lengths: Uint32Array): number {
  packer.reset()
  for (let k = 0; k < strings.length; k++) {
    lengths[k] = strings[k]!.length
    packer.add(strings[k]!)
  }
  return packer.finish()
}

