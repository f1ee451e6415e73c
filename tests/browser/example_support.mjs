// Helpers of the suites of the browser example (example_*.test.mjs,
// components.test.mjs): start the example's server
// (examples/browser/server.mjs) against a latchkey, and small page helpers
// for its two pages.
import { spawn } from 'node:child_process'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { SEED, STARTUP_MS, startServer } from '../api/harness.mjs'
import { ACTION_MS } from './browser.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const EXAMPLE_SERVER = path.resolve(HERE, '../../examples/browser/server.mjs')

/**
 * Starts the example server on a free port (--port 0) for this latchkey.
 * Resolves { url, stop(), output() } once it prints its address.
 */
export async function startExample({ latchkey, apiKey, publishableKey }) {
  const args = [EXAMPLE_SERVER, '--latchkey', latchkey, '--port', '0']
  if (apiKey) args.push('--api-key', apiKey)
  if (publishableKey) args.push('--publishable-key', publishableKey)
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  proc.stdout.setEncoding('utf8').on('data', (d) => (out += d))
  proc.stderr.setEncoding('utf8').on('data', (d) => (out += d))
  const exited = new Promise((resolve) => proc.on('exit', resolve))
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`example server did not start:\n${out}`)), STARTUP_MS)
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve(m[1])
      }
    }
    proc.stdout.on('data', check)
    proc.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`example server exited (${code}):\n${out}`))
    })
  })
  return {
    url,
    output: () => out,
    async stop() {
      if (proc.exitCode === null) proc.kill('SIGTERM')
      const killer = setTimeout(() => proc.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(killer)
    },
  }
}

/**
 * A latchkey with the fixture (devices acting in 200 ms) and the example's
 * server in front of it with the fixture's API key and publishable key.
 * Resolves { latchkey, example }.
 */
export async function startSeededExample() {
  const latchkey = await startServer({ args: ['--action-delay-ms', '200'] })
  try {
    const example = await startExample({
      latchkey: latchkey.url,
      apiKey: SEED.apiKey1,
      publishableKey: SEED.publishableKey1,
    })
    return { latchkey, example }
  } catch (err) {
    await latchkey.stop()
    throw err
  }
}

/** Waits until an example page has its client session (body[data-ready]). */
export async function waitReady(page) {
  const ready = page.locator('body[data-ready]')
  const failed = page.locator('#page-error:not([hidden]), #auth-error:not([hidden])')
  await ready.or(failed).first().waitFor({ state: 'attached', timeout: ACTION_MS })
  if (!(await ready.count())) {
    throw new Error(`the example page did not get a client session: ${(await failed.first().textContent())?.trim()}`)
  }
}

/** Opens an example page and waits for it to be ready. */
export async function openExample(page, url) {
  const res = await page.goto(url)
  if (res.status() !== 200) throw new Error(`${url} answered ${res.status()}`)
  await waitReady(page)
}

/** The device ids the "My doors" page lists, sorted. */
export async function listedDeviceIds(page) {
  await page.locator('#devices-status[data-count]').waitFor({ state: 'attached' })
  const ids = await page.locator('#device-list tr').evaluateAll((rows) => rows.map((r) => r.dataset.deviceId))
  return ids.sort()
}

/** Pastes a client session token into the page's session panel and waits for the reload. */
export async function pasteToken(page, token) {
  await page.locator('#pasted').fill(token)
  await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Use this token' }).click()])
  await waitReady(page)
}
