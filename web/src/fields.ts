// SPDX-License-Identifier: MIT
// The configured case fields (labels, types, options), read once from
// GET /api/v1/settings and shared by every case form.
import { ref } from 'vue'
import { api } from './api/client'
import type { FieldDef, Settings } from './api/types'

const defs = ref<FieldDef[] | null>(null)
let pending: Promise<FieldDef[]> | null = null

export function useFields() {
  return defs
}

export async function loadFields(force = false): Promise<FieldDef[]> {
  if (defs.value && !force) return defs.value
  if (!pending || force) {
    pending = api
      .get<Settings>('/api/v1/settings')
      .then((r) => {
        defs.value = Array.isArray(r.data.fields) ? r.data.fields : []
        return defs.value
      })
      .finally(() => {
        pending = null
      })
  }
  return pending
}

/** Forget the cache (after signing out, or a settings change). */
export function resetFields(): void {
  defs.value = null
}
