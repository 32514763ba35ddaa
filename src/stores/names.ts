/**
 * The field-name dictionary of a SQL store: object keys (`"identifier":`) in
 * stored row texts are replaced by a mark and a one-character id. Rows of one
 * query repeat the same few field names in every row (a third of the type
 * checker's stored text was names), so each is kept once, in the store's
 * `<prefix>_names` table, whose ids every stored text refers to.
 *
 * A row's stored form must not depend on when it was written: a lookup encodes
 * a row to find it by primary key. So the dictionary only grows, a name is in
 * it (committed with the rows that use it) before any row holding it is
 * written, and once it is full it stays full:
 * - a name the dictionary lacks is in no stored row while the dictionary can
 *   still take names (a lookup of it checks the table for names added since, see
 *   sql.ts), and in every stored row literally once it is full;
 * - names added by a transaction that rolls back are forgotten again (their ids may
 *   go to other names);
 * - a stored text naming an id this process has not seen means another writer
 *   added it: the reader reloads the table and decodes again.
 * This module is the in-memory half; sql.ts and the drivers keep it in step with the table.
 */

/** At most this many names, so that every id is one character below the UTF-16 surrogates. */
export const MAX_NAMES = 4096
/** Names longer than this stay literal: a key that long is likely data, not a field. */
const MAX_NAME_LENGTH = 64
/** One-character names stay literal: `"x":` is already `"x` and one mark, and its id would be two. */
const MIN_NAME_LENGTH = 2
/** Id characters start after the control characters, so that they never read as marks. */
const FIRST_ID_CHAR = 0x20
/** Names sharing a first character compared in place (no slice, no hash) while they are this few. */
const SCANNED_PER_FIRST_CHAR = 8

/** A stored text refers to a name id this process does not know (yet). */
export class UnknownNameError extends Error {
  constructor(readonly id: number) {
    super(`a stored row refers to field name #${id}, which is not in the names table`)
  }
}

export class NameDictionary {
  private readonly ids = new Map<string, string>()
  private readonly names: string[] = []
  /**
   * By a name's first character (ASCII only): `"name":` and its id character, to compare in
   * place; undefined past SCANNED_PER_FIRST_CHAR names (then `idChar` finds them).
   */
  private readonly quotedByFirst: ([string, string][] | undefined)[] = Array.from({ length: 128 }, () => [])
  /** A name's three spelled-out forms, `,"name":`, `{"name":` and `"name":`, by id. */
  private readonly forms: [string, string, string][] = []
  /** Names from this index on were added by the open transaction. */
  private committedSize = 0
  /** Names met while encoding that the dictionary lacks, and could still take. */
  readonly unknown = new Set<string>()
  /** Counts names added and forgotten: a copy of the dictionary (the native compactor's) knows when it is stale. */
  private changes = 0

  get version(): number {
    return this.changes
  }

  /** Every name, in id order. */
  get inIdOrder(): readonly string[] {
    return this.names
  }

  constructor(readonly capacity = MAX_NAMES) {}

  get size(): number {
    return this.names.length
  }

  get full(): boolean {
    return this.names.length >= this.capacity
  }

  has(name: string): boolean {
    return this.ids.has(name)
  }

  /** The id character of a name, or undefined (noting it in `unknown` if it could be added). */
  idChar(name: string): string | undefined {
    const id = this.ids.get(name)
    if (id === undefined && !this.full && name.length >= MIN_NAME_LENGTH && name.length <= MAX_NAME_LENGTH) this.unknown.add(name)
    return id
  }

  /**
   * `"name":` forms and id characters of the names starting with this character, or undefined
   * when they are too many to compare in place: then every name must go through `idChar`.
   */
  quotedStartingWith(code: number): readonly [string, string][] | undefined {
    return code < 128 ? this.quotedByFirst[code] : undefined
  }

  /** The text a name mark (`which`: 0 after a comma, 1 after a brace, 2 alone) and an id character's code stand for. */
  spelled(which: 0 | 1 | 2, code: number): string {
    const forms = this.forms[code - FIRST_ID_CHAR]
    if (forms === undefined) throw new UnknownNameError(code - FIRST_ID_CHAR)
    return forms[which]
  }

  /**
   * Names with ids from `from` (at most `size`) on, as read from the table (committed by other
   * writers); those this dictionary got meanwhile (another read's) are checked, not added again.
   * How many were new.
   */
  extend(from: number, names: readonly string[]): number {
    const known = this.names.length - from
    if (known < 0) throw new Error(`internal: names read from #${from}, and the dictionary ends at #${this.names.length}`)
    for (let i = 0; i < Math.min(known, names.length); i++) {
      if (this.names[from + i] !== names[i]) throw new Error(`internal: field name #${from + i} is ${JSON.stringify(names[i])} in the table, ${JSON.stringify(this.names[from + i])} here`)
    }
    if (names.length <= known) return 0
    // While this transaction holds names of its own it holds the table's lock: nobody else adds any.
    if (this.committedSize !== this.names.length) throw new Error('internal: names read from the table after this transaction added its own')
    for (let i = known; i < names.length; i++) this.push(names[i]!)
    this.committedSize = this.names.length
    return names.length - known
  }

  /** Names the open transaction has inserted into the table, with ids from `size` on. */
  addUncommitted(names: readonly string[]): void {
    for (const name of names) this.push(name)
  }

  /** The open transaction committed: its names stay. */
  commit(): void {
    this.committedSize = this.names.length
  }

  /** The open transaction rolled back: its names were never stored. */
  rollback(): void {
    if (this.names.length > this.committedSize) this.changes++
    this.forms.splice(this.committedSize)
    for (const name of this.names.splice(this.committedSize)) {
      this.ids.delete(name)
      // A list holds every name of its first character (the fast path trusts it): take this one out.
      const first = name.charCodeAt(0)
      if (first < 128) this.quotedByFirst[first] = this.quotedByFirst[first]?.filter(([form]) => form !== `"${name}":`)
    }
  }

  private push(name: string): void {
    if (this.ids.has(name)) throw new Error(`internal: field name ${JSON.stringify(name)} is in the names table twice`)
    const id = String.fromCharCode(FIRST_ID_CHAR + this.names.length)
    this.changes++
    this.ids.set(name, id)
    this.names.push(name)
    const quoted = `"${name}":`
    this.forms.push([`,${quoted}`, `{${quoted}`, quoted])
    this.unknown.delete(name)
    const first = name.charCodeAt(0)
    // Only a name that can end a `"name":` (no quote in it, no backslash at its end: sql.ts's
    // nameAt) is compared in place; another never matches there either, nor anywhere else.
    if (first < 128 && !name.includes('"') && !name.endsWith('\\')) {
      const list = this.quotedByFirst[first]
      if (list !== undefined && list.length < SCANNED_PER_FIRST_CHAR) list.push([quoted, id])
      else this.quotedByFirst[first] = undefined
    }
  }
}
