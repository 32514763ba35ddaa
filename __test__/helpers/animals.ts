/** Rows of the reference's join tests (stepping tests/run/test_further.py). */
import * as st from '../../src/index.js'

export type Animal = { kind: string; name: string; soundId: number }
export type Sound = { soundId: number; sound: string }

export const felix: Animal = { kind: 'cat', name: 'felix', soundId: 1 }
export const fido: Animal = { kind: 'dog', name: 'fido', soundId: 2 }
export const woof: Sound = { soundId: 2, sound: 'woof' }
export const miaow: Sound = { soundId: 1, sound: 'miaow' }

export const onAnimal = st.index<Animal>((a) => a.soundId)
export const onSound = st.index<Sound>((s) => s.soundId)
