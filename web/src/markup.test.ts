// SPDX-License-Identifier: MIT
// Customer text reaches the page only as text: no component renders HTML
// from data (v-html, innerHTML, outerHTML, insertAdjacentHTML), so a chat
// message or e-mail subject holding markup cannot become markup.
import { describe, expect, it } from 'vitest'

const sources = import.meta.glob(['./**/*.vue', './**/*.ts', '!./**/*.test.ts'], { query: '?raw', import: 'default', eager: true }) as Record<
  string,
  string
>

describe('no markup from data', () => {
  it('reads the UI sources', () => {
    expect(Object.keys(sources)).toContain('./components/CaseForm.vue')
    expect(Object.keys(sources).length).toBeGreaterThan(10)
  })

  for (const [file, text] of Object.entries(sources)) {
    it(`${file} renders no HTML from data`, () => {
      expect(text).not.toMatch(/v-html|innerHTML|outerHTML|insertAdjacentHTML|document\.write/)
    })
  }
})
