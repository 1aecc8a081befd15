// SPDX-License-Identifier: MIT
import { describe, expect, it } from 'vitest'
import { publishBlocked, ratingText, type Article } from './knowledge'

const draft = (over: Partial<Article> = {}): Article => ({
  number: 'KA-00001',
  state: 'draft',
  compliance: 'pending',
  audience: 'internal',
  title: 'Printer jams',
  issue: 'It jams',
  cause: null,
  resolution: 'Clean the roller',
  ...over,
})

describe('publishBlocked', () => {
  it('blocks a pending or non-compliant article with its reason', () => {
    expect(publishBlocked(draft())).toMatch(/pending/)
    expect(publishBlocked(draft({ compliance: 'non_compliant' }))).toMatch(/not compliant/)
  })
  it('allows a compliant draft unless it has unsaved changes', () => {
    expect(publishBlocked(draft({ compliance: 'compliant' }))).toBeNull()
    expect(publishBlocked(draft({ compliance: 'compliant' }), { compliance: 'compliant', unsaved: true })).toMatch(/Save/)
  })
  it('speaks of the compliance chosen in the editor', () => {
    expect(publishBlocked(draft(), { compliance: 'compliant', unsaved: true })).toMatch(/Save/)
    expect(publishBlocked(draft({ compliance: 'compliant' }), { compliance: 'pending', unsaved: true })).toMatch(/pending/)
  })
  it('judges a published article by its pending version', () => {
    const pub = draft({ state: 'published', compliance: 'compliant' })
    expect(publishBlocked(pub)).toMatch(/already published/)
    expect(publishBlocked({ ...pub, pending_version: { compliance: 'pending' } })).toMatch(/pending/)
    expect(publishBlocked({ ...pub, pending_version: { compliance: 'compliant' } })).toBeNull()
  })
  it('never publishes a discarded article', () => {
    expect(publishBlocked(draft({ state: 'discarded', compliance: 'compliant' }))).toMatch(/discarded/)
  })
})

describe('ratingText', () => {
  it('says when there are no ratings and averages the rest', () => {
    expect(ratingText({})).toBe('no ratings')
    expect(ratingText({ rating_sum: 9, rating_count: 2 })).toBe('4.5 of 5 (2 ratings)')
  })
})
