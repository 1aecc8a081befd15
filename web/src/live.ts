// SPDX-License-Identifier: MIT
// A view's subscription to the live stream: calls `reload` (at most once per
// `waitMs`) when an event it cares about arrives or after a reconnect that
// may have missed some, and stops when the component unmounts.
import { onBeforeUnmount } from 'vue'
import { liveEvents, type LiveEvent } from './api/events'

export function useLive(care: (ev: LiveEvent) => boolean, reload: (ev: LiveEvent | null) => void, waitMs = 250): void {
  let timer: ReturnType<typeof setTimeout> | null = null
  let last: LiveEvent | null = null
  const fire = (ev: LiveEvent | null) => {
    last = ev
    if (timer) return
    timer = setTimeout(() => {
      timer = null
      reload(last)
    }, waitMs)
  }
  const offEv = liveEvents.on((ev) => {
    if (care(ev)) fire(ev)
  })
  const offSync = liveEvents.onResync(() => fire(null))
  onBeforeUnmount(() => {
    offEv()
    offSync()
    if (timer) clearTimeout(timer)
  })
}

/**
 * For what the stream has no event type for yet (a conversation's new
 * messages, a new chat): `refresh` every `everyMs` while the page is
 * visible, once at once when it becomes visible again, never while it is
 * hidden (a background tab costs the server nothing); stops on unmount.
 * Must be called during a component's setup.
 */
export function usePoll(refresh: () => void, everyMs: number): void {
  let timer: ReturnType<typeof setInterval> | null = null
  const start = () => {
    if (!timer) timer = setInterval(refresh, everyMs)
  }
  const stop = () => {
    if (timer) clearInterval(timer)
    timer = null
  }
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') return stop()
    refresh()
    start()
  }
  if (document.visibilityState !== 'hidden') start()
  document.addEventListener('visibilitychange', onVisibility)
  onBeforeUnmount(() => {
    stop()
    document.removeEventListener('visibilitychange', onVisibility)
  })
}
