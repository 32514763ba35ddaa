/** The profile's flame graph (bench/lib/flameGraph.ts), on a profile whose times are worked out by hand. */
import test from 'ava'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { flameGraph } from '../../bench/lib/flameGraph.js'
import type { CpuProfile } from '../../bench/lib/profile.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const url = (file: string) => pathToFileURL(path.join(root, file)).href
const frame = (functionName: string, file = '') => ({ functionName, url: file ? url(file) : '', lineNumber: 0 })

// (root) → run → { write (stores) → <lambda> & co (native) ; tiny } ; (root) → (garbage collector) ; (root) → (idle)
const profile: CpuProfile = {
  nodes: [
    { id: 1, callFrame: frame('(root)'), children: [2, 5, 6] },
    { id: 2, callFrame: frame('run', 'src/runtime/evaluate.ts'), children: [3, 7] },
    { id: 3, callFrame: frame('write', 'src/stores/sql.ts'), children: [4] },
    { id: 4, callFrame: frame('<lambda> & co', 'src/native/state.ts') },
    { id: 5, callFrame: frame('(garbage collector)') },
    { id: 6, callFrame: frame('(idle)') },
    { id: 7, callFrame: frame('tiny', 'src/operators/join.ts') },
  ],
  // Each sample stands for the 10 ms until the next: run 10, write 20, <lambda> 40, GC 30, idle 50, tiny 0.01.
  samples: [2, 3, 3, 4, 4, 4, 4, 5, 5, 5, 6, 6, 6, 6, 6, 7],
  timeDeltas: [0, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10_000, 10],
}

test('flame graph: each box is as wide as its time and what it called, idle left out, callees above callers', (t) => {
  const { boxes, svg } = flameGraph(profile, { title: 'a <test> run', width: 1000 })
  const box = (name: string) => boxes.find((b) => b.node.callFrame.functionName === name)
  // Busy time: 10 + 20 + 40 + 30 + 0.01 ms = 100.01 ms, idle's 50 left out.
  t.is(box('run')!.micros, 70_010)
  t.is(box('write')!.micros, 60_000)
  t.is(box('<lambda> & co')!.micros, 40_000)
  t.is(box('(garbage collector)')!.micros, 30_000)
  t.is(box('(idle)'), undefined)
  // 0.01 ms of 100.01 on 1,000 pixels is 0.1 px: too narrow to draw.
  t.is(box('tiny'), undefined)
  t.deepEqual(
    boxes.map((b) => [b.node.callFrame.functionName, b.depth]),
    [
      ['(garbage collector)', 0],
      ['run', 0],
      ['write', 1],
      ['<lambda> & co', 2],
    ],
  )
  // Siblings follow one another in name order: under run, tiny (not drawn, but it keeps its 0.01 ms) then write.
  t.is(box('write')!.start, box('run')!.start + 10)
  t.is(box('<lambda> & co')!.start, box('write')!.start)
  t.is(box('run')!.start, box('(garbage collector)')!.micros)
  // In pixels: run starts after the collector, at 30 / 100.01 × 1,000 = 299.97, and is 70.01 / 100.01 × 1,000 = 700.03 wide (less a 0.5 px gap).
  t.regex(svg, /<title>run {2}src\/runtime\/evaluate\.ts: 70\.0 ms, 70\.0%<\/title><rect x="299\.97" y="\d+" width="699\.53"/)
  // Names are escaped, and coloured by where the code lives (native binding red, stores amber, GC grey).
  t.false(svg.includes('<lambda>'))
  t.regex(svg, /<title>&lt;lambda&gt; &amp; co {2}src\/native\/state\.ts: 40\.0 ms, 40\.0%<\/title><rect [^>]*fill="#d9534f"/)
  t.regex(svg, /<title>write {2}src\/stores\/sql\.ts[^<]*<\/title><rect [^>]*fill="#e8a33d"/)
  t.regex(svg, /<title>\(garbage collector\)[^<]*<\/title><rect [^>]*fill="#999999"/)
  t.true(svg.includes('a &lt;test&gt; run'))
  t.true(svg.includes('100 ms sampled (idle left out)'))
})

test('flame graph: a label is cut to its box, and left out of a box too narrow for it', (t) => {
  const { svg } = flameGraph(profile, { title: 't', width: 200 })
  // write is 60% of 200 px = 120 px: "write sql.ts" fits whole. The collector's 60 px hold (60 − 6) / 6.2 = 8
  // characters: 7 and an ellipsis. The legend, wider than the graph, starts at its left edge.
  t.regex(svg, />write sql\.ts<\/text>/)
  t.regex(svg, />\(garbag…<\/text>/)
  t.regex(svg, /<rect x="4\.0" y="\d+" width="10" height="10" fill="#e8a33d"\/><text x="18\.0"[^>]*>stores</)
})
