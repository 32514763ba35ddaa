/**
 * Order-preserving key encoding (docs/encoding.md §4).
 *
 * Keys are kept as "binary strings" (one char per byte, 0..255) so that JS's own
 * string comparison is byte comparison, the same order SQLite BLOBs and
 * PostgreSQL bytea give.
 */
import { canonical } from './encode.js'
import { InvalidValueError } from './errors.js'

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function numberBytes(n: number): string {
  f64[0] = n === 0 ? 0 : n
  const b = f64Bytes
  // big-endian view of the IEEE-754 bits
  let b0: number, b1: number, b2: number, b3: number, b4: number, b5: number, b6: number, b7: number
  if (LITTLE_ENDIAN) [b7, b6, b5, b4, b3, b2, b1, b0] = b as unknown as number[]
  else [b0, b1, b2, b3, b4, b5, b6, b7] = b as unknown as number[]
  if (b0! & 0x80) {
    return String.fromCharCode(~b0! & 255, ~b1! & 255, ~b2! & 255, ~b3! & 255, ~b4! & 255, ~b5! & 255, ~b6! & 255, ~b7! & 255)
  }
  return String.fromCharCode(b0! | 0x80, b1!, b2!, b3!, b4!, b5!, b6!, b7!)
}

function bigintBytes(n: bigint): string {
  const negative = n < 0n
  let magnitude = negative ? -n : n
  const bytes: number[] = []
  while (magnitude > 0n) {
    bytes.unshift(Number(magnitude & 255n))
    magnitude >>= 8n
  }
  if (bytes.length > 126) throw new InvalidValueError('bigint too large for an index key (over 126 bytes)', '')
  if (!negative) return String.fromCharCode(0x80 + bytes.length, ...bytes)
  return String.fromCharCode(0x7f - bytes.length, ...bytes.map((b) => ~b & 255))
}

const PLAIN_ASCII = /^[\x01-\x7f]*$/

/** UTF-8 bytes as a binary string, with 00 escaped as 00 FF, then the 00 01 terminator. */
function escapedTextBytes(s: string): string {
  if (PLAIN_ASCII.test(s)) return s + '\x00\x01'
  const bytes = Buffer.from(s, 'utf8').toString('latin1')
  return bytes.replace(/\x00/g, '\x00\xff') + '\x00\x01'
}

function component(v: unknown): string {
  switch (typeof v) {
    case 'number':
      if (v !== v) throw new InvalidValueError('NaN cannot be an index key', '')
      return '\x10' + numberBytes(v)
    case 'string':
      if (!v.isWellFormed()) throw new InvalidValueError('a string with a lone surrogate cannot be an index key', '')
      return '\x20' + escapedTextBytes(v)
    case 'boolean':
      return v ? '\x03' : '\x02'
    case 'bigint':
      return '\x14' + bigintBytes(v)
    case 'undefined':
      throw new InvalidValueError('the index key is undefined (is the field missing?)', '')
    case 'object':
      if (v === null) return '\x01'
      if (v instanceof Date) {
        const t = v.getTime()
        if (t !== t) throw new InvalidValueError('an invalid Date cannot be an index key', '')
        return '\x30' + numberBytes(t)
      }
      if (Array.isArray(v)) {
        let s = '\x40'
        for (const item of v) s += component(item)
        return s + '\x00'
      }
      return '\x50' + escapedTextBytes(canonical(v))
  }
  throw new InvalidValueError(`a ${typeof v} cannot be an index key`, '')
}

function invert(bytes: string): string {
  let s = ''
  for (let i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes.charCodeAt(i) ^ 0xff)
  return s
}

/** Encode one key component, ascending or descending. */
export function encodeKeyComponent(v: unknown, ascending = true): string {
  const bytes = component(v)
  return ascending ? bytes : invert(bytes)
}

/** Encode a composite key: the concatenation of its components. */
export function encodeCompositeKey(parts: readonly unknown[], ascending: readonly boolean[]): string {
  let s = ''
  for (let i = 0; i < parts.length; i++) s += encodeKeyComponent(parts[i], ascending[i] ?? true)
  return s
}

export function keyToBuffer(key: string): Buffer {
  return Buffer.from(key, 'latin1')
}

export function keyFromBuffer(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')
}
