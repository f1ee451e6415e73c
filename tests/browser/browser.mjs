// Shared helpers of the browser tests: launch Debian's chromium through
// playwright-core, open pages that record every request, save screenshots to
// LATCHKEY_ARTIFACTS, and serve a redirect target that records its hits.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'

import { chromium } from 'playwright-core'

import { SANITIZED } from '../api/harness.mjs'

export const CHROMIUM = process.env.LATCHKEY_CHROMIUM || '/usr/bin/chromium'
export const ARTIFACTS = process.env.LATCHKEY_ARTIFACTS || ''

/** Playwright's per-action/navigation limit (the server is slower under ASan). */
export const ACTION_MS = SANITIZED ? 60_000 : 15_000
/** node:test limit for one browser test. */
export const TEST_MS = SANITIZED ? 240_000 : 90_000

/** Chromium, headless, without anything that talks to the network on its own. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: SANITIZED ? 120_000 : 60_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  })
}

/**
 * A fresh context and page. Every request the page (or anything in the
 * context) makes is recorded in `requests` as { url, method, resourceType };
 * responses in `responses` as { url, status }.
 * options: browser context options, e.g. { javaScriptEnabled: false }.
 */
export async function openPage(browser, options = {}) {
  const context = await browser.newContext(options)
  context.setDefaultTimeout(ACTION_MS)
  context.setDefaultNavigationTimeout(ACTION_MS)
  const requests = []
  const responses = []
  context.on('request', (req) =>
    requests.push({ url: req.url(), method: req.method(), resourceType: req.resourceType() }),
  )
  context.on('response', (res) => responses.push({ url: res.url(), status: res.status() }))
  const page = await context.newPage()
  return { context, page, requests, responses }
}

// Screenshots are named after the test file, so each run overwrites the last
// one's and files running side by side (ctest -j) do not collide.
const FILE_LABEL = path.basename(process.argv[1] ?? `pid${process.pid}`).replace(/\.test\.mjs$|\.mjs$/, '')
let shotCount = 0
/** Saves a full-page screenshot to LATCHKEY_ARTIFACTS (when set) as browser-<file>-<n>-<name>.png. */
export async function screenshot(page, name) {
  if (!ARTIFACTS) return null
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  const safe = String(name)
    .replace(/[^a-z0-9._-]+/gi, '-')
    .replace(/^-+|-+$/g, '')
  const file = path.join(
    ARTIFACTS,
    `browser-${FILE_LABEL}-${String(++shotCount).padStart(3, '0')}-${safe}.png`,
  )
  try {
    await page.screenshot({ path: file, fullPage: true })
  } catch (err) {
    // A screenshot is evidence, not the test: never fail because of it.
    console.error(`screenshot ${file} failed: ${err.message}`)
    return null
  }
  return file
}

/**
 * A tiny HTTP server standing in for the app behind custom_redirect_url /
 * custom_redirect_failure_url. Every request is recorded (url as received,
 * with its query). Returns { origin, url(path), hits, waitForHit(pathname), close() }.
 */
export async function startRedirectTarget() {
  const hits = []
  const waiters = []
  const server = http.createServer((req, res) => {
    const full = new URL(req.url, `http://${req.headers.host}`)
    hits.push({
      method: req.method,
      url: full.href,
      pathname: full.pathname,
      query: full.searchParams,
      referer: req.headers.referer ?? null,
    })
    for (const w of waiters.splice(0)) w()
    const body = `<!doctype html><html><head><title>App</title></head><body><h1>Back in the app</h1><p>${full.pathname}</p></body></html>`
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) })
    res.end(body)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const { port } = server.address()
  const origin = `http://127.0.0.1:${port}`
  return {
    origin,
    hits,
    url: (p = '/') => `${origin}${p}`,
    /** The first recorded hit on this pathname (waits for it). */
    async waitForHit(pathname, timeout = ACTION_MS) {
      const deadline = Date.now() + timeout
      for (;;) {
        const hit = hits.find((h) => h.pathname === pathname)
        if (hit) return hit
        const left = deadline - Date.now()
        assert.ok(left > 0, `the redirect target was never asked for ${pathname}; hits: ${hits.map((h) => h.url).join(', ')}`)
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left)
          waiters.push(() => {
            clearTimeout(t)
            resolve()
          })
        })
      }
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.()
        server.close(() => resolve())
      }),
  }
}

/** The text of the page's (first) h1, trimmed and with whitespace collapsed. */
export async function heading(page) {
  const h = page.locator('h1').first()
  return ((await h.textContent()) ?? '').replace(/\s+/g, ' ').trim()
}
