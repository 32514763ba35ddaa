/** `String(zset)`: a table with a `_count_` column and one column per field, like stepping's repr. */
import { EMPTY } from '../values/value.js'

function cell(v: unknown): string {
  if (v === EMPTY) return 'EMPTY'
  if (typeof v === 'string') return v
  if (typeof v === 'bigint') return `${v}n`
  if (v instanceof Date) return isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString()
  if (v instanceof Set) return `Set(${[...v].map(cell).join(', ')})`
  if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) {
    return String(v).replace(/\n/g, ' ')
  }
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v)
}

const isNumber = (v: unknown) => typeof v === 'number' || typeof v === 'bigint'

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype

export function renderTable(rows: Iterable<[unknown, number]>): string {
  const list = [...rows]
  const columns: string[] = []
  const seen = new Set<string>()
  const allRecords = list.length > 0 && list.every(([v]) => isRecord(v))
  if (allRecords) {
    for (const [v] of list) {
      for (const k of Object.keys(v as object)) {
        if (!seen.has(k)) {
          seen.add(k)
          columns.push(k)
        }
      }
    }
  } else {
    columns.push('value')
  }
  const header = ['_count_', ...columns]
  const fieldsOf = (v: unknown): unknown[] => (allRecords ? columns.map((c) => (v as Record<string, unknown>)[c]) : [v])
  const numeric = header.map((_, i) => i === 0 || list.every(([v]) => isNumber(fieldsOf(v)[i - 1])))
  const body = list.map(([v, w]) => [String(w), ...fieldsOf(v).map((x) => (x === undefined ? '' : cell(x)))])
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)))
  const line = (l: string, m: string, r: string) => l + widths.map((w) => '═'.repeat(w + 2)).join(m) + r
  const row = (cells: string[]) =>
    '│' + cells.map((c, i) => ' ' + (numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)) + ' ').join('│') + '│'
  const sep = '├' + widths.map((w) => '─'.repeat(w + 2)).join('┼') + '┤'
  const out = [line('╒', '╤', '╕'), row(header), line('╞', '╪', '╡')]
  body.forEach((r, i) => {
    if (i > 0) out.push(sep)
    out.push(row(r))
  })
  out.push(line('╘', '╧', '╛'))
  return '<ZSet>\n' + out.join('\n')
}
