// Drives the connect webview page over plain HTTP, exactly as a browser
// without JavaScript would (docs/connect-webview.md): GET the url, POST
// form-urlencoded bodies to the same URL, and look at the 303s ourselves
// (redirect: 'manual'). Also a helper that creates a webview and completes it.
import assert from 'node:assert/strict'

import { assertOk, call, cli } from './harness.mjs'

/** Every sandbox login's password (docs/connect-webview.md). */
export const SANDBOX_PASSWORD = '1234'

/** Sandbox logins and what they bring on a lock provider. */
export const LOGINS = Object.freeze({
  jane: 'jane@example.com', // 2 locks, online
  john: 'john@example.com', // 3 locks, one unlocked
  offline: 'offline@example.com', // 1 online lock, 1 offline lock
})

/** The attributes of an HTML start tag as an object (names lower-cased). */
export function tagAttributes(tag) {
  const attrs = {}
  const re = /([^\s"'<>\/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g
  const inner = tag.replace(/^<\s*[a-z0-9]+/i, '').replace(/\/?>$/, '')
  for (const m of inner.matchAll(re)) {
    attrs[m[1].toLowerCase()] = decodeEntities(m[2] ?? m[3] ?? m[4] ?? '')
  }
  return attrs
}

export function decodeEntities(s) {
  return s
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;|&apos;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&#x([0-9a-f]+);/gi, (_, h) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);/g, (_, d) => String.fromCodePoint(Number(d)))
    .replace(/&amp;/g, '&')
}

/** All start tags of one element name, each as its attributes. */
export function tags(html, name) {
  const re = new RegExp(`<${name}\\b[^>]*>`, 'gi')
  return [...html.matchAll(re)].map((m) => tagAttributes(m[0]))
}

/** The text of the first <h1>, tags removed, whitespace collapsed. */
export function heading(html) {
  const m = /<h1\b[^>]*>([\s\S]*?)<\/h1>/i.exec(html)
  return m ? decodeEntities(m[1].replace(/<[^>]*>/g, '')).replace(/\s+/g, ' ').trim() : null
}

/** The provider values of the picker's buttons (empty when no picker). */
export function pickerProviders(html) {
  return tags(html, 'button')
    .filter((b) => b.name === 'provider')
    .map((b) => b.value)
}

/** True when the page is the login form (has the username input). */
export function isLoginForm(html) {
  return tags(html, 'input').some((i) => i.name === 'username')
}

/** The value of the hidden provider input of the login form. */
export function loginFormProvider(html) {
  const hidden = tags(html, 'input').find((i) => i.name === 'provider')
  return hidden?.value
}

async function toPage(res) {
  const html = await res.text()
  return {
    status: res.status,
    headers: res.headers,
    location: res.headers.get('location'),
    contentType: res.headers.get('content-type') ?? '',
    html,
    heading: heading(html),
  }
}

/** GET the webview page without following redirects. */
export async function openWebview(url) {
  return toPage(await fetch(url, { redirect: 'manual' }))
}

/** POST a form (an object of fields) to the webview page, form-urlencoded. */
export async function postWebview(url, fields) {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) body.append(k, String(v))
  return toPage(
    await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: body.toString(),
    }),
  )
}

/**
 * Opens the page and gets to the login form of `provider` (through the
 * picker when there is one). Resolves { page, provider } where page is the
 * login form, or the page we stopped at when there was no login form.
 */
export async function reachLoginForm(url, provider) {
  let page = await openWebview(url)
  if (page.status !== 200) return { page, provider }
  if (!isLoginForm(page.html)) {
    const offered = pickerProviders(page.html)
    const chosen = provider ?? offered[0]
    if (!chosen) return { page, provider }
    page = await postWebview(url, { provider: chosen })
    provider = chosen
  }
  if (isLoginForm(page.html)) provider ??= loginFormProvider(page.html)
  return { page, provider }
}

/**
 * Completes a webview as a user would: open it, pick `provider` (when the
 * picker shows), then log in. Resolves the final page: { status, location,
 * html, heading, headers, contentType, steps } — a 303 with `location` when
 * a redirect URL was set, otherwise the success (or failure) page.
 */
export async function completeWebview(
  url,
  { provider, username = LOGINS.jane, password = SANDBOX_PASSWORD } = {},
) {
  const first = await reachLoginForm(url, provider)
  if (!isLoginForm(first.page.html)) return { ...first.page, steps: [first.page] }
  const final = await postWebview(url, {
    provider: first.provider,
    username,
    password,
    action: 'login',
  })
  return { ...final, steps: [first.page, final] }
}

/** Cancels a webview from its login form (reached through the picker). */
export async function cancelWebview(url, { provider } = {}) {
  const first = await reachLoginForm(url, provider)
  const final = await postWebview(url, { provider: first.provider, action: 'cancel' })
  return { ...final, steps: [first.page, final] }
}

/** Adds the query parameters of a redirect location to an object. */
export function locationParams(location) {
  const u = new URL(location)
  return Object.fromEntries(u.searchParams.entries())
}

/**
 * Creates a webview with `token` (API key or client session token), completes
 * it with the given sandbox login, and resolves { webview (after), url,
 * connected_account_id, final }. Asserts that it ended authorized.
 */
export async function connectAccount(
  srv,
  token,
  { provider = 'august', username = LOGINS.jane, password = SANDBOX_PASSWORD, create = {} } = {},
) {
  const created = assertOk(
    await call(srv, '/connect_webviews/create', {
      token,
      body: { accepted_providers: [provider], ...create },
    }),
    'connect_webview',
  ).connect_webview
  const final = await completeWebview(created.url, { provider, username, password })
  assert.ok(
    final.status === 200 || final.status === 303,
    `completing the webview: ${final.status} ${final.html.slice(0, 500)}`,
  )
  const after = assertOk(
    await call(srv, '/connect_webviews/get', {
      method: 'GET',
      token,
      query: { connect_webview_id: created.connect_webview_id },
    }),
    'connect_webview',
  ).connect_webview
  assert.equal(after.status, 'authorized', `webview not authorized: ${JSON.stringify(after)}`)
  assert.ok(after.connected_account_id, 'an authorized webview names its connected account')
  return {
    webview: after,
    url: created.url,
    connect_webview_id: created.connect_webview_id,
    connected_account_id: after.connected_account_id,
    final,
  }
}

/**
 * A new sandbox workspace with an API key, made with the admin CLI against
 * the running server's data dir. Resolves { workspace_id, apiKey, publishable_key }.
 */
export async function newSandboxWorkspace(srv, name = 'Test Workspace') {
  const ws = await cli(srv.dataDir, 'workspace', 'create', '--name', name, '--sandbox')
  const key = await cli(srv.dataDir, 'api-key', 'create', '--workspace', ws.workspace_id)
  return { workspace_id: ws.workspace_id, apiKey: key.api_key, publishable_key: ws.publishable_key }
}

/** Polls `fn` until it returns a truthy value or `ms` pass; returns the value. */
export async function waitFor(fn, { ms = 10_000, every = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, every))
  }
}

/** The devices of one connected account, as the workspace's API key lists them. */
export async function accountDevices(srv, apiKey, connectedAccountId) {
  const res = await call(srv, '/devices/list', {
    method: 'GET',
    token: apiKey,
    query: { connected_account_id: connectedAccountId },
  })
  return assertOk(res, 'devices').devices
}
