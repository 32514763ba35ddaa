/** sorted-btree is CommonJS with `exports.default`; from ESM the class is `.default` of the module. */
import sortedBtree from 'sorted-btree'

export const BTree = sortedBtree.default
export type BTree<K, V> = import('sorted-btree').default<K, V>
