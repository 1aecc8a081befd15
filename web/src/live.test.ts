// SPDX-License-Identifier: MIT
// usePoll: what the stream has no event for is read again on a timer while
// the page is visible, at once when it shows again, never while hidden,
// and not after the component unmounts.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { mount } from '@vue/test-utils'
import { usePoll } from './live'

let visibility: DocumentVisibilityState = 'visible'
Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => visibility })

function setVisibility(v: DocumentVisibilityState) {
  visibility = v
  document.dispatchEvent(new Event('visibilitychange'))
}

afterEach(() => {
  vi.useRealTimers()
  visibility = 'visible'
})

describe('usePoll', () => {
  it('refreshes while visible, pauses while hidden, refreshes on showing again, stops on unmount', () => {
    vi.useFakeTimers()
    const refresh = vi.fn()
    const w = mount(defineComponent({ setup: () => (usePoll(refresh, 5000), () => h('p')) }))
    vi.advanceTimersByTime(10000)
    expect(refresh).toHaveBeenCalledTimes(2)
    setVisibility('hidden')
    vi.advanceTimersByTime(60000)
    expect(refresh).toHaveBeenCalledTimes(2)
    setVisibility('visible')
    expect(refresh).toHaveBeenCalledTimes(3) // at once
    vi.advanceTimersByTime(5000)
    expect(refresh).toHaveBeenCalledTimes(4)
    w.unmount()
    vi.advanceTimersByTime(60000)
    setVisibility('hidden')
    setVisibility('visible')
    expect(refresh).toHaveBeenCalledTimes(4)
  })
})
