// SPDX-License-Identifier: MIT
// The condition JSON of update rules (docs/settings.md "Condition JSON"):
// groups {"match": "all"|"any", "conditions": [...]} nesting conditions
// {"field", "operator", "value"}; and the controls' paths, so that an API
// error naming a key ("update_rules[0].condition.conditions[1].value") is
// shown at the control that edits it.

export interface Condition {
  field: string
  operator: string
  value?: unknown
}

export interface Group {
  match?: 'all' | 'any'
  conditions: Entry[]
}

export type Entry = Condition | Group

export interface UpdateRule {
  name: string
  condition: Group
  predict: string[]
}

/** The operators and their visible names, in the order of the docs. */
export const OPERATORS: [op: string, label: string][] = [
  ['equals', 'equals'],
  ['not_equals', 'does not equal'],
  ['contains', 'contains'],
  ['does_not_contain', 'does not contain'],
  ['begins_with', 'begins with'],
  ['ends_with', 'ends with'],
  ['in', 'is one of'],
  ['not_in', 'is none of'],
  ['is_empty', 'is empty'],
  ['is_not_empty', 'is not empty'],
  ['greater_than', 'is greater than'],
  ['less_than', 'is less than'],
]

/** Operators that take no value. */
export const NO_VALUE = new Set(['is_empty', 'is_not_empty'])
/** Operators whose value is a list. */
export const LIST_VALUE = new Set(['in', 'not_in'])

export function isGroup(e: Entry): e is Group {
  return Array.isArray((e as Group).conditions)
}

export function newCondition(field = ''): Condition {
  return { field, operator: 'equals', value: '' }
}

export function newGroup(field = ''): Group {
  return { match: 'all', conditions: [newCondition(field)] }
}

export function newRule(field = ''): UpdateRule {
  return { name: '', condition: newGroup(field), predict: [] }
}

/** A condition's value set to fit its operator: none for the emptiness
 * tests, a list for in/not_in (kept from a list, split from text), one
 * value otherwise (the first of a list). */
export function fitValue(c: Condition): void {
  if (NO_VALUE.has(c.operator)) {
    delete c.value
  } else if (LIST_VALUE.has(c.operator)) {
    if (!Array.isArray(c.value)) c.value = c.value === undefined || c.value === '' ? [] : [c.value]
  } else if (Array.isArray(c.value)) {
    c.value = c.value.length ? c.value[0] : ''
  } else if (c.value === undefined) {
    c.value = ''
  }
}

/** "a, b , c" → ["a", "b", "c"] (empty items dropped). */
export function splitList(text: string): string[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

/** The paths of every control of a group, itself first. */
export function groupPaths(g: Group, path: string, out: string[] = []): string[] {
  out.push(path, `${path}.match`, `${path}.conditions`)
  g.conditions.forEach((e, i) => {
    const p = `${path}.conditions[${i}]`
    if (isGroup(e)) groupPaths(e, p, out)
    else out.push(p, `${p}.field`, `${p}.operator`, `${p}.value`)
  })
  return out
}

/** The paths of the Case Management Agent page's controls. */
export function settingsPaths(s: { update_rules?: UpdateRule[] }): string[] {
  const out = ['channels', 'channels.chat', 'channels.email', 'summary_note_on_close', 'record_agent_experience', 'default_fields', 'update_rules']
  ;(s.update_rules || []).forEach((r, i) => {
    const p = `update_rules[${i}]`
    out.push(p, `${p}.name`, `${p}.predict`)
    if (r.condition && Array.isArray(r.condition.conditions)) groupPaths(r.condition, `${p}.condition`, out)
    else out.push(`${p}.condition`)
  })
  return out
}

/** Whether `field` is `path` or a key inside it ("a[0]" holds "a[0].b"
 * and "a[0][1]", not "a[01]"). */
export function within(field: string, path: string): boolean {
  if (field === path) return true
  if (!field.startsWith(path)) return false
  const next = field[path.length]
  return next === '.' || next === '['
}

/** The control an error names: the deepest known path holding `field`, or
 * null when the page has no control for it. */
export function controlFor(field: string | undefined, paths: string[]): string | null {
  if (!field) return null
  let best: string | null = null
  for (const p of paths) if (within(field, p) && (!best || p.length > best.length)) best = p
  return best
}

/** An id for a path, safe in HTML ids and aria attributes. */
export function idOf(path: string): string {
  return 'ctl-' + path.replace(/[^A-Za-z0-9_-]+/g, '-')
}

/** What marks the control of `path` when the error names it: its
 * aria-describedby (the message's id) and aria-invalid. */
export function marks(errorPath: string | null, path: string): Record<string, string | boolean | undefined> {
  const at = errorPath === path
  return { 'aria-describedby': at ? `${idOf(path)}-err` : undefined, 'aria-invalid': at || undefined }
}
