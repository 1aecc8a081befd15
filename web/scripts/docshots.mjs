// SPDX-License-Identifier: MIT
// The screenshots the documentation shows, made small: the main pages the
// end-to-end tests saved under out/screenshots/ (tests/web/e2e.sh), cut to
// at most MAX_HEIGHT pixels and scaled to WIDTH by Debian's chromium (a
// canvas, so no image tool is needed), reduced to a palette of at most 256
// colours (the UI has few: 5 bits a channel, the most used kept, every
// other colour mapped to its nearest) and written as indexed-colour PNG
// (RFC 2083, zlib at level 9) to docs/screenshots/.
// Usage (from web/): node scripts/docshots.mjs [FROM_DIR [TO_DIR]]
import { chromium } from 'playwright-core'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { deflateSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const FROM = path.resolve(process.argv[2] ?? path.join(ROOT, 'out/screenshots'))
const TO = path.resolve(process.argv[3] ?? path.join(ROOT, 'docs/screenshots'))
const WIDTH = 800
const MAX_HEIGHT = 1400

/** [saved by the tests, name in docs/screenshots/] */
const SHOTS = [
  ['workspace', 'workspace'],
  ['update-from-conversation', 'case-form'],
  ['article-draft', 'knowledge-review'],
  ['admin-agent', 'admin-case-management-agent'],
  ['insights', 'insights'],
]

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
  return c >>> 0
})
function crc32(buf) {
  let c = 0xffffffff
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)
  return (c ^ 0xffffffff) >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(td))
  return Buffer.concat([len, td, crc])
}

/** RGBA pixels → an indexed-colour PNG of at most 256 colours. */
function palettePng(rgba, width, height) {
  const n = width * height
  const key = new Uint16Array(n)
  const count = new Uint32Array(32768)
  const sum = new Float64Array(32768 * 3)
  for (let i = 0; i < n; i++) {
    const r = rgba[4 * i], g = rgba[4 * i + 1], b = rgba[4 * i + 2]
    const k = ((r >> 3) << 10) | ((g >> 3) << 5) | (b >> 3)
    key[i] = k
    count[k]++
    sum[3 * k] += r
    sum[3 * k + 1] += g
    sum[3 * k + 2] += b
  }
  const used = [...count.keys()].filter((k) => count[k]).sort((a, b) => count[b] - count[a])
  const kept = used.slice(0, 256)
  const pal = kept.map((k) => [0, 1, 2].map((c) => Math.round(sum[3 * k + c] / count[k])))
  const index = new Int16Array(32768).fill(-1)
  kept.forEach((k, i) => (index[k] = i))
  for (const k of used.slice(256)) {
    const r = sum[3 * k] / count[k], g = sum[3 * k + 1] / count[k], b = sum[3 * k + 2] / count[k]
    let best = 0
    let bestD = Infinity
    pal.forEach(([pr, pg, pb], i) => {
      const d = (pr - r) ** 2 + (pg - g) ** 2 + (pb - b) ** 2
      if (d < bestD) [best, bestD] = [i, d]
    })
    index[k] = best
  }
  const raw = Buffer.alloc((width + 1) * height)
  for (let y = 0; y < height; y++) {
    raw[y * (width + 1)] = 0 // filter: none
    for (let x = 0; x < width; x++) raw[y * (width + 1) + 1 + x] = index[key[y * width + x]]
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr[8] = 8 // bit depth
  ihdr[9] = 3 // indexed colour
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('PLTE', Buffer.from(pal.flat())),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-dev-shm-usage'] })
try {
  const page = await browser.newPage()
  await mkdir(TO, { recursive: true })
  for (const [from, to] of SHOTS) {
    const png = await readFile(path.join(FROM, `${from}.png`))
    const data = await page.evaluate(
      async ({ src, width, maxHeight }) => {
        const img = new Image()
        img.src = src
        await img.decode()
        const h = Math.min(img.naturalHeight, maxHeight)
        const scale = width / img.naturalWidth
        const c = document.createElement('canvas')
        c.width = width
        c.height = Math.round(h * scale)
        const g = c.getContext('2d')
        g.imageSmoothingQuality = 'high'
        g.drawImage(img, 0, 0, img.naturalWidth, h, 0, 0, c.width, c.height)
        const px = g.getImageData(0, 0, c.width, c.height).data
        let bin = ''
        for (let i = 0; i < px.length; i += 0x8000) bin += String.fromCharCode(...px.subarray(i, i + 0x8000))
        return { width: c.width, height: c.height, rgba: btoa(bin) }
      },
      { src: `data:image/png;base64,${png.toString('base64')}`, width: WIDTH, maxHeight: MAX_HEIGHT },
    )
    const out = palettePng(Buffer.from(data.rgba, 'base64'), data.width, data.height)
    await writeFile(path.join(TO, `${to}.png`), out)
    console.log(`${to}.png ${Math.round(out.length / 1024)} KiB (from ${from}.png, ${Math.round(png.length / 1024)} KiB)`)
  }
} finally {
  await browser.close()
}
