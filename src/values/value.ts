/**
 * The value model: rows are plain immutable JS values (see docs/encoding.md).
 * `Pair` is a plain `{ left, right }` object so equality stays structural.
 */

export interface Pair<L, R> {
  readonly left: L
  readonly right: R
}

/** Build a pair; `{ left, right }` written by hand is the same row. */
export function pair<L, R>(left: L, right: R): Pair<L, R> {
  return { left, right }
}

/** The outer join's "no match" on the right. */
export interface Empty {
  readonly kind: 'EMPTY'
}

export const EMPTY: Empty = Object.freeze({ kind: 'EMPTY' as const })

export function isEmpty(v: unknown): v is Empty {
  return v === EMPTY
}
