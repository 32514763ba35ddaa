/**
 * Identity hash and multiset hash (docs/encoding.md §2, §3).
 *
 * MurmurHash3_x86_128 works on 32-bit words, which JS does natively with
 * Math.imul; a 64-bit hash would need BigInt on the hot path.
 */
import { canonical } from './encode.js'

const C1 = 0x239b961b
const C2 = 0xab0e9789
const C3 = 0x38b34ae5
const C4 = 0xa1e38b93

const rotl = (x: number, r: number): number => (x << r) | (x >>> (32 - r))

function fmix(h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h
}

const word = (b: Uint8Array, i: number): number => b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24)

/** MurmurHash3_x86_128 with seed 0: returns [h1, h2, h3, h4] as unsigned 32-bit words. */
export function murmur3x86_128(bytes: Uint8Array): [number, number, number, number] {
  const len = bytes.length
  let h1 = 0
  let h2 = 0
  let h3 = 0
  let h4 = 0
  const blocks = len - (len & 15)
  for (let i = 0; i < blocks; i += 16) {
    let k1 = word(bytes, i)
    let k2 = word(bytes, i + 4)
    let k3 = word(bytes, i + 8)
    let k4 = word(bytes, i + 12)
    k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2)
    h1 ^= k1
    h1 = (Math.imul(rotl(h1, 19) + h2, 5) + 0x561ccd1b) | 0
    k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3)
    h2 ^= k2
    h2 = (Math.imul(rotl(h2, 17) + h3, 5) + 0x0bcaa747) | 0
    k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4)
    h3 ^= k3
    h3 = (Math.imul(rotl(h3, 15) + h4, 5) + 0x96cd1c35) | 0
    k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1)
    h4 ^= k4
    h4 = (Math.imul(rotl(h4, 13) + h1, 5) + 0x32ac3b17) | 0
  }
  let k1 = 0
  let k2 = 0
  let k3 = 0
  let k4 = 0
  const t = blocks
  switch (len & 15) {
    case 15: k4 ^= bytes[t + 14]! << 16 // falls through
    case 14: k4 ^= bytes[t + 13]! << 8 // falls through
    case 13:
      k4 ^= bytes[t + 12]!
      k4 = Math.imul(rotl(Math.imul(k4, C4), 18), C1)
      h4 ^= k4
    // falls through
    case 12: k3 ^= bytes[t + 11]! << 24 // falls through
    case 11: k3 ^= bytes[t + 10]! << 16 // falls through
    case 10: k3 ^= bytes[t + 9]! << 8 // falls through
    case 9:
      k3 ^= bytes[t + 8]!
      k3 = Math.imul(rotl(Math.imul(k3, C3), 17), C4)
      h3 ^= k3
    // falls through
    case 8: k2 ^= bytes[t + 7]! << 24 // falls through
    case 7: k2 ^= bytes[t + 6]! << 16 // falls through
    case 6: k2 ^= bytes[t + 5]! << 8 // falls through
    case 5:
      k2 ^= bytes[t + 4]!
      k2 = Math.imul(rotl(Math.imul(k2, C2), 16), C3)
      h2 ^= k2
    // falls through
    case 4: k1 ^= bytes[t + 3]! << 24 // falls through
    case 3: k1 ^= bytes[t + 2]! << 16 // falls through
    case 2: k1 ^= bytes[t + 1]! << 8 // falls through
    case 1:
      k1 ^= bytes[t]!
      k1 = Math.imul(rotl(Math.imul(k1, C1), 15), C2)
      h1 ^= k1
  }
  h1 ^= len
  h2 ^= len
  h3 ^= len
  h4 ^= len
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  h1 = fmix(h1)
  h2 = fmix(h2)
  h3 = fmix(h3)
  h4 = fmix(h4)
  h1 = (h1 + h2 + h3 + h4) | 0
  h2 = (h2 + h1) | 0
  h3 = (h3 + h1) | 0
  h4 = (h4 + h1) | 0
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0]
}

let scratch = new Uint8Array(1024)

/** An ASCII string's bytes copied into a reused buffer: no encoder call, no allocation per row. */
function asciiBytes(text: string): Uint8Array | undefined {
  if (text.length > scratch.length) scratch = new Uint8Array(text.length * 2)
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c > 0x7f) return undefined
    scratch[i] = c
  }
  return scratch.subarray(0, text.length)
}

function murmurText(text: string): [number, number, number, number] {
  return murmur3x86_128(asciiBytes(text) ?? Buffer.from(text, 'utf8'))
}

const hexWords = Buffer.alloc(16)

/** 32 hex digits h1‖h2‖h3‖h4 of the canonical text's UTF-8 bytes. */
export function hashText(text: string): string {
  const [a, b, c, d] = murmurText(text)
  hexWords.writeUInt32BE(a, 0)
  hexWords.writeUInt32BE(b, 4)
  hexWords.writeUInt32BE(c, 8)
  hexWords.writeUInt32BE(d, 12)
  return hexWords.toString('hex')
}

/** The 128-bit identity hash of a row, as 32 hex digits. */
export function identityHash(value: unknown): string {
  return hashText(canonical(value))
}

/** The identity as 16 big-endian bytes (the row id column of the SQL stores). */
export function identityBytes(text: string): Buffer {
  const [a, b, c, d] = murmurText(text)
  const out = Buffer.allocUnsafe(16)
  out.writeUInt32BE(a, 0)
  out.writeUInt32BE(b, 4)
  out.writeUInt32BE(c, 8)
  out.writeUInt32BE(d, 12)
  return out
}

const MASK = (1n << 128n) - 1n

/** The multiset hash as a number mod 2^128: Σ weight × identity. */
export function multisetTerm(text: string, weight: number): bigint {
  return (BigInt(weight) * BigInt('0x' + hashText(text))) & MASK
}

export function addHashes(a: bigint, b: bigint): bigint {
  return (a + b) & MASK
}

export function hashToHex(h: bigint): string {
  return (h & MASK).toString(16).padStart(32, '0')
}
