// CORS as a browser enforces it: a page on a foreign origin that calls
// latchkey with an API key gets no CORS grant, so it cannot read the answer,
// while the same call with a client session token (how the SDK sends it:
// credentials included) is readable. Checked from a page on an unrelated
// origin with fetch, and from the example page with the SDK bundle.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { JOHN_DEVICES, SEED } from '../api/harness.mjs'
import { TEST_MS, launchBrowser, openPage, screenshot, startRedirectTarget } from './browser.mjs'
import { openExample, startSeededExample } from './example_support.mjs'

let latchkey
let example
let foreign
let browser

before(async () => {
  ;({ latchkey, example } = await startSeededExample())
  foreign = await startRedirectTarget()
  browser = await launchBrowser()
})

after(async () => {
  await browser?.close()
  await foreign?.close()
  await example?.stop()
  await latchkey?.stop()
})

/** fetch() run inside the page; resolves what the page could see. */
function pageFetch(page, url, init) {
  return page.evaluate(
    async ({ url, init }) => {
      try {
        const res = await fetch(url, init)
        let body = null
        try {
          body = res.type === 'opaque' ? null : await res.json()
        } catch {}
        return { ok: true, type: res.type, status: res.status, body, requestId: res.headers.get('seam-request-id') }
      } catch (err) {
        return { ok: false, error: `${err.name}: ${err.message}` }
      }
    },
    { url, init },
  )
}

describe('CORS from a browser page', { timeout: TEST_MS * 3 }, () => {
  it('a foreign origin cannot read an API-key answer; it can read a client-session-token answer', { timeout: TEST_MS }, async () => {
    const { context, page, responses } = await openPage(browser)
    try {
      await page.goto(foreign.url('/foreign-page'))
      const url = `${latchkey.url}/devices/list`

      for (const credentials of ['same-origin', 'include']) {
        const withKey = await pageFetch(page, url, {
          credentials,
          headers: { authorization: `Bearer ${SEED.apiKey1}` },
        })
        assert.equal(withKey.ok, false, `API key, credentials ${credentials}: the page must not read it: ${JSON.stringify(withKey)}`)
        assert.match(withKey.error, /TypeError/)

        const withToken = await pageFetch(page, url, {
          credentials,
          headers: { authorization: `Bearer ${SEED.cst1}` },
        })
        assert.equal(withToken.ok, true, `client session token, credentials ${credentials}: ${JSON.stringify(withToken)}`)
        assert.equal(withToken.status, 200)
        assert.deepEqual(withToken.body.devices.map((d) => d.device_id), JOHN_DEVICES)
        assert.match(withToken.requestId ?? '', /^request_/, 'seam-request-id is exposed')

        // The other headers a client session token may come in.
        for (const header of ['client-session-token', 'seam-client-session-token']) {
          const r = await pageFetch(page, url, { credentials, headers: { [header]: SEED.cst1 } })
          assert.equal(r.status, 200, `${header}: ${JSON.stringify(r)}`)
        }
      }

      // latchkey did answer the API-key request (the browser withheld it).
      assert.ok(responses.some((r) => r.url === url && r.status === 200))

      // Without CORS (no-cors), the page gets only an opaque response: no
      // status, no body (and the Authorization header is not even sent).
      const opaque = await pageFetch(page, url, {
        mode: 'no-cors',
        headers: { authorization: `Bearer ${SEED.apiKey1}` },
      })
      assert.equal(opaque.ok, true)
      assert.equal(opaque.type, 'opaque')
      assert.equal(opaque.status, 0)
      assert.equal(opaque.body, null)

      // The publishable key works from any origin too.
      const pk = await pageFetch(page, `${latchkey.url}/client_sessions/get_or_create`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'seam-publishable-key': SEED.publishableKey1,
        },
        body: JSON.stringify({ user_identifier_key: 'cors_user' }),
      })
      assert.equal(pk.status, 200, JSON.stringify(pk))
      assert.match(pk.body.client_session.token, /^seam_cst1/)
    } finally {
      await context.close()
    }
  })

  it('the example page: the SDK with an API key fails in the browser, with a client session token it works', { timeout: TEST_MS }, async () => {
    const { context, page } = await openPage(browser)
    try {
      await openExample(page, `${example.url}/?user=cors`)
      const result = await page.evaluate(
        async ({ endpoint, apiKey, token }) => {
          const { SeamHttp } = await import('/vendor/seam-http.js')
          const out = {}
          try {
            const devices = await SeamHttp.fromApiKey(apiKey, {
              endpoint,
              axiosRetryOptions: { retries: 0 },
            }).devices.list()
            out.apiKey = { read: true, count: devices.length }
          } catch (err) {
            out.apiKey = { read: false, name: err.name, statusCode: err.statusCode ?? null, message: err.message }
          }
          const devices = await SeamHttp.fromClientSessionToken(token, { endpoint }).devices.list()
          out.token = devices.map((d) => d.device_id)
          return out
        },
        { endpoint: latchkey.url, apiKey: SEED.apiKey1, token: SEED.cst1 },
      )
      assert.equal(result.apiKey.read, false, JSON.stringify(result))
      assert.equal(result.apiKey.statusCode, null, 'no API answer reached the page, only a network error')
      assert.match(result.apiKey.message, /network/i)
      assert.deepEqual(result.token, JOHN_DEVICES)
      await screenshot(page, 'example-cors-page')
    } finally {
      await context.close()
    }
  })
})
