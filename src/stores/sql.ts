/**
 * What the SQL stores (SQLite, PostgreSQL) share: the table layout of a graph
 * (one table per delay vertex, named deterministically from the vertex path,
 * plus a metadata table with the graph's fingerprint and a `last_update`
 * table for the time protocol), the encoding of ZSet rows as table rows, and
 * the store itself: transactions, batched reads, the time protocol and cache
 * reads. A driver (sqlite.ts, postgres.ts) supplies the SQL.
 *
 * Each state table holds, per row, one key column per index (the key's
 * order-preserving bytes), `val` (the row's canonical text in a compact form,
 * see `compactText`) and `weight`; the drivers choose the primary key (SQLite:
 * the first key and `val`; PostgreSQL: the first key and the identity hash).
 * Rows with equal keys are put in identity-hash order here, so every store
 * yields the memory store's order. A join's own integrals are logs instead:
 * one table row per key and write, holding that write's rows (see "logs").
 */
import { createHash } from 'node:crypto'
import { type GraphDef, type Scope, type Vertex, consumersIn, integratedStream } from '../graph/graph.js'
import type { Time } from '../runtime/time.js'
import { type ScanRow, type StateReader, ZSetView } from '../runtime/view.js'
import { type Binding, binding } from '../native/binding.js'
import { compactBatch } from '../native/storedForm.js'
import { decodeCanonical } from '../values/encode.js'
import { identityBytes } from '../values/hash.js'
import { keyFromBuffer, keyToBuffer } from '../values/key.js'
import { encodedKeyOf, type Index } from '../zset/indexes.js'
import { splitByKey } from '../zset/state.js'
import { EntryRows, noRows, type RowsByKey } from '../zset/rowsByKey.js'
import { type Entry, ZSet } from '../zset/zset.js'
import { NameDictionary, UnknownNameError } from './names.js'
import { type CacheReader, Mutex, type Store, type Transaction, stateIndexes } from './store.js'

// ---------------------------------------------------------------- options

export interface SqlStoreOptions {
  /** Create the tables when they do not exist yet (default false: they must exist). */
  createTables?: boolean
  /** Prefix of every table name (default "st"), so that several graphs can share one database. */
  prefix?: string
  /** How long an iteration waits for its frontier before failing, in ms (default 30 000). */
  frontierTimeoutMs?: number
}

const DEFAULT_PREFIX = 'st'
const DEFAULT_FRONTIER_TIMEOUT_MS = 30_000

// ---------------------------------------------------------------- errors

/** The tables in the database were made by a different graph (or are missing). */
export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError'
}

/** An iteration waited too long for the tables it reads to be written up to its frontier. */
export class FrontierTimeoutError extends Error {
  override readonly name = 'FrontierTimeoutError'
  constructor(
    readonly frontier: number,
    readonly table: string,
    readonly reached: number,
    waitedMs: number,
  ) {
    super(
      `stepping: waited ${(waitedMs / 1000).toFixed(1)}s for table ${table} to be written up to frontier ${frontier}, ` +
        `but it has only reached time ${reached}. Is the writer of input time ${frontier} still running? ` +
        `A writer that crashed must have its batch re-run with a new input time.`,
    )
  }
}

// ---------------------------------------------------------------- identifiers and layout

/** Every identifier we put into SQL text matches this; values never go into SQL text. */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/

export function checkIdentifier(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`internal: ${JSON.stringify(name)} is not a safe SQL identifier`)
  return name
}

function shortHash(text: string, hexDigits = 8): string {
  return createHash('sha256').update(text).digest('hex').slice(0, hexDigits)
}

/** Lower-case letters, digits and single underscores; at most `max` characters (the tail, which is most specific). */
function sanitise(text: string, max: number): string {
  const s = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
  return s.length <= max ? s : s.slice(s.length - max).replace(/^_+/, '')
}

export interface KeyColumn {
  readonly index: Index<any, any>
  /** Column holding the index key's bytes. */
  readonly column: string
  /** The SQL index on (column, id). */
  readonly sqlIndex: string
}

export interface TableLayout {
  /** The delay whose writes the table takes. */
  readonly delay: Vertex
  /** Every delay whose state the table holds: integrals of one stream always hold the same rows. */
  readonly delays: readonly Vertex[]
  readonly name: string
  readonly keys: readonly KeyColumn[]
  /** Inside a fixed point a delay is written many times per iteration, so it is never flushed early. */
  readonly inFixedPoint: boolean
  /**
   * `rows`: one table row per ZSet row, its weight upserted. `log`: one table row per
   * write and key, holding that write's rows (see "logs" below); for integrals read
   * only by their one key.
   */
  readonly format: 'rows' | 'log'
  /** The store's field-name dictionary (names.ts), which every stored text of it uses. */
  readonly names: NameDictionary
}

export interface StoreLayout {
  readonly prefix: string
  readonly tables: readonly TableLayout[]
  readonly byDelay: ReadonlyMap<Vertex, TableLayout>
  /** name → value: the fingerprint and the graph description. */
  readonly metaTable: string
  /** table name → the input time it has been written up to. */
  readonly lastUpdateTable: string
  /** id → field name: the dictionary of stored texts (names.ts). */
  readonly namesTable: string
  readonly names: NameDictionary
  readonly fingerprint: string
  /** One line per vertex; stored so that a mismatch can say what differs. */
  readonly description: readonly string[]
}

function inFixedPoint(scope: Scope): boolean {
  for (let s: Scope | undefined = scope; s; s = s.parent) if (s.kind === 'fixedPoint') return true
  return false
}

/** One line per vertex: its path, kind, value kind, scope, inputs and indexes. */
export function describeGraph(graph: GraphDef): string[] {
  return graph.allVertices.map((v) => {
    const p = v.params
    const indexes = [
      ...(p.indexes ?? []).map((i) => `indexes=${i.id}`),
      ...(p.index ? [`index=${p.index.id}`] : []),
      ...(p.onLeft ? [`onLeft=${p.onLeft.id}`] : []),
      ...(p.onRight ? [`onRight=${p.onRight.id}`] : []),
      ...(p.by ? [`by=${p.by.id}`] : []),
    ]
    if (p.stateOf) indexes.push(`stateOf=${p.stateOf.path}`)
    if (p.stateMap) indexes.push(`stateMap=${p.stateMap}`)
    if (p.transient) indexes.push('transient')
    const scope = v.scope.kind === 'root' ? '' : ` in ${v.scope.kind}(${v.scope.path})`
    const inputs = v.inputs.length ? ` <- ${v.inputs.map((i) => i.path).join(', ')}` : ''
    return `${v.path}: ${v.kind} ${v.value}${scope}${inputs}${indexes.length ? ' [' + indexes.join(' ') + ']' : ''}`
  })
}

/** Changes whenever the tables' columns, keys or row encoding change: part of the fingerprint. */
export const LAYOUT_VERSION = 5

/**
 * Whether `delay` (an integral) is read only by joins, through `key` (their
 * `lookupEach`): then its table may be a log, since nothing asks it for one row's
 * weight or for its rows in order.
 */
function readOnlyThroughKey(delay: Vertex, key: Index<any, any>, consumers: ReadonlyMap<Vertex, Vertex[]>): boolean {
  if (delay.scope.kind === 'perGroup' || integratedStream(delay) === undefined) return false
  const sum = delay.inputs[0]!
  const own = new Set<Vertex>([delay, sum])
  const readers = [...(consumers.get(delay) ?? []), ...(consumers.get(sum) ?? [])].filter((c) => !own.has(c))
  return (
    readers.length > 0 &&
    readers.every(
      (c) =>
        c.kind === 'join' &&
        c.inputs.every((input, i) => !own.has(input) || (i === 0 ? c.params.onLeft : c.params.onRight)?.id === key.id),
    )
  )
}

export function layoutFor(graph: GraphDef, prefixOption: string | undefined): StoreLayout {
  const prefix = prefixOption ?? DEFAULT_PREFIX
  if (!/^[a-z][a-z0-9_]{0,15}$/.test(prefix)) {
    throw new TypeError(`prefix ${JSON.stringify(prefix)} must be lower-case letters, digits and _ (at most 16, starting with a letter)`)
  }
  // Delays that integrate the same stream share the first one's table, with every index any of them declares;
  // a delay that reads another's state (graph/sharedState.ts) joins that delay's table, which it never writes.
  const groups: Vertex[][] = []
  const byStream = new Map<Vertex, Vertex[]>()
  const groupOf = new Map<Vertex, Vertex[]>()
  for (const delay of graph.storedDelays) {
    if (delay.params.stateOf) continue
    const stream = integratedStream(delay)
    const group = stream && byStream.get(stream)
    if (group) group.push(delay)
    else {
      groups.push([delay])
      if (stream) byStream.set(stream, groups[groups.length - 1]!)
    }
    groupOf.set(delay, group ?? groups[groups.length - 1]!)
  }
  for (const delay of graph.storedDelays) if (delay.params.stateOf) groupOf.get(delay.params.stateOf)!.push(delay)
  const tables: TableLayout[] = []
  const byDelay = new Map<Vertex, TableLayout>()
  const used = new Set<string>()
  const names = new NameDictionary()
  const consumersByScope = new Map<Scope, Map<Vertex, Vertex[]>>()
  const consumersOf = (v: Vertex): Map<Vertex, Vertex[]> => {
    let c = consumersByScope.get(v.scope)
    if (!c) consumersByScope.set(v.scope, (c = consumersIn(v.scope)))
    return c
  }
  for (const delays of groups) {
    const delay = delays[0]!
    // The path is sanitised for readability; the hash of the exact path keeps names distinct.
    const name = checkIdentifier(`${prefix}_${sanitise(delay.path, 40)}_${shortHash(delay.path)}`.replace(/__+/g, '_'))
    if (used.has(name)) throw new Error(`internal: two delay vertices map to table ${name}`)
    used.add(name)
    const indexes = new Map<string, Index<any, any>>()
    for (const d of delays) for (const index of stateIndexes(d)) if (!indexes.has(index.id)) indexes.set(index.id, index)
    const keys = [...indexes.values()].map((index, i) => ({
      index,
      column: checkIdentifier(`k${i}_${sanitise(index.name, 24) || 'key'}`),
      sqlIndex: checkIdentifier(`${name}_k${i}`),
    }))
    const log = keys.length === 1 && delays.every((d) => readOnlyThroughKey(d, keys[0]!.index, consumersOf(d)))
    const table: TableLayout = { delay, delays, name, keys, inFixedPoint: inFixedPoint(delay.scope), format: log ? 'log' : 'rows', names }
    tables.push(table)
    for (const d of delays) byDelay.set(d, table)
  }
  const description = describeGraph(graph)
  return {
    prefix,
    tables,
    byDelay,
    metaTable: checkIdentifier(`${prefix}_graph`),
    lastUpdateTable: checkIdentifier(`${prefix}_last_update`),
    namesTable: checkIdentifier(`${prefix}_names`),
    names,
    fingerprint: shortHash(JSON.stringify({ layout: LAYOUT_VERSION, description }), 32),
    description,
  }
}

/** What the metadata table holds: the fingerprint, the graph description and the state tables' names. */
export function metadataRows(layout: StoreLayout): [string, string][] {
  return [
    ['fingerprint', layout.fingerprint],
    ['layout', String(LAYOUT_VERSION)],
    ['description', JSON.stringify(layout.description)],
    ['tables', JSON.stringify(layout.tables.map((t) => t.name))],
  ]
}

/** The error for tables made by another graph: what differs, and how to rebuild. */
export function mismatchError(layout: StoreLayout, stored: ReadonlyMap<string, string>, where: string): StoreSchemaError {
  const storedLayout = stored.get('layout') ?? '1'
  if (storedLayout !== String(LAYOUT_VERSION)) {
    return new StoreSchemaError(
      `stepping: the tables with prefix "${layout.prefix}" in ${where} use table layout ${storedLayout}, ` +
        `and this version of stepping reads layout ${LAYOUT_VERSION} only. Stored state is not converted between layouts. ` +
        `To rebuild: drop the tables (${storedTables(layout, stored)}) and open with { createTables: true } (then replay the inputs), ` +
        `or use a fresh database, or another { prefix }.`,
    )
  }
  const storedFingerprint = stored.get('fingerprint') ?? '(none)'
  const storedDescription = stored.get('description')
  const lines: string[] = []
  if (storedDescription !== undefined) {
    let stored: string[] = []
    try {
      stored = JSON.parse(storedDescription) as string[]
    } catch {
      stored = []
    }
    const pathOf = (line: string): string => line.slice(0, line.indexOf(': '))
    const before = new Map(stored.map((l) => [pathOf(l), l]))
    const now = new Map(layout.description.map((l) => [pathOf(l), l]))
    for (const [path, line] of before) {
      const current = now.get(path)
      if (current === undefined) lines.push(`  - only in the stored graph: ${line}`)
      else if (current !== line) lines.push(`  ~ changed: ${line}\n          now: ${current}`)
    }
    for (const [path, line] of now) if (!before.has(path)) lines.push(`  + only in this graph: ${line}`)
  }
  const shown = lines.slice(0, 20)
  if (lines.length > shown.length) shown.push(`  ... and ${lines.length - shown.length} more differences`)
  const tables = storedTables(layout, stored)
  return new StoreSchemaError(
    `stepping: the tables with prefix "${layout.prefix}" in ${where} were made by a different graph ` +
      `(stored fingerprint ${storedFingerprint}, this graph ${layout.fingerprint}).\n` +
      (shown.length ? `What differs:\n${shown.join('\n')}\n` : '') +
      `Stored state cannot be carried over to a changed graph. To rebuild: drop the tables (${tables}) ` +
      `and open with { createTables: true } (then replay the inputs), or use a fresh database, or another { prefix }.`,
  )
}

/** The stored graph's tables, for the rebuild advice. */
function storedTables(layout: StoreLayout, stored: ReadonlyMap<string, string>): string {
  let stateTables = [`the ${layout.prefix}_* state tables`]
  try {
    stateTables = JSON.parse(stored.get('tables') ?? 'null') ?? stateTables
  } catch {
    // keep the general wording
  }
  return [layout.metaTable, layout.lastUpdateTable, layout.namesTable, ...stateTables].join(', ')
}

// ---------------------------------------------------------------- rows

/*
 * The stored form of a row (`val`) is its canonical text, shortened in two
 * reversible ways, and decoded only here:
 * - the first key, when it is one string or number, is part of the row (an
 *   index on a field): its text is left out and a mark put in its place, and
 *   it is put back from the key column on reading;
 * - frequent pieces of the encoding (pairs' `{"left":`/`,"right":`, ZSet
 *   values, aggregates, JSON punctuation) become one control character each.
 * Canonical text is JSON without whitespace, so it holds no raw control
 * characters (JSON escapes them in strings): each of those marks means one
 * thing, and expanding them gives back the canonical text exactly.
 */
export const TOKENS = [
  '{"left":',
  ',"right":',
  '{"$z":[',
  '{"$e":0}',
  '{"count":',
  ',"sum":',
  '{"key":',
  ',"',
  '":"',
  '":',
  '[[',
  ']]',
  '],[',
  '},{',
  '"]',
  '"}',
  '[{',
  '}]',
]
/** Stands for the first key's text. */
const KEY_MARK = '\x1f'
/** Tokens by their first character (all ASCII), in list order: a pair's `,"right":` is tried before the plain `,"`. */
const TOKENS_BY_FIRST: (string[] | undefined)[] = []
/** The mark of each token in TOKENS_BY_FIRST, at the same place. */
const MARKS_BY_FIRST: (string[] | undefined)[] = []
TOKENS.forEach((t, i) => {
  ;(TOKENS_BY_FIRST[t.charCodeAt(0)] ??= []).push(t)
  ;(MARKS_BY_FIRST[t.charCodeAt(0)] ??= []).push(String.fromCharCode(i + 1))
})

/** The canonical text of a one-component string or number key, from its bytes (docs/encoding.md §4); else undefined. */
export function keyTextOf(key: Buffer | undefined): string | undefined {
  if (key === undefined || key.length < 2) return undefined
  if (key[0] === 0x10 && key.length === 9) {
    const b = Buffer.from(key.subarray(1))
    if (b[0]! & 0x80) b[0] = b[0]! & 0x7f
    else for (let i = 0; i < 8; i++) b[i] = ~b[i]! & 255
    return String(b.readDoubleBE(0))
  }
  if (key[0] !== 0x20 || key[key.length - 2] !== 0 || key[key.length - 1] !== 1) return undefined
  const body = key.subarray(1, key.length - 2)
  if (body.indexOf(0) < 0) return JSON.stringify(body.toString('utf8'))
  // 00 is escaped as 00 FF; any other 00 means more than one component.
  const bytes: number[] = []
  for (let i = 0; i < body.length; i++) {
    if (body[i] === 0) {
      if (body[i + 1] !== 0xff) return undefined
      i++
    }
    bytes.push(body[i]!)
  }
  return JSON.stringify(Buffer.from(bytes).toString('utf8'))
}

/**
 * keyTextOf by the key's encoded string, remembered: a step writes the same keys to
 * several tables (a class's identifier to the classes, the cache, the closure...).
 */
const keyTexts = new Map<string, string | undefined>()
function keyTextOfEncoded(encoded: string, bytes: Buffer): string | undefined {
  let text = keyTexts.get(encoded)
  if (text === undefined && !keyTexts.has(encoded)) {
    if (keyTexts.size >= 8192) keyTexts.clear()
    keyTexts.set(encoded, (text = keyTextOf(bytes)))
  }
  return text
}

/** Whether a token starts with this (ASCII) character: a dense table, read once per character. */
const STARTS_TOKEN = new Uint8Array(128)
for (const t of TOKENS) STARTS_TOKEN[t.charCodeAt(0)] = 1
/**
 * Tokens that spell out a field name of their own (`{"left":`, `,"sum":`...): tried before the
 * name dictionary, which gives two characters where they give one. The others (`,"`, `":`...) after it.
 */
const spellsName = (t: string): boolean => (t[0] === ',' || t[0] === '{') && t[1] === '"' && t.length > 2
/** How many of TOKENS_BY_FIRST's tokens for a character spell a name (they come first in each list). */
const BEFORE_NAMES = new Uint8Array(128)
for (const [c, list] of TOKENS_BY_FIRST.entries()) {
  if (list === undefined) continue
  BEFORE_NAMES[c] = list.filter(spellsName).length
  if (list.slice(0, BEFORE_NAMES[c]).some((t) => !spellsName(t))) throw new Error('internal: tokens spelling a name must come first')
}

const QUOTE = 0x22
const COMMA = 0x2c
const BRACE = 0x7b
const BRACKET = 0x5b
const COLON = 0x3a
const BACKSLASH = 0x5c
/** A name from the store's dictionary (names.ts), then its id character: `,"name":`, `{"name":`, `"name":`. */
const NAME_AFTER_COMMA = '\x13'
const NAME_AFTER_BRACE = '\x14'
const NAME_ALONE = '\x15'

/**
 * Whether `text` is at `at` of `s`, ending by `to`; its first character is known to match.
 * Compared in place: `startsWith` is a runtime call, and most candidates differ by their
 * second or third character (meter reads 436 → 370 ns, pairs of rows 836 → 766 ns each).
 */
function textAt(s: string, at: number, to: number, text: string): boolean {
  const n = text.length
  if (at + n > to) return false
  for (let k = 1; k < n; k++) if (s.charCodeAt(at + k) !== text.charCodeAt(k)) return false
  return true
}

/** Where the last name `nameAt` found ends (its colon). */
let nameEnd = 0

/**
 * The id character of the name in the `"name":` starting at `open` (ending before `to`), setting
 * `nameEnd`; undefined when there is none, or the dictionary lacks it (noting it in `names.unknown`).
 */
function nameAt(s: string, open: number, to: number, names: NameDictionary): string | undefined {
  // The few names of this first character compared in place; else (or to note a new name) the name cut out and looked up.
  const quoted = names.quotedStartingWith(s.charCodeAt(open + 1))
  if (quoted !== undefined) {
    for (let q = 0; q < quoted.length; q++) {
      const form = quoted[q]![0]
      if (textAt(s, open, to, form)) {
        nameEnd = open + form.length - 1
        return quoted[q]![1]
      }
    }
    if (names.full) return undefined
  }
  const close = s.indexOf('"', open + 1)
  // An escaped quote ends no name: such a key stays as it is.
  if (close <= open + 1 || close + 1 >= to || s.charCodeAt(close + 1) !== COLON || s.charCodeAt(close - 1) === BACKSLASH) return undefined
  nameEnd = close + 1
  return names.idChar(s.slice(open + 1, close))
}

/** Whether the `{"` at `at` starts a token that spells a name, or a name `names` holds. */
function braceTakes(s: string, at: number, to: number, names: NameDictionary | undefined): boolean {
  const candidates = TOKENS_BY_FIRST[BRACE]!
  for (let t = 0; t < BEFORE_NAMES[BRACE]!; t++) if (textAt(s, at, to, candidates[t]!)) return true
  return names !== undefined && nameAt(s, at + 1, to, names) !== undefined
}

/**
 * `s` from `from` to `to` with every token replaced by its mark, and every `"name":` whose
 * name is in `names` by a name mark and the name's id, appended to `out`.
 * A scan by first character: well ahead of a regular expression with a replacer, on the write path.
 * Batches of NATIVE_COMPACT_MIN_ROWS or more go through the addon instead (compactTexts).
 * Any `"x":` may be taken for a name (even one inside data): every replacement is undone
 * exactly by expandText, whatever it stood for.
 */
function compactRange(s: string, from: number, to: number, out: string, names: NameDictionary | undefined): string {
  let copied = from
  scan: for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    if (c > 127 || STARTS_TOKEN[c] === 0) continue
    const candidates = TOKENS_BY_FIRST[c]!
    const next = s.charCodeAt(i + 1)
    let t = 0
    for (const before = BEFORE_NAMES[c]!; t < before; t++) {
      const token = candidates[t]!
      if (textAt(s, i, to, token)) {
        out += s.slice(copied, i) + MARKS_BY_FIRST[c]![t]!
        i += token.length - 1
        copied = i + 1
        continue scan
      }
    }
    // A quote after a backslash is inside a string: no name starts there.
    if (names !== undefined && ((c === QUOTE && s.charCodeAt(i - 1) !== BACKSLASH) || ((c === COMMA || c === BRACE) && next === QUOTE))) {
      const id = nameAt(s, c === QUOTE ? i : i + 1, to, names)
      if (id !== undefined) {
        out += s.slice(copied, i) + (c === COMMA ? NAME_AFTER_COMMA : c === BRACE ? NAME_AFTER_BRACE : NAME_ALONE) + id
        i = nameEnd
        copied = i + 1
        continue
      }
    }
    // `[{"key":` is `[` and one mark, `[{"name":` `[` and a name: `[{` leaves them their `{`.
    if (t < candidates.length && c === BRACKET && next === BRACE && s.charCodeAt(i + 2) === QUOTE && braceTakes(s, i + 1, to, names)) continue
    for (; t < candidates.length; t++) {
      const token = candidates[t]!
      if (textAt(s, i, to, token)) {
        out += s.slice(copied, i) + MARKS_BY_FIRST[c]![t]!
        i += token.length - 1
        copied = i + 1
        break
      }
    }
  }
  return copied === from ? out + (from === 0 && to === s.length ? s : s.slice(from, to)) : out + s.slice(copied, to)
}

/**
 * The stored form of a canonical text; `keyText` is its first key's text, when it has one.
 * Its first occurrence becomes KEY_MARK, and tokens and names are replaced on either side
 * of it (never across it), in one pass over the canonical text. Names the dictionary lacks
 * stay literal, and are noted in `names.unknown`.
 */
export function compactText(canonical: string, keyText: string | undefined, names?: NameDictionary): string {
  const at = keyText !== undefined && keyText.length > 1 ? canonical.indexOf(keyText) : -1
  if (at < 0) return compactRange(canonical, 0, canonical.length, '', names)
  return compactRange(canonical, at + keyText!.length, canonical.length, compactRange(canonical, 0, at, '', names) + KEY_MARK, names)
}

/** Below this many rows a batch is compacted in TS: a call into the addon costs more than it saves. */
const NATIVE_COMPACT_MIN_ROWS = 16

/**
 * compactText of each text, through the addon (`addon`: the one in use, if any) for a batch
 * of enough rows: the same texts, faster.
 */
export function compactTexts(
  canonicals: readonly string[],
  keyTexts: readonly (string | undefined)[],
  names?: NameDictionary,
  addon: Binding | undefined = binding,
): string[] {
  if (addon !== undefined && canonicals.length >= NATIVE_COMPACT_MIN_ROWS) {
    const texts = compactBatch(addon, TOKENS, canonicals, keyTexts, names)
    if (texts !== undefined) return texts
  }
  return canonicals.map((canonical, i) => compactText(canonical, keyTexts[i], names))
}

/** The last key expanded, and its text: the rows of one read often share one key object. */
let lastKey: Buffer | undefined
let lastKeyText: string | undefined

/**
 * The canonical text back from its stored form and the row's first key. A name id the
 * dictionary lacks throws UnknownNameError: another writer added it (see `decoding`).
 */
export function expandText(text: string, key: Buffer | undefined, names?: NameDictionary): string {
  let out = ''
  let from = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c >= 0x20 || c === 0) continue
    let piece: string | undefined
    if (c === 0x1f) {
      if (key !== lastKey) {
        lastKey = key
        lastKeyText = keyTextOf(key)
      }
      piece = lastKeyText
      if (piece === undefined) throw new Error('internal: a stored row leaves out a key that its key column does not hold')
    } else if (c >= 0x13 && c <= 0x15) {
      if (names === undefined) throw new Error('internal: a stored row holds a field name id, and no names were given to read it')
      out += text.slice(from, i) + names.spelled((c - 0x13) as 0 | 1 | 2, text.charCodeAt(i + 1))
      from = i + 2
      i++
      continue
    } else {
      piece = TOKENS[c - 1]!
    }
    out += text.slice(from, i) + piece
    from = i + 1
  }
  return from === 0 ? text : out + text.slice(from)
}

/** A state row ready to be written (or looked up). */
export interface EncodedRow {
  /** The stored form of its canonical text. */
  readonly text: string
  readonly weight: number
  /** One per key column, in layout order. */
  readonly keys: readonly Buffer[]
  /** Its 16-byte identity hash, for drivers that keep it (`SqlDriver.storesIds`). */
  readonly id: Buffer | undefined
  /** The first key as encoded (a binary string: it sorts as `keys[0]` does), for putting rows in order. */
  readonly order?: string
}

/** A state row as read back. */
export interface StoredRow {
  readonly text: string
  readonly weight: number
  /** The first key column (tables with keys): the stored text may leave that key out. */
  readonly k0?: Buffer
  /** Reads by a key column: that column's bytes. */
  readonly key?: Buffer
  /** The identity hash, from drivers that keep it. */
  readonly id?: Buffer
}

const textOfKey = (key: string | number): string => (typeof key === 'number' ? String(key) : key)

/**
 * Rows of a ZSet as table rows, in primary-key order: by first key, then by
 * identity (or by stored text, for drivers without ids). Concurrent writers
 * thus lock shared rows in one order, and inserts go through the B-tree in order.
 * `forLookup`: rows whose keys cannot be computed are left out (they cannot be
 * stored) rather than refused. `byKeyOnly`: for a log's chunk, ordered by first key
 * only (a chunk needs no order within a key) and with the rows of `z` as given.
 */
export function encodeRows(
  table: TableLayout,
  z: ZSet<unknown>,
  withIds: boolean,
  { forLookup = false, byKeyOnly = false }: { forLookup?: boolean; byKeyOnly?: boolean } = {},
): EncodedRow[] {
  // Texts are filled in at the end, for the whole batch at once (compactTexts).
  const out: { -readonly [K in keyof EncodedRow]: EncodedRow[K] }[] = []
  const keyed = table.keys.length > 0
  // Rows of a batch often share keys (one meter's reads): a key equal to the previous row's
  // reuses its bytes (read-only) and its text, instead of converting them again.
  const lastEncoded: (string | undefined)[] = []
  const lastBytes: Buffer[] = []
  let lastKeys: Buffer[] | undefined
  let lastKeyText: string | undefined
  const columns = table.keys.length
  // A log's chunk takes the rows as given, unsummed (see rowsFromChunks): summing would cost
  // a hash-map insert per row (ref at 1M rows on SQLite: 482,438-492,084 -> 521,936-552,721 rows/s).
  const canonicals: string[] = []
  const keyTexts: (string | undefined)[] = []
  for (const e of byKeyOnly ? z.eachEntry() : z.entries.values()) {
    const canonical = textOfKey(e.key)
    let keys: Buffer[] = []
    if (keyed) {
      try {
        let same = lastKeys !== undefined
        for (let j = 0; j < columns; j++) {
          const encoded = encodedKeyOf(table.keys[j]!.index, e.value, e.groupKey)
          if (encoded !== lastEncoded[j]) {
            same = false
            lastEncoded[j] = encoded
            lastBytes[j] = keyToBuffer(encoded)
            if (j === 0) lastKeyText = keyTextOfEncoded(encoded, lastBytes[0])
          }
        }
        // Rows with the previous row's keys share its (read-only) key list too.
        keys = same ? lastKeys! : (lastKeys = lastBytes.slice(0, columns))
      } catch (error) {
        lastKeys = undefined
        // Every stored row has its keys: a row looked up without them is simply not there.
        if (forLookup) continue
        throw error
      }
    }
    canonicals.push(canonical)
    keyTexts.push(keyed ? lastKeyText : undefined)
    out.push({
      text: '',
      weight: e.weight,
      keys,
      id: withIds ? identityBytes(canonical) : undefined,
      order: keyed ? lastEncoded[0] : undefined,
    })
  }
  const texts = compactTexts(canonicals, keyTexts, table.names)
  for (let i = 0; i < out.length; i++) out[i]!.text = texts[i]!
  // A lookup's rows go in any order (the database drives the probes itself); writes go in primary-key order.
  return forLookup ? out : sortRows(out, keyed, withIds, byKeyOnly)
}

function sortRows(rows: EncodedRow[], keyed: boolean, withIds: boolean, byKeyOnly: boolean): EncodedRow[] {
  return rows.sort((a, b) => {
    // The first key's encoded string sorts as its bytes do (one byte per character), without a call into Buffer.
    if (keyed && a.order !== b.order) return a.order! < b.order! ? -1 : 1
    if (byKeyOnly) return 0
    if (withIds) return Buffer.compare(a.id!, b.id!)
    return a.text < b.text ? -1 : a.text > b.text ? 1 : 0
  })
}

/**
 * Rows of a change looked up in a table during the step (distinct reads the rows
 * of its change from its integral, then adds that very change to it): a write of
 * the same ZSet to the same table reuses their encoding.
 */
const lookedUp = new WeakMap<ZSet<unknown>, { table: TableLayout; count: number; rows: EncodedRow[] }>()

/** `z`'s rows encoded for writing to `table`, in primary-key order. */
function writtenRows(table: TableLayout, z: ZSet<unknown>, withIds: boolean): EncodedRow[] {
  const seen = lookedUp.get(z)
  if (seen === undefined || seen.table !== table || seen.count !== z.entryCount) return encodeRows(table, z, withIds)
  return sortRows([...seen.rows], table.keys.length > 0, withIds, false)
}

/** The in-memory row key of a decoded value: finite numbers are their own key, as in `rowKey`. */
function rowKeyOf(value: unknown, canonical: string): string | number {
  return typeof value === 'number' && Number.isFinite(value) ? value : canonical
}

/** A stored row as an entry: its value decoded, its in-memory row key. */
function entryOf<T>(r: StoredRow, names: NameDictionary): Entry<T> {
  const canonical = expandText(r.text, r.k0, names)
  const value = decodeCanonical(canonical) as T
  return { key: rowKeyOf(value, canonical), value, weight: r.weight }
}

export function rowsToZSet<T>(rows: Iterable<StoredRow>, names: NameDictionary): ZSet<T> {
  const out = new ZSet<T>()
  for (const r of rows) {
    const e = entryOf<T>(r, names)
    out.addWeight(e.key, e.value, e.weight)
  }
  return out
}

/** A stored row decoded, with its identity hash for ordering rows with equal keys. */
class DecodedRow<T> {
  constructor(
    readonly key: Buffer,
    private readonly canonical: string,
    readonly value: T,
    readonly weight: number,
    private readonly idBytes: Buffer | undefined,
  ) {}

  private hex: string | undefined

  /** The identity hash in hex (whose order is the bytes' order), worked out when asked for: rows with distinct keys never need it. */
  get tie(): string {
    return (this.hex ??= (this.idBytes ?? identityBytes(this.canonical)).toString('hex'))
  }
}

function decodeRow<T>(r: StoredRow, names: NameDictionary): DecodedRow<T> {
  const canonical = expandText(r.text, r.k0, names)
  return new DecodedRow(r.key ?? r.k0!, canonical, decodeCanonical(canonical) as T, r.weight, r.id)
}

const byId = <T>(a: DecodedRow<T>, b: DecodedRow<T>): number => (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0)

/** Sort each run of rows with equal keys by identity hash (runs of one, the common case, cost nothing). */
function sortTies<T>(rows: DecodedRow<T>[]): DecodedRow<T>[] {
  let start = 0
  for (let i = 1; i <= rows.length; i++) {
    if (i < rows.length && rows[i]!.key.equals(rows[start]!.key)) continue
    if (i - start > 1) {
      const run = rows.slice(start, i).sort(byId)
      for (let j = 0; j < run.length; j++) rows[start + j] = run[j]!
    }
    start = i
  }
  return rows
}

/** Rows read by key, in the memory store's order: by key, then by identity hash. */
function inKeyOrder<T>(rows: readonly StoredRow[], names: NameDictionary): DecodedRow<T>[] {
  const decoded = rows.map((r) => decodeRow<T>(r, names))
  // Drivers mostly give rows by key already (SQLite reads them from the index).
  for (let i = 1; i < decoded.length; i++) {
    if (Buffer.compare(decoded[i - 1]!.key, decoded[i]!.key) > 0) {
      decoded.sort((a, b) => Buffer.compare(a.key, b.key))
      break
    }
  }
  return sortTies(decoded)
}

// ---------------------------------------------------------------- logs

/*
 * A join's integral is read only by its join key, and most of its rows are
 * written once and never changed (reads, events). Kept as one table row per
 * ZSet row, every input row costs an upsert at a random place of a growing
 * B-tree, which dirties a page per row and makes each commit write more as
 * the table grows. As a log (DBSP keeps integrals as a "spine" of batches)
 * each write adds one table row per key holding that write's rows for the key
 * (a chunk), and a key's rows are the sum of its chunks. Reads merge a key's
 * newest chunks once it has more than a few, the smaller into the larger
 * (size-tiered, so each row is rewritten O(log n) times), which also drops
 * rows that cancelled. A merge changes how the state is stored, never what it
 * is, so it may run inside any iteration that reads the table.
 *
 * A chunk is its rows' `weight WEIGHT_END stored text` joined by ROW_END:
 * stored texts hold neither (see `compactText`: canonical text has no raw
 * control characters, marks use 0x01-0x15 and 0x1f, and name ids are 0x20 and above).
 */
const ROW_END = '\x1e'
const WEIGHT_END = '\x1d'
/** A key may have this many chunks before a read merges its newest ones. */
const CHUNKS_BEFORE_MERGE = 4

/** One table row of a log: the rows one write (or one merge) gave one key. */
export interface StoredChunk {
  readonly k0: Buffer
  /** Orders a key's chunks from oldest to newest. */
  readonly n: number
  readonly rows: string
}

/** A chunk to append: `n` is the driver's to choose (newer than every chunk of the key). */
export interface NewChunk {
  readonly k0: Buffer
  readonly rows: string
}

/** Rows `from` to `to` of `rows` (one key's, consolidated) as a chunk. */
function chunkText(rows: readonly { text: string; weight: number }[], from = 0, to = rows.length): string {
  let out = ''
  for (let i = from; i < to; i++) out += (i === from ? '' : ROW_END) + rows[i]!.weight + WEIGHT_END + rows[i]!.text
  return out
}

/** A chunk's rows, as stored. */
function chunkRows(k0: Buffer, chunk: string): StoredRow[] {
  if (chunk === '') return []
  return chunk.split(ROW_END).map((row) => {
    const at = row.indexOf(WEIGHT_END)
    return { k0, text: row.slice(at + 1), weight: Number(row.slice(0, at)) }
  })
}

/** What a write of `z` appends to a log: one chunk per key. */
export function logWrite(table: TableLayout, z: ZSet<unknown>): NewChunk[] {
  // A chunk keeps no identity hashes and no order within its key.
  return chunksOf(encodeRows(table, z, false, { byKeyOnly: true }))
}

/** Rows of encoded rows (in key order) as one new chunk per key. */
export function chunksOf(rows: readonly EncodedRow[]): NewChunk[] {
  const out: NewChunk[] = []
  let start = 0
  for (let i = 1; i <= rows.length; i++) {
    if (i < rows.length && rows[i]!.order === rows[start]!.order) continue
    out.push({ k0: rows[start]!.keys[0]!, rows: chunkText(rows, start, i) })
    start = i
  }
  return out
}

/** One key's rows from several chunks, summed (in no set order); rows that cancelled are left out. */
function sumRows(k0: Buffer, chunks: readonly StoredRow[][]): StoredRow[] {
  const weights = new Map<string, number>()
  for (const rows of chunks) for (const r of rows) weights.set(r.text, (weights.get(r.text) ?? 0) + r.weight)
  const out: StoredRow[] = []
  for (const [text, weight] of weights) if (weight !== 0) out.push({ k0, text, weight })
  return out
}

/**
 * How many of a key's newest chunks (oldest first in `chunks`) a read merges:
 * none while it has few; else the newest ones, going back while the next older
 * chunk is at most twice what has been gathered (so sizes keep halving from old to new).
 */
export function chunksToMerge(chunks: readonly { rows: string }[]): number {
  if (chunks.length <= CHUNKS_BEFORE_MERGE) return 0
  let size = chunks[chunks.length - 1]!.rows.length
  let count = 1
  for (let i = chunks.length - 2; i >= 0 && chunks[i]!.rows.length <= 2 * size; i--) {
    size += chunks[i]!.rows.length
    count++
  }
  return count >= 2 ? count : 0
}

/** A merge to write: drop chunks `ns` of key `k0` and append `rows` (nothing when every row cancelled). */
export interface ChunkMerge {
  readonly k0: Buffer
  readonly ns: readonly number[]
  readonly rows: string
}

/**
 * The rows of each key from its chunks (given by key, oldest first), and the
 * merges worth writing back: the newest chunks (`chunksToMerge`), or all of a
 * key's chunks when most of their rows cancel (removals meeting their inserts),
 * so that a log holds little more than its live rows once read.
 */
export function rowsFromChunks(chunks: readonly StoredChunk[], merge: boolean): { rows: StoredRow[]; merges: ChunkMerge[] } {
  const rows: StoredRow[] = []
  const merges: ChunkMerge[] = []
  let start = 0
  for (let i = 1; i <= chunks.length; i++) {
    if (i < chunks.length && chunks[i]!.k0.equals(chunks[start]!.k0)) continue
    const k0 = chunks[start]!.k0
    const own = chunks.slice(start, i)
    start = i
    if (own.length === 1) {
      // One chunk holds one write's rows as given: a row may repeat, or come with +1 and -1.
      // Only joins read logs (readOnlyThroughKey), and a join pairs each copy with its weight.
      // (In no set order: readers that need one sort.)
      for (const r of chunkRows(k0, own[0]!.rows)) rows.push(r)
      continue
    }
    const parsed = own.map((c) => chunkRows(k0, c.rows))
    const live = sumRows(k0, parsed)
    for (const r of live) rows.push(r)
    if (!merge) continue
    const stored = parsed.reduce((n, p) => n + p.length, 0)
    if (live.length * 2 < stored) {
      merges.push({ k0, ns: own.map((c) => c.n), rows: chunkText(live) })
      continue
    }
    const newest = chunksToMerge(own)
    if (newest === 0) continue
    merges.push({ k0, ns: own.slice(own.length - newest).map((c) => c.n), rows: chunkText(sumRows(k0, parsed.slice(parsed.length - newest))) })
  }
  return { rows, merges }
}

/**
 * The row reads of a log table, answered from its chunks. Inside an iteration
 * (`writes` given) reads by key write back the merges they find worth it, in two
 * statements whatever their number; cache reads, outside iterations, merge nothing.
 * Reads in order give every row in one page; other reads go to `reads`. A class, not an
 * object of closures: a step makes one per log it reads.
 */
class LogRowReads implements SqlReads {
  constructor(
    private readonly reads: SqlReads,
    private readonly writes: SqlWrites | undefined,
  ) {}

  private async rowsOf(table: TableLayout, keys: readonly Buffer[] | undefined): Promise<StoredRow[]> {
    const { reads, writes } = this
    const { rows, merges } = rowsFromChunks(await reads.chunks(table, keys), writes !== undefined && keys !== undefined)
    if (writes && merges.length > 0) {
      await writes.dropChunks(table, merges.flatMap((m) => m.ns.map((n) => ({ k0: m.k0, n }))))
      await writes.appendChunks(table, merges.filter((m) => m.rows !== ''))
    }
    return rows
  }

  /** A log is read whole, as one page. */
  private async allInOnePage(table: TableLayout, after: StoredRow | undefined): Promise<StoredRow[]> {
    return after === undefined ? this.rowsOf(table, undefined) : []
  }

  // A log has one key column: reads by key are by the first.
  rowsByKeys(table: TableLayout, _column: KeyColumn, keys: readonly Buffer[]): Promise<StoredRow[]> {
    return this.rowsOf(table, keys)
  }

  async rowsByRows(table: TableLayout, wanted: readonly EncodedRow[]): Promise<StoredRow[]> {
    // Stored texts leave the key out: a row is its key and its text.
    const texts = new Map<string, Set<string>>()
    for (const r of wanted) {
      const hex = r.keys[0]!.toString('hex')
      let set = texts.get(hex)
      if (!set) texts.set(hex, (set = new Set()))
      set.add(r.text)
    }
    const keys = [...texts.keys()].sort().map((h) => Buffer.from(h, 'hex'))
    return (await this.rowsOf(table, keys)).filter((r) => texts.get(r.k0!.toString('hex'))!.has(r.text))
  }

  rowsInOrder(table: TableLayout, _column: KeyColumn, after: StoredRow | undefined): Promise<StoredRow[]> {
    return this.allInOnePage(table, after)
  }

  rowsPaged(table: TableLayout, after: StoredRow | undefined): Promise<StoredRow[]> {
    return this.allInOnePage(table, after)
  }

  allRows(table: TableLayout): Promise<StoredRow[]> {
    return this.rowsOf(table, undefined)
  }

  chunks(table: TableLayout, keys: readonly Buffer[] | undefined): Promise<StoredChunk[]> {
    return this.reads.chunks(table, keys)
  }

  lastUpdates(tables: readonly string[]): Promise<Map<string, number>> {
    return this.reads.lastUpdates(tables)
  }

  namesFrom(from: number): Promise<string[]> {
    return this.reads.namesFrom(from)
  }
}

/** Reads of `table`'s rows, whatever its format; `writes` (inside an iteration) lets a log merge what it reads. */
export function rowReadsFor(table: TableLayout, reads: SqlReads, writes?: SqlWrites): SqlReads {
  return table.format === 'log' ? new LogRowReads(reads, writes) : reads
}

// ---------------------------------------------------------------- driver interface

/**
 * Reads a driver answers on one connection; each is one SQL statement. Every
 * read gives `k0` for tables with keys; paged reads resume after the last row
 * they gave (`after`), whose columns the driver chose.
 */
export interface SqlReads {
  /** Rows whose key column is one of `keys` (given in key order), with `key` set unless it is the first key. */
  rowsByKeys(table: TableLayout, column: KeyColumn, keys: readonly Buffer[]): Promise<StoredRow[]>
  /** The stored rows among `rows` (encoded by `encodeRows`). */
  rowsByRows(table: TableLayout, rows: readonly EncodedRow[]): Promise<StoredRow[]>
  /** Up to `limit` rows in key order (ties in any order) after `after`, with `key` set unless it is the first key. */
  rowsInOrder(table: TableLayout, column: KeyColumn, after: StoredRow | undefined, limit: number): Promise<StoredRow[]>
  /** Up to `limit` rows in primary-key order after `after` (for unordered full reads in pages). */
  rowsPaged(table: TableLayout, after: StoredRow | undefined, limit: number): Promise<StoredRow[]>
  allRows(table: TableLayout): Promise<StoredRow[]>
  /** A log table's chunks of `keys` (every chunk when undefined), grouped by key, each key's oldest first. */
  chunks(table: TableLayout, keys: readonly Buffer[] | undefined): Promise<StoredChunk[]>
  /** The time each named table has been written up to. */
  lastUpdates(tables: readonly string[]): Promise<Map<string, number>>
  /** The field names (names.ts) with ids from `from` on, in id order (`denseNames`). */
  namesFrom(from: number): Promise<string[]>
}

export interface SqlWrites extends SqlReads {
  /** state += rows, in SQL; rows whose weight becomes 0 are deleted. */
  upsert(table: TableLayout, rows: readonly EncodedRow[]): Promise<void>
  /** Delete every row. */
  clear(table: TableLayout): Promise<void>
  /** A log table: append chunks (one per key), each newer than the key's stored ones. */
  appendChunks(table: TableLayout, chunks: readonly NewChunk[]): Promise<void>
  /** A log table: delete these chunks. */
  dropChunks(table: TableLayout, chunks: readonly { k0: Buffer; n: number }[]): Promise<void>
  /** Take the names table's lock, held to the transaction's end: writers add names one at a time. */
  lockNames(): Promise<void>
  /** Add field names with ids `from`, `from + 1`, ... */
  insertNames(from: number, names: readonly string[]): Promise<void>
}

// ---------------------------------------------------------------- field names

/** The names table's rows from id `from` on (in id order) as names; their ids must follow on without a gap. */
export function denseNames(rows: readonly { id: number | string; name: string }[], from: number): string[] {
  return rows.map((r, i) => {
    if (Number(r.id) !== from + i) {
      throw new StoreSchemaError(`stepping: the field names table has no name #${from + i} (the next is #${r.id}): it was changed outside stepping`)
    }
    return r.name
  })
}

/** Read the names other writers have added since the dictionary was last read; whether there were any. */
async function readNewNames(names: NameDictionary, reads: SqlReads): Promise<boolean> {
  for (;;) {
    const from = names.size
    const added = await reads.namesFrom(from)
    // A transaction of this store's rolled its names back meanwhile: read from where the dictionary now ends.
    if (names.size < from) continue
    return names.extend(from, added) > 0
  }
}

/**
 * `decode()`, which reads stored texts with `names`. A name id the dictionary lacks was added
 * by another writer since it was read: read the new names, and decode again.
 */
async function decoding<R>(names: NameDictionary, reads: SqlReads, decode: () => R): Promise<R> {
  try {
    return decode()
  } catch (e) {
    if (!(e instanceof UnknownNameError) || !(await readNewNames(names, reads))) throw e
    return decode()
  }
}

/** Stored rows as a ZSet (see `decoding`). */
function decodedZSet<T>(names: NameDictionary, reads: SqlReads, rows: readonly StoredRow[]): Promise<ZSet<T>> {
  return decoding(names, reads, () => rowsToZSet<T>(rows, names))
}

/** Stored rows decoded one by one, in their order (see `decoding`). */
function decodedRows<T>(names: NameDictionary, reads: SqlReads, rows: readonly StoredRow[]): Promise<DecodedRow<T>[]> {
  return decoding(names, reads, () => rows.map((r) => decodeRow<T>(r, names)))
}

/**
 * `encode()` with `names`, and the names it met that the dictionary lacks: read at once,
 * since other reads may encode while this one waits.
 */
export function encodeNoting<R>(names: NameDictionary, encode: () => R): { encoded: R; unknown: string[] } {
  names.unknown.clear()
  const encoded = encode()
  return { encoded, unknown: [...names.unknown] }
}

/**
 * `z`'s rows encoded to be looked up in `table`. A name the dictionary lacks is in no stored
 * row, unless another writer added it since the dictionary was read: then read the new names
 * first. `complete`: every name was in the dictionary, so a write would store these very texts.
 */
async function encodeLookup(table: TableLayout, z: ZSet<unknown>, withIds: boolean, reads: SqlReads): Promise<{ rows: EncodedRow[]; complete: boolean }> {
  const encode = () => encodeRows(table, z, withIds, { forLookup: true })
  let { encoded, unknown } = encodeNoting(table.names, encode)
  if (unknown.length > 0 && (await readNewNames(table.names, reads))) ({ encoded, unknown } = encodeNoting(table.names, encode))
  return { rows: encoded, complete: unknown.length === 0 }
}

/**
 * `encode()`, which encodes rows to write with `names`: the names it found missing are added
 * to the dictionary and the names table first (in the write's transaction), and it runs again.
 */
async function encodeWrite<R>(names: NameDictionary, writes: SqlWrites, encode: () => R): Promise<R> {
  const { encoded, unknown } = encodeNoting(names, encode)
  if (unknown.length === 0) return encoded
  await writes.lockNames()
  await readNewNames(names, writes)
  const missing = unknown.filter((n) => !names.has(n)).slice(0, Math.max(0, names.capacity - names.size))
  if (missing.length > 0) {
    await writes.insertNames(names.size, missing)
    names.addUncommitted(missing)
  }
  return encode()
}

/** `tx`, keeping the names it adds only if it commits. */
function keepingNames(tx: SqlTransaction, names: NameDictionary): SqlTransaction {
  return {
    session: tx.session,
    commit: async (marks, time, reopen) => {
      await tx.commit(marks, time, reopen)
      names.commit()
    },
    rollback: async () => {
      names.rollback()
      await tx.rollback()
    },
  }
}

/** One iteration's database transaction. */
export interface SqlTransaction {
  readonly session: SqlWrites
  /** Mark `marks` as written up to `time` (when given) and commit; with `reopen`, start the next transaction at once. */
  commit(marks: readonly string[], time: number | undefined, reopen: boolean): Promise<void>
  /** Undo everything since the last commit and end the transaction. */
  rollback(): Promise<void>
}

export interface SqlDriver {
  readonly kind: 'sqlite' | 'postgres'
  /** The tables keep each row's identity hash (`EncodedRow.id` is needed). */
  readonly storesIds: boolean
  /** Names the database in messages. */
  readonly location: string
  /**
   * SQLite: one writer at a time holds the whole database, so an iteration waits for its
   * frontier before it begins. PostgreSQL: each table is waited for when it is first read.
   */
  readonly waitsBeforeBegin: boolean
  /** SQLite shares one connection between iterations and cache reads: reads must not run mid-iteration. */
  readonly readsShareTheTransaction: boolean
  /** Iterations on this store (SQLite: on this file, in this process) run one at a time. */
  readonly mutex: Mutex
  /** Create missing tables (when asked) and check the fingerprint, as one transaction. */
  setup(layout: StoreLayout, createTables: boolean): Promise<void>
  /**
   * Begin an iteration's transaction. `serialise` asks for a lock that orders writers
   * without a time; `acrossCommits` says it must be held over `commit(..., reopen)`.
   */
  begin(serialise: boolean, acrossCommits: boolean): Promise<SqlTransaction>
  /** Reads outside any iteration (committed state only). */
  read<R>(work: (reads: SqlReads) => Promise<R>): Promise<R>
  /** Wait `ms` between two polls of the time protocol, or less if another writer commits meanwhile. */
  pause(ms: number): Promise<void>
  /** The longest pause between two polls. */
  readonly maxPauseMs: number
  close(): Promise<void>
}

// ---------------------------------------------------------------- the store

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * Poll until `poll` says yes, with bounded exponential backoff between polls
 * (0.5 ms growing to the driver's cap), failing at `deadline`. Between polls
 * the driver may wake up early when another writer commits.
 */
async function waitUntil(
  driver: SqlDriver,
  deadline: number,
  poll: () => Promise<{ ok: true } | { ok: false; table: string; reached: number }>,
  onTimeout: (table: string, reached: number) => Error,
): Promise<void> {
  let pause = 0.5
  for (;;) {
    const r = await poll()
    if (r.ok) return
    if (Date.now() >= deadline) throw onTimeout(r.table, r.reached)
    await driver.pause(Math.min(pause, Math.max(1, deadline - Date.now())))
    pause = Math.min(pause * 1.6, driver.maxPauseMs)
  }
}

const PAGE_FIRST = 64
const PAGE_MAX = 4096

/**
 * Rows of one key column in the memory store's order (by key, then identity
 * hash), read page by page so that a consumer can stop early. The database
 * gives them by key; rows with equal keys are put in order here, so a key's
 * rows are held until the next key (or the end) shows that all have come.
 */
async function* orderedRows<T>(
  read: (after: StoredRow | undefined, limit: number) => Promise<{ rows: StoredRow[]; decoded: DecodedRow<T>[] }>,
): AsyncGenerator<DecodedRow<T>> {
  let after: StoredRow | undefined
  let limit = PAGE_FIRST
  let tied: DecodedRow<T>[] = []
  for (;;) {
    const { rows, decoded } = await read(after, limit)
    for (const row of decoded) {
      if (tied.length > 0 && !tied[0]!.key.equals(row.key)) {
        yield* tied.length > 1 ? tied.sort(byId) : tied
        tied = []
      }
      tied.push(row)
    }
    if (rows.length < limit) break
    after = rows[rows.length - 1]!
    limit = Math.min(limit * 4, PAGE_MAX)
  }
  yield* tied.sort(byId)
}

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres'
  private readonly frontierTimeoutMs: number
  private readonly allTables: string[]
  private readonly withIds: boolean

  constructor(
    readonly graph: GraphDef,
    readonly layout: StoreLayout,
    private readonly driver: SqlDriver,
    options: SqlStoreOptions,
  ) {
    this.kind = driver.kind
    this.frontierTimeoutMs = options.frontierTimeoutMs ?? DEFAULT_FRONTIER_TIMEOUT_MS
    this.allTables = layout.tables.map((t) => t.name)
    this.withIds = driver.storesIds
  }

  private table(delay: Vertex): TableLayout {
    const t = this.layout.byDelay.get(delay)
    if (!t) throw new Error(`no table for ${delay.path}: the store was opened for another graph`)
    return t
  }

  /** The input time up to which every table of this graph has been written (0 for a fresh store). */
  async writtenUpTo(): Promise<number> {
    const times = await this.driver.read((r) => r.lastUpdates(this.allTables))
    let min = Infinity
    for (const name of this.allTables) min = Math.min(min, times.get(name) ?? 0)
    return min === Infinity ? 0 : min
  }

  private async frontierReached(reads: SqlReads, tables: readonly string[], frontier: number) {
    const times = await reads.lastUpdates(tables)
    for (const name of tables) {
      const reached = times.get(name) ?? 0
      if (reached < frontier) return { ok: false as const, table: name, reached }
    }
    return { ok: true as const }
  }

  transaction<R>(time: Time, work: (tx: Transaction) => Promise<R>): Promise<R> {
    return this.runTransaction(time, work)
  }

  private async runTransaction<R>(time: Time, work: (tx: Transaction) => Promise<R>): Promise<R> {
    const deadline = Date.now() + this.frontierTimeoutMs
    const timeout = (table: string, reached: number): Error =>
      new FrontierTimeoutError(time.frontier, table, reached, this.frontierTimeoutMs)
    const waitFirst = time.frontier !== -1 && this.driver.waitsBeforeBegin
    try {
      for (;;) {
        // Waiting happens outside the mutex, so that another iteration of this process can
        // write the very time we wait for; inside, the frontier is checked again.
        if (waitFirst) {
          await waitUntil(this.driver, deadline, () => this.driver.read((r) => this.frontierReached(r, this.allTables, time.frontier)), timeout)
        }
        const outcome = await this.driver.mutex.run(() => this.attempt(time, work, deadline, timeout))
        if (outcome.done) return outcome.value
      }
    } catch (e) {
      if (time.inputTime !== -1) await this.releaseTime(time.inputTime)
      throw e
    }
  }

  /**
   * A failed iteration still passes its input time on (with no changes), so that the
   * writers waiting for it go on rather than time out; its batch must be re-run with a new time.
   */
  private async releaseTime(inputTime: number): Promise<void> {
    try {
      await this.driver.mutex.run(async () => {
        const tx = await this.driver.begin(false, false)
        try {
          await tx.commit(this.allTables, inputTime, false)
        } catch (e) {
          await tx.rollback().catch(() => undefined)
          throw e
        }
      })
    } catch {
      // The database is unreachable; the original error is what the caller needs to see.
    }
  }

  private async attempt<R>(
    time: Time,
    work: (tx: Transaction) => Promise<R>,
    deadline: number,
    timeout: (table: string, reached: number) => Error,
  ): Promise<{ done: true; value: R } | { done: false }> {
    const timed = time.frontier !== -1
    const tx = keepingNames(await this.driver.begin(!timed, time.flushEverySet), this.layout.names)
    try {
      if (timed && this.driver.waitsBeforeBegin) {
        const r = await this.frontierReached(tx.session, this.allTables, time.frontier)
        if (!r.ok) {
          await tx.rollback()
          if (Date.now() >= deadline) throw timeout(r.table, r.reached)
          return { done: false }
        }
      }
      // Per-table waits get the whole timeout from now: time spent queued behind this process's other iterations does not count.
      const run = new SqlIteration(this, tx, time, Math.max(deadline, Date.now() + this.frontierTimeoutMs), timeout)
      const value = await work(run.transaction())
      await run.finish()
      return { done: true, value }
    } catch (e) {
      await tx.rollback().catch(() => undefined)
      throw e
    }
  }

  /** @internal */
  get storesIds(): boolean {
    return this.withIds
  }

  /** @internal */
  tableFor(delay: Vertex): TableLayout {
    return this.table(delay)
  }

  /** @internal */
  get driverForWaits(): SqlDriver {
    return this.driver
  }

  /** @internal */
  get waitsPerTable(): boolean {
    return !this.driver.waitsBeforeBegin
  }

  /** @internal */
  checkReached(reads: SqlReads, table: string, frontier: number) {
    return this.frontierReached(reads, [table], frontier)
  }

  /** @internal */
  get tableNames(): readonly string[] {
    return this.allTables
  }

  // ---- cache reads: committed state, outside iterations

  private read<R>(table: TableLayout, work: (reads: SqlReads) => Promise<R>): Promise<R> {
    const read = () => this.driver.read((r) => work(rowReadsFor(table, r)))
    // SQLite's one connection may be inside an iteration's transaction: wait for it to end.
    return this.driver.readsShareTheTransaction ? this.driver.mutex.run(read) : read()
  }

  cacheReader<T>(delay: Vertex): CacheReader<T> {
    const table = this.table(delay)
    return {
      iter: (match?: Iterable<T>) => this.cacheIter<T>(table, match),
      iterByIndex: <K>(index: Index<T, K>, matchKeys?: Iterable<K>) => this.cacheIterByIndex<T, K>(table, index, matchKeys),
    }
  }

  private async *cacheIter<T>(table: TableLayout, match: Iterable<T> | undefined): AsyncGenerator<[T, number]> {
    const names = table.names
    if (match !== undefined) {
      const wanted = ZSet.from<T>([...match].map((v) => [v, 1] as const))
      if (wanted.isEmpty()) return
      const found = await this.read(table, async (r) => {
        const { rows } = await encodeLookup(table, wanted as ZSet<unknown>, this.withIds, r)
        if (rows.length === 0) return new ZSet<T>()
        const stored = await r.rowsByRows(table, rows)
        return decodedZSet<T>(names, r, stored)
      })
      // In the order asked for, as the memory store does.
      for (const key of wanted.entries.keys()) {
        const e = found.entries.get(key)
        if (e) yield [e.value, e.weight]
      }
      return
    }
    let after: StoredRow | undefined
    let limit = PAGE_FIRST
    for (;;) {
      const { rows, decoded } = await this.read(table, async (r) => {
        const rows = await r.rowsPaged(table, after, limit)
        return { rows, decoded: await decoding(names, r, () => rows.map((row): [T, number] => [decodeCanonical(expandText(row.text, row.k0, names)) as T, row.weight])) }
      })
      yield* decoded
      if (rows.length < limit) return
      after = rows[rows.length - 1]!
      limit = Math.min(limit * 4, PAGE_MAX)
    }
  }

  private async *cacheIterByIndex<T, K>(
    table: TableLayout,
    index: Index<T, K>,
    matchKeys: Iterable<K> | undefined,
  ): AsyncGenerator<[K, T, number]> {
    const names = table.names
    const column = table.keys.find((k) => k.index.id === index.id)
    if (!column) {
      // Not an index the table keeps: order the rows here, as the memory store does for such indexes.
      const all = await this.read(table, async (r) => {
        const rows = await r.allRows(table)
        return decodedZSet<T>(names, r, rows)
      })
      yield* all.iterByIndex(index, matchKeys)
      return
    }
    if (matchKeys !== undefined) {
      // In key order (binary strings compare as their bytes), so that the rows come back in it.
      const keys = [...new Set([...matchKeys].map((k) => index.encodeKey(k)))].sort().map(keyToBuffer)
      if (keys.length === 0) return
      const rows = await this.read(table, async (r) => {
        const rows = await r.rowsByKeys(table, column, keys)
        return decoding(names, r, () => inKeyOrder<T>(rows, names))
      })
      for (const r of rows) yield [index.key(r.value), r.value, r.weight]
      return
    }
    const page = (after: StoredRow | undefined, limit: number) =>
      this.read(table, async (reads) => {
        const rows = await reads.rowsInOrder(table, column, after, limit)
        return { rows, decoded: await decodedRows<T>(names, reads, rows) }
      })
    for await (const r of orderedRows<T>(page)) {
      yield [index.key(r.value), r.value, r.weight]
    }
  }

  private closing: Promise<void> | undefined

  /** Close the connection (a pool or database given by the caller stays open); closing twice is harmless. */
  close(): Promise<void> {
    // Let a running iteration finish first.
    this.closing ??= this.driver.mutex.run(async () => undefined).then(() => this.driver.close())
    return this.closing
  }
}

/** One iteration on a SQL store: readers that wait for the frontier, writes, per-set flushing. */
class SqlIteration {
  private readonly ready = new Map<string, Promise<void>>()
  private readonly marked = new Set<string>()

  constructor(
    private readonly store: SqlStore,
    private readonly tx: SqlTransaction,
    private readonly time: Time,
    private readonly deadline: number,
    private readonly timeout: (table: string, reached: number) => Error,
  ) {}

  /** PostgreSQL: the first read of a table waits until it has been written up to the frontier. */
  private waitFor(table: TableLayout): Promise<void> {
    if (this.time.frontier === -1 || !this.store.waitsPerTable) return Promise.resolve()
    let p = this.ready.get(table.name)
    if (!p) {
      p = waitUntil(this.store.driverForWaits, this.deadline, () => this.store.checkReached(this.tx.session, table.name, this.time.frontier), this.timeout)
      this.ready.set(table.name, p)
    }
    return p
  }

  transaction(): Transaction {
    return {
      reader: <T>(delay: Vertex) => {
        const table = this.store.tableFor(delay)
        return new SqlStateReader<T>(table, this.tx.session, this.store.storesIds, () => this.waitFor(table))
      },
      // A table shared by several delays takes the writes of one: the others write the same rows.
      addDelta: async (delay, delta) => {
        const table = this.store.tableFor(delay)
        if (table.delay !== delay) return
        await this.write(table, delta as ZSet<unknown>)
        await this.afterWrite(table)
      },
      replace: async (delay, value) => {
        const table = this.store.tableFor(delay)
        if (table.delay !== delay) return
        await this.tx.session.clear(table)
        await this.write(table, value as ZSet<unknown>)
        await this.afterWrite(table)
      },
    }
  }

  /** state += z: upserted row by row, or appended to a log as one chunk per key. */
  private async write(table: TableLayout, z: ZSet<unknown>): Promise<void> {
    const session = this.tx.session
    if (table.format === 'log') await session.appendChunks(table, await encodeWrite(table.names, session, () => logWrite(table, z)))
    else await session.upsert(table, await encodeWrite(table.names, session, () => writtenRows(table, z, this.store.storesIds)))
  }

  /** With `flushEverySet`, each delay's write is committed (and its time marked) at once, as stepping does. */
  private async afterWrite(table: TableLayout): Promise<void> {
    if (!this.time.flushEverySet || table.inFixedPoint) return
    const marks = this.time.inputTime === -1 ? [] : [table.name]
    await this.tx.commit(marks, this.time.inputTime === -1 ? undefined : this.time.inputTime, true)
    for (const m of marks) this.marked.add(m)
  }

  async finish(): Promise<void> {
    const marks = this.time.inputTime === -1 ? [] : this.store.tableNames.filter((n) => !this.marked.has(n))
    await this.tx.commit(marks, this.time.inputTime === -1 ? undefined : this.time.inputTime, false)
  }
}

/** Reads of one delay's state inside an iteration: each call is one query. */
class SqlStateReader<T> implements StateReader<T> {
  /** Reads of the table's rows (a log's answered from its chunks). */
  private readonly session: SqlReads
  private readonly names: NameDictionary

  constructor(
    private readonly table: TableLayout,
    writes: SqlWrites,
    private readonly withIds: boolean,
    private readonly ready: () => Promise<void>,
  ) {
    this.session = rowReadsFor(table, writes, writes)
    this.names = table.names
  }

  /** The table's stored rows as a ZSet. */
  private decoded(rows: readonly StoredRow[]): Promise<ZSet<T>> {
    return decodedZSet<T>(this.names, this.session, rows)
  }

  private column(index: Index<T, unknown>): KeyColumn | undefined {
    return this.table.keys.find((k) => k.index.id === index.id)
  }

  async lookupEach(index: Index<T, unknown>, encodedKeys: readonly string[]): Promise<RowsByKey<T>> {
    if (encodedKeys.length === 0) return noRows(0)
    await this.ready()
    const column = this.column(index)
    if (!column) {
      // An index the table does not keep: sort the whole state by key, as the memory store does.
      return splitByKey(await this.decoded(await this.session.allRows(this.table)), index, encodedKeys)
    }
    const at = new Map(encodedKeys.map((k, i) => [k, i]))
    const first = column === this.table.keys[0]
    const rows = await this.session.rowsByKeys(this.table, column, encodedKeys.map(keyToBuffer))
    return decoding(this.names, this.session, () => {
      const lists = encodedKeys.map((): Entry<T>[] => [])
      // Each row comes with the key it matched: no need to encode its key again.
      for (const r of rows) lists[at.get(keyFromBuffer((first ? r.k0 : r.key)!))!]!.push(entryOf<T>(r, this.names))
      return new EntryRows(lists)
    })
  }

  async lookupRows(rows: ZSet<T>): Promise<ZSet<T>> {
    if (rows.isEmpty()) return new ZSet<T>()
    await this.ready()
    const { rows: lookups, complete } = await encodeLookup(this.table, rows as ZSet<unknown>, this.withIds, this.session)
    // Every row encoded as a write would store it: the same change is usually written to this table
    // after the step (distinct's integral).
    if (complete && lookups.length === rows.entryCount) lookedUp.set(rows as ZSet<unknown>, { table: this.table, count: rows.entryCount, rows: lookups })
    return lookups.length === 0 ? new ZSet<T>() : this.decoded(await this.session.rowsByRows(this.table, lookups))
  }

  async *scan(index: Index<T, unknown>): AsyncIterable<ScanRow<T>> {
    await this.ready()
    const column = this.column(index)
    if (!column) {
      yield* ZSetView.of(await this.decoded(await this.session.allRows(this.table))).scan(index)
      return
    }
    const page = async (after: StoredRow | undefined, limit: number) => {
      const rows = await this.session.rowsInOrder(this.table, column, after, limit)
      return { rows, decoded: await decodedRows<T>(this.names, this.session, rows) }
    }
    for await (const r of orderedRows<T>(page)) {
      // The tie is the identity hash in hex: hex order is the bytes' order.
      yield { keyEnc: keyFromBuffer(r.key), tie: r.tie, value: r.value, weight: r.weight }
    }
  }

  async readAll(): Promise<ZSet<T>> {
    await this.ready()
    return this.decoded(await this.session.allRows(this.table))
  }
}
