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
/** Byte i of the big-endian bits is f64Bytes[(7 - i) ^ X]: X flips the order on big-endian machines. */
const X = LITTLE_ENDIAN ? 0 : 7

function numberBytes(n: number): string {
  f64[0] = n === 0 ? 0 : n
  const b = f64Bytes
  // big-endian view of the IEEE-754 bits (indexed reads: destructuring a typed array goes through its iterator)
  const b0 = b[7 ^ X]!
  if (b0 & 0x80) {
    return String.fromCharCode(~b0 & 255, ~b[6 ^ X]! & 255, ~b[5 ^ X]! & 255, ~b[4 ^ X]! & 255, ~b[3 ^ X]! & 255, ~b[2 ^ X]! & 255, ~b[1 ^ X]! & 255, ~b[X]! & 255)
  }
  return String.fromCharCode(b0 | 0x80, b[6 ^ X]!, b[5 ^ X]!, b[4 ^ X]!, b[3 ^ X]!, b[2 ^ X]!, b[1 ^ X]!, b[X]!)
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

/** True when every char is ASCII 01..7F: then the UTF-8 bytes are the chars and there is no 00 to escape. */
function plainAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c === 0 || c > 0x7f) return false
  }
  return true
}

/** UTF-8 bytes as a binary string, with 00 escaped as 00 FF, then the 00 01 terminator. */
function escapedTextBytes(s: string): string {
  if (plainAscii(s)) return s + '\x00\x01'
  const bytes = Buffer.from(s, 'utf8').toString('latin1')
  return bytes.replace(/\x00/g, '\x00\xff') + '\x00\x01'
}

function component(v: unknown): string {
  switch (typeof v) {
    case 'number':
      if (v !== v) throw new InvalidValueError('NaN cannot be an index key', '')
      return '\x10' + numberBytes(v)
    case 'string':
      if (plainAscii(v)) return '\x20' + v + '\x00\x01'
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
