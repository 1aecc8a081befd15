// SPDX-License-Identifier: MIT
// The UI's build, its dev and preview servers, and its component tests.
// The dev and preview servers pass the API's paths to a running
// `caseagent serve` (CASEAGENT_API, default http://127.0.0.1:8080), so the
// browser talks to one origin and the session cookie (SameSite=Strict,
// Path=/) and the CSRF header work as when serve hosts the built files
// (`caseagent serve --web web/dist`, which the e2e tests use).
import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

const api = process.env.CASEAGENT_API || 'http://127.0.0.1:8080'
const proxy = Object.fromEntries(
  ['/api', '/healthz', '/readyz', '/openapi.json'].map((p) => [p, { target: api, changeOrigin: false }]),
)

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    // Hashed file names under assets/: serve may cache them for a year.
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
  },
  server: { host: '127.0.0.1', proxy },
  preview: { host: '127.0.0.1', proxy },
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.ts'],
  },
})
