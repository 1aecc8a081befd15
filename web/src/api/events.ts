// SPDX-License-Identifier: MIT
// The live event stream, GET /api/v1/events (Server-Sent Events). The
// browser's EventSource reconnects by itself after a dropped connection
// (the server says retry: 3000) and then resumes from Last-Event-ID; when
// the stream is refused or closed for good (readyState CLOSED: a 401, a
// restart that answered an error) this client opens a new one with a
// growing delay, and tells its listeners to reload what they show, since a
// new EventSource cannot resume where the old one stopped.

export const EVENT_TYPES = [
  'case.created',
  'case.updated',
  'note.added',
  'email.received',
  'knowledge.article_drafted',
  'notification.created',
  'harvest.progress',
  'conversation.updated',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/** One outbox event as the stream's data line carries it. */
export interface LiveEvent {
  id: number
  type: EventType
  at?: string
  /** The case's ticket number, or null. */
  case?: string | null
  data: Record<string, unknown>
}

export type LiveListener = (ev: LiveEvent) => void
export type StateListener = (state: StreamState) => void
export type StreamState = 'connecting' | 'open' | 'closed'

interface EventSourceLike {
  readyState: number
  onopen: ((this: EventSourceLike, ev: Event) => unknown) | null
  onerror: ((this: EventSourceLike, ev: Event) => unknown) | null
  addEventListener(type: string, fn: (ev: MessageEvent) => void): void
  close(): void
}

export type EventSourceFactory = (url: string) => EventSourceLike

const CLOSED = 2

export class EventStream {
  private source: EventSourceLike | null = null
  private listeners = new Set<LiveListener>()
  private resyncs = new Set<() => void>()
  private states = new Set<StateListener>()
  private timer: ReturnType<typeof setTimeout> | null = null
  private delay = 1000
  private opened = false
  state: StreamState = 'closed'

  constructor(
    private readonly url = '/api/v1/events',
    private readonly factory: EventSourceFactory = (u) => new EventSource(u, { withCredentials: true }) as unknown as EventSourceLike,
    private readonly maxDelay = 30000,
  ) {}

  /** Listen to every event; returns the function that stops listening. */
  on(fn: LiveListener): () => void {
    this.listeners.add(fn)
    return () => this.listeners.delete(fn)
  }

  /** Called after a new connection that may have missed events. */
  onResync(fn: () => void): () => void {
    this.resyncs.add(fn)
    return () => this.resyncs.delete(fn)
  }

  onState(fn: StateListener): () => void {
    this.states.add(fn)
    fn(this.state)
    return () => this.states.delete(fn)
  }

  start(): void {
    if (this.source || this.timer) return
    this.open()
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.source?.close()
    this.source = null
    this.opened = false
    this.setState('closed')
  }

  private setState(s: StreamState): void {
    this.state = s
    this.states.forEach((fn) => fn(s))
  }

  private open(): void {
    this.timer = null
    this.setState('connecting')
    const src = this.factory(this.url)
    this.source = src
    src.onopen = () => {
      this.delay = 1000
      if (this.opened) this.resyncs.forEach((fn) => fn())
      this.opened = true
      this.setState('open')
    }
    src.onerror = () => {
      if (src.readyState !== CLOSED) {
        this.setState('connecting') // EventSource retries and resumes itself
        return
      }
      src.close()
      if (this.source !== src) return
      this.source = null
      this.setState('closed')
      this.timer = setTimeout(() => this.open(), this.delay)
      this.delay = Math.min(this.delay * 2, this.maxDelay)
    }
    for (const type of EVENT_TYPES) src.addEventListener(type, (m: MessageEvent) => this.dispatch(type, m))
  }

  private dispatch(type: EventType, m: MessageEvent): void {
    let ev: LiveEvent
    try {
      const raw = JSON.parse(String(m.data)) as Partial<LiveEvent>
      ev = {
        id: typeof raw.id === 'number' ? raw.id : Number(m.lastEventId) || 0,
        type,
        at: raw.at,
        case: raw.case ?? null,
        data: raw.data && typeof raw.data === 'object' ? raw.data : {},
      }
    } catch {
      return // a frame that is not JSON says nothing we can use
    }
    this.listeners.forEach((fn) => fn(ev))
  }
}

/** The page's one stream, started after sign-in. */
export const liveEvents = new EventStream()
