// SPDX-License-Identifier: MIT
// Words for what the API says in codes. Everything here returns plain text:
// the templates print it with {{ }}, never as markup.
import type { Evidence, FieldDef, Message, Source } from './api/types'

export function sourceText(source: Source | string | undefined, actor?: string | null): string {
  switch (source) {
    case 'agent':
      return 'Set by AI'
    case 'person':
      return actor ? `Set by a person (${actor})` : 'Set by a person'
    case 'arc':
      return 'Set by an ARC rule'
    case 'import':
      return 'Imported'
    case 'system':
      return 'Set by the system'
    case undefined:
    case '':
      return 'Not set'
    default:
      return `Set by ${source}`
  }
}

export function confidenceText(c: number | null | undefined): string {
  return typeof c === 'number' ? `${Math.round(c * 100)} %` : ''
}

/** A field's value as a person reads it: the option's label, else itself. */
export function valueText(def: FieldDef | undefined, value: string | null | undefined, display?: string): string {
  if (value === null || value === undefined || value === '') return '—'
  const opt = def?.options?.find((o) => o.value === value)
  if (opt) return opt.label
  if (display && display !== value) return `${display} (${value})`
  return value
}

const enc = new TextEncoder()
const dec = new TextDecoder()

/** The words evidence points at: byte offsets into the message's UTF-8 text. */
export function evidenceWords(ev: Evidence, messages: Message[] | undefined): string | null {
  const m = messages?.find((x) => x.id === ev.message)
  if (!m) return null
  const bytes = enc.encode(m.text)
  const begin = Math.max(0, Math.min(ev.begin, bytes.length))
  const end = Math.max(begin, Math.min(ev.end, bytes.length))
  return dec.decode(bytes.subarray(begin, end))
}

// One formatter for every date shown: toLocaleString builds a new one per
// call, which costs milliseconds each in a list of 50 cases.
let stamp: Intl.DateTimeFormat | null = null

export function when(iso: string | null | undefined): string {
  if (!iso) return ''
  const d = new Date(iso)
  if (Number.isNaN(d.getTime())) return iso
  stamp ??= new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
  return stamp.format(d)
}

export function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}
