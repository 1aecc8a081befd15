// SPDX-License-Identifier: MIT
// Who is signed in, and what they may see. Rights come from the server
// (GET /api/v1/session): "work" for the workspace, "configure" for the
// admin centre, "reports" for insights; the UI only hides what the API
// would refuse anyway.
import { reactive, readonly } from 'vue'
import { api, ApiError, onUnauthorised, setCsrf } from './api/client'
import type { LoginResult, Whoami } from './api/types'
import { liveEvents } from './api/events'

interface SessionState {
  checked: boolean
  who: Whoami | null
}

const state = reactive<SessionState>({ checked: false, who: null })

export const session = readonly(state)

export function can(right: string): boolean {
  return !!state.who?.rights.includes(right)
}

/** Whether the agent works this user's conversations on its own (the
 * profile's "autonomous case creation and update from conversations");
 * unknown counts as yes, the out-of-the-box profile. */
export function autonomousCase(): boolean {
  return state.who?.features?.autonomous_case !== false
}

function signedIn(who: Whoami): void {
  state.who = who
  state.checked = true
  liveEvents.start()
}

function signedOut(): void {
  state.who = null
  state.checked = true
  setCsrf(null)
  liveEvents.stop()
}

/** Ask the server who we are (once per page, or again with force). */
export async function loadSession(force = false): Promise<Whoami | null> {
  if (state.checked && !force) return state.who
  try {
    const r = await api.get<Whoami>('/api/v1/session')
    // The CSRF token comes with who we are, so a reloaded page keeps working.
    setCsrf(r.data.csrf ?? null)
    signedIn(r.data)
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signedOut()
    else throw e
  }
  return state.who
}

export async function signIn(user: string, password: string): Promise<Whoami | null> {
  const r = await api.post<LoginResult>('/api/v1/session', { user, password })
  setCsrf(r.data.csrf)
  state.checked = false
  return loadSession(true)
}

export async function signOut(): Promise<void> {
  try {
    await api.del('/api/v1/session')
  } finally {
    signedOut()
  }
}

onUnauthorised(() => {
  if (state.who) signedOut()
})
