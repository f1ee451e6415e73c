// Connecting a live provider's account (Zigbee2MQTT, Home Assistant) through
// the connect webview as a browser without JavaScript does: open the page,
// choose the provider, POST the form, follow the 303 and reload the
// "connecting" page (it refreshes itself every second) until it says
// Connected or shows the form again with why not.
import assert from 'node:assert/strict'

import { assertOk, call } from '../api/harness.mjs'
import { openWebview, postWebview, tags } from '../api/webview_flow.mjs'

/**
 * The page after the form, once it is no longer "connecting". With
 * resubmit false, only waits for the try already made.
 */
export async function submitLiveForm(url, provider, fields, { ms = 20_000, resubmit = true } = {}) {
  const first = await openWebview(url)
  assert.equal(first.status, 200, first.html.slice(0, 400))
  let target = url
  if (resubmit) {
    const posted = await postWebview(url, { provider, action: 'login', ...fields })
    if (posted.status !== 303) return posted // the form again, with why
    target = new URL(posted.location, url).toString()
  }
  const deadline = Date.now() + ms
  for (;;) {
    const page = await openWebview(target)
    const refreshing = /http-equiv="refresh"/.test(page.html)
    if (!refreshing) return page
    assert.match(page.heading, /^Connecting to /)
    if (Date.now() > deadline) assert.fail(`still connecting after ${ms} ms`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** The error the form shows, or null. */
export const formError = (page) =>
  (/<p role="alert" class="error">([\s\S]*?)<\/p>/.exec(page.html) ?? [])[1] ?? null

/** The names of the form's inputs. */
export const formFields = (page) => tags(page.html, 'input').map((i) => i.name)

/**
 * Creates a webview for `provider` with `token`, submits `fields`, and
 * asserts it ended authorized; resolves { connect_webview_id,
 * connected_account_id, page }.
 */
export async function connectLive(srv, token, provider, fields) {
  const created = assertOk(
    await call(srv, '/connect_webviews/create', { token, body: { accepted_providers: [provider] } }),
    'connect_webview',
  ).connect_webview
  const page = await submitLiveForm(created.url, provider, fields)
  assert.equal(page.heading, 'Connected', `${page.heading}: ${formError(page) ?? page.html.slice(0, 600)}`)
  const after = assertOk(
    await call(srv, '/connect_webviews/get', {
      token,
      body: { connect_webview_id: created.connect_webview_id },
    }),
    'connect_webview',
  ).connect_webview
  assert.equal(after.status, 'authorized')
  return {
    connect_webview_id: created.connect_webview_id,
    connected_account_id: after.connected_account_id,
    url: created.url,
    page,
  }
}
