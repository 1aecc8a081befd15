// SPDX-License-Identifier: MIT
import { afterEach, describe, expect, it } from 'vitest'
import { enableAutoUnmount, flushPromises, mount } from '@vue/test-utils'
import ArticleView from './ArticleView.vue'
import { fakeApi, type Call } from '../../test/fakeApi'
import type { Article } from '../../knowledge'

enableAutoUnmount(afterEach)
const PATH = '/api/v1/knowledge/articles/KA-00007'
const MARKUP = '<img src=x onerror=alert(1)> <a href="javascript:alert(1)">x</a>'

function serve(article: Article) {
  let a = { ...article }
  return fakeApi({
    [`GET ${PATH}`]: () => ({ body: a }),
    [`PATCH ${PATH}`]: (c: Call) => {
      a = { ...a, ...(c.body as Partial<Article>) }
      return { body: a }
    },
  })
}

async function mountView() {
  const w = mount(ArticleView, {
    attachTo: document.body,
    props: { articleRef: 'KA-00007' },
    global: { stubs: { RouterLink: { template: '<a><slot /></a>' } } },
  })
  await flushPromises()
  return w
}

const publishButton = (w: Awaited<ReturnType<typeof mountView>>) => w.findAll('button').find((b) => b.text() === 'Publish')!

describe('ArticleView', () => {
  it('shows article text as text, and Publish disabled with its reason until compliant and saved', async () => {
    const api = serve({ number: 'KA-00007', state: 'draft', compliance: 'pending', audience: 'internal', title: MARKUP, issue: MARKUP, cause: null, resolution: 'Reset it' })
    const w = await mountView()
    expect(w.find('h1').text()).toBe(`KA-00007: ${MARKUP}`)
    expect(w.find('img').exists()).toBe(false)
    expect(w.find('a[href^="javascript"]').exists()).toBe(false)
    expect(publishButton(w).attributes('disabled')).toBeDefined()
    expect(w.find('#publish-reason').text()).toMatch(/compliance review is still pending/)

    await w.findAll('select')[0].setValue('compliant')
    expect(w.find('#publish-reason').text()).toMatch(/Save your changes first/)
    await w.find('form').trigger('submit')
    await flushPromises()
    const patch = api.calls.filter((c) => c.method === 'PATCH')
    expect(patch.map((c) => c.body)).toEqual([{ compliance: 'compliant' }])

    expect(publishButton(w).attributes('disabled')).toBeUndefined()
    expect(w.find('#publish-reason').text()).toBe('Ready to publish.')
    await publishButton(w).trigger('click')
    await flushPromises()
    expect(api.calls.filter((c) => c.method === 'PATCH').map((c) => c.body)[1]).toEqual({ state: 'published' })
    expect(w.find('#publish-reason').text()).toBe('This version is already published.')
  })
})
