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
