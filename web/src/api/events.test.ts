// SPDX-License-Identifier: MIT
// The event stream client: events dispatched by type with their data; a
// stream closed for good is opened again with a growing delay, and its
// listeners are told to reload (a new EventSource cannot resume).
import { afterEach, describe, expect, it, vi } from 'vitest'
import { EventStream, type LiveEvent } from './events'

class FakeSource {
  static made: FakeSource[] = []
  readyState = 0
  onopen: ((ev: Event) => unknown) | null = null
  onerror: ((ev: Event) => unknown) | null = null
  listeners: Record<string, ((m: MessageEvent) => void)[]> = {}
  closed = false
  constructor(readonly url: string) {
    FakeSource.made.push(this)
  }
  addEventListener(type: string, fn: (m: MessageEvent) => void) {
    ;(this.listeners[type] ||= []).push(fn)
  }
  close() {
    this.closed = true
    this.readyState = 2
  }
  open() {
    this.readyState = 1
    this.onopen?.(new Event('open'))
  }
  emit(type: string, data: unknown, id = '') {
    for (const fn of this.listeners[type] || []) fn(new MessageEvent(type, { data: JSON.stringify(data), lastEventId: id }))
  }
  fail(closed: boolean) {
    this.readyState = closed ? 2 : 0
    this.onerror?.(new Event('error'))
  }
}

afterEach(() => {
  vi.useRealTimers()
  FakeSource.made = []
})

describe('EventStream', () => {
  it('dispatches events with their data, ignoring frames that are not JSON', () => {
    const s = new EventStream('/api/v1/events', (u) => new FakeSource(u))
    const got: LiveEvent[] = []
    s.on((e) => got.push(e))
    s.start()
    const src = FakeSource.made[0]
    src.open()
    expect(s.state).toBe('open')
    src.emit('case.created', { id: 12, type: 'case.created', case: 'CAS-00001', data: { case: 'CAS-00001', fields: ['customer'] } }, '12')
    src.emit('case.updated', 'a JSON string, not an event object') // data defaults to {}
    for (const fn of src.listeners['note.added']) fn(new MessageEvent('note.added', { data: '{broken' }))
    expect(got).toHaveLength(2)
    expect(got[0]).toMatchObject({ id: 12, type: 'case.created', case: 'CAS-00001', data: { fields: ['customer'] } })
    expect(got[1].data).toEqual({})
    s.stop()
    expect(src.closed).toBe(true)
  })

  it('leaves a dropped connection to EventSource, and reopens a closed one with backoff and a resync', () => {
    vi.useFakeTimers()
    const s = new EventStream('/api/v1/events', (u) => new FakeSource(u), 4000)
    const resync = vi.fn()
    s.onResync(resync)
    s.start()
    FakeSource.made[0].open()
    FakeSource.made[0].fail(false) // EventSource retries itself
    expect(s.state).toBe('connecting')
    expect(FakeSource.made).toHaveLength(1)

    FakeSource.made[0].fail(true) // closed for good: this client retries
    expect(s.state).toBe('closed')
    vi.advanceTimersByTime(999)
    expect(FakeSource.made).toHaveLength(1)
    vi.advanceTimersByTime(1)
    expect(FakeSource.made).toHaveLength(2)
    FakeSource.made[1].fail(true)
    vi.advanceTimersByTime(1999)
    expect(FakeSource.made).toHaveLength(2)
    vi.advanceTimersByTime(1)
    expect(FakeSource.made).toHaveLength(3)
    expect(resync).not.toHaveBeenCalled()
    FakeSource.made[2].open()
    expect(resync).toHaveBeenCalledTimes(1)
    expect(s.state).toBe('open')
    s.stop()
    vi.advanceTimersByTime(60000)
    expect(FakeSource.made).toHaveLength(3)
  })
})
