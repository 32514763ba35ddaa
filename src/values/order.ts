/** Unicode code point order on JS strings (= UTF-8 byte order), used wherever the spec sorts text. */

export function compareCodePoints(a: string, b: string): number {
  if (a === b) return 0
  const n = a.length < b.length ? a.length : b.length
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i)
    const y = b.charCodeAt(i)
    if (x !== y) {
      // UTF-16 puts surrogates (code points above U+FFFF) before U+E000..U+FFFF; code point order puts them after.
      if (x >= 0xd800 && y >= 0xd800) {
        const xSurrogate = x <= 0xdfff
        const ySurrogate = y <= 0xdfff
        if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1
      }
      return x - y
    }
  }
  return a.length - b.length
}

const HIGH = /[\ud800-\uffff]/

/** Sort strings in code point order; the native sort is right unless a string has a surrogate or U+E000+. */
export function sortCodePoints(items: string[]): string[] {
  for (const s of items) {
    if (HIGH.test(s)) return items.sort(compareCodePoints)
  }
  return items.sort()
}
