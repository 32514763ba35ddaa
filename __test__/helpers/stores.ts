/**
 * Every behaviour test runs against every store. `storeTest` registers one ava
 * test per store kind; the body gets a `open(graph)` that makes a fresh store
 * of that kind for the graph.
 */
import test, { type ExecutionContext } from 'ava'
import type { Graph } from '../../src/graph/compile.js'
import type { Store } from '../../src/stores/store.js'
import { memoryStore } from '../../src/stores/memory.js'

export type OpenStore = (graph: Graph<any, any>) => Promise<Store>

export interface StoreKind {
  readonly name: 'memory' | 'sqlite' | 'postgres'
  /** A fresh, empty store for `graph` (tables created). */
  open: OpenStore
}

export const storeKinds: StoreKind[] = [{ name: 'memory', open: async (g) => memoryStore(g) }]

export function storeTest(title: string, body: (t: ExecutionContext, open: OpenStore) => Promise<void>): void {
  for (const kind of storeKinds) {
    test(`${title} [${kind.name}]`, async (t) => {
      const opened: Store[] = []
      try {
        await body(t, async (g) => {
          const s = await kind.open(g)
          opened.push(s)
          return s
        })
      } finally {
        for (const s of opened) await s.close()
      }
    })
  }
}
