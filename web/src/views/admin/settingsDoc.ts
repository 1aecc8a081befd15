// SPDX-License-Identifier: MIT
// What the settings pages of the admin centre share: the whole settings
// document read with GET /api/v1/settings, edited in place by one page's
// controls and saved whole with PUT; the API's validation error (its
// problem+json names the key, e.g. "arc_rules[0].resolved_window_hours")
// is resolved to the deepest control of the page that edits that key, and
// provided to the controls (SettingInput, SettingCheck, ErrorAt) below.
import { computed, inject, provide, ref, type ComputedRef, type InjectionKey, type Ref } from 'vue'
import { api, ApiError, messageOf } from '../../api/client'
import type { Settings } from '../../api/types'
import { resetFields } from '../../fields'
import { controlFor } from './conditions'

export interface SettingsError {
  /** The control the error names (null: shown at the top only). */
  errorPath: ComputedRef<string | null>
  errorText: ComputedRef<string>
}

const KEY: InjectionKey<SettingsError> = Symbol('settings-error')

export interface Problem {
  field?: string
  message: string
}

/**
 * One settings page's document. `normalize` fills the defaults the page's
 * controls show (after each load); `paths` lists the keys the page has a
 * control for; `prepare` turns the edited document into what is sent
 * (a copy: the form keeps its own shape).
 */
export function useSettingsDoc<T extends Settings>(opts: {
  normalize: (d: T) => void
  paths: (d: T) => string[]
  prepare?: (d: T) => T
}) {
  const doc = ref(null) as Ref<T | null>
  const loadError = ref('')
  const saving = ref(false)
  const saved = ref(false)
  const problem = ref<Problem | null>(null)
  const errorPath = computed(() => (problem.value && doc.value ? controlFor(problem.value.field, opts.paths(doc.value)) : null))
  const errorText = computed(() => problem.value?.message ?? '')
  provide(KEY, { errorPath, errorText })

  async function load() {
    loadError.value = ''
    try {
      const r = await api.get<T>('/api/v1/settings')
      opts.normalize(r.data)
      doc.value = r.data
    } catch (e) {
      loadError.value = messageOf(e)
    }
  }

  async function save() {
    if (!doc.value) return
    saving.value = true
    saved.value = false
    problem.value = null
    try {
      const body = opts.prepare ? opts.prepare(JSON.parse(JSON.stringify(doc.value)) as T) : doc.value
      await api.put<T>('/api/v1/settings', body)
      saved.value = true
      resetFields()
    } catch (e) {
      problem.value = { field: e instanceof ApiError ? e.field : undefined, message: messageOf(e) }
    } finally {
      saving.value = false
    }
  }

  /** After removing an entry: the error's path counted the entries as they were. */
  function forget() {
    problem.value = null
  }

  return { doc, loadError, saving, saved, problem, errorPath, errorText, load, save, forget }
}

/** The page's error, for a control inside it. */
export function useSettingsError(): SettingsError {
  const e = inject(KEY, null)
  if (e) return e
  return { errorPath: computed(() => null), errorText: computed(() => '') }
}

/** Move entry i of a list one place up (-1) or down (+1). */
export function move<T>(list: T[], i: number, by: -1 | 1): void {
  const j = i + by
  if (j < 0 || j >= list.length) return
  const [e] = list.splice(i, 1)
  list.splice(j, 0, e)
}
