// SPDX-License-Identifier: MIT
// One button's work: `busy` while it runs (to disable the button), and the
// error it ended with in words (shown beside the form), so each form does
// not repeat the same try / catch / finally.
import { ref } from 'vue'
import { messageOf } from './api/client'

export function useAction() {
  const busy = ref(false)
  const error = ref('')
  async function run<T>(fn: () => Promise<T>): Promise<T | undefined> {
    error.value = ''
    busy.value = true
    try {
      return await fn()
    } catch (e) {
      error.value = messageOf(e)
      return undefined
    } finally {
      busy.value = false
    }
  }
  return { busy, error, run }
}
