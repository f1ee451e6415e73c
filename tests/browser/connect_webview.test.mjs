// The connect webview page in headless Chromium (docs/connect-webview.md):
// the URL and its token, the provider picker, the login form, wrong
// passwords, success and failure with and without redirects, keyboard-only
// use, JavaScript disabled, and no third-party assets.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { SEED, cli, sdkFromApiKey, startServer } from '../api/harness.mjs'
import {
  TEST_MS,
  heading,
  launchBrowser,
  openPage,
  screenshot,
  startRedirectTarget,
} from './browser.mjs'

let server
let browser
let seam
let target

before(async () => {
  ;[server, browser, target] = await Promise.all([
    startServer({ args: ['--action-delay-ms', '200'] }),
    launchBrowser(),
    startRedirectTarget(),
  ])
  seam = sdkFromApiKey(server, SEED.apiKey1)
})

after(async () => {
  await browser?.close()
  await target?.close()
  await server?.stop()
})

const JANE = 'jane@example.com'
const PASSWORD = '1234'

async function createWebview(params) {
  const wv = await seam.connectWebviews.create(params)
  assert.equal(typeof wv.url, 'string', 'connect_webviews/create returns a url')
  return wv
}

const getWebview = (id) => seam.connectWebviews.get({ connect_webview_id: id })

/** Is this response the webview page answering a form post? */
const isWebviewPost = (res) =>
  res.request().method() === 'POST' &&
  res.url().startsWith(`${server.url}/connect_webviews/view`)

/** Runs `act` (a click or key press that submits a form) and returns the POST's response. */
async function submit(page, act) {
  const [res] = await Promise.all([page.waitForResponse(isWebviewPost), act()])
  return res
}

const loginButton = (page) => page.locator('button[type="submit"][name="action"][value="login"]')
const cancelButton = (page) => page.locator('button[type="submit"][name="action"][value="cancel"]')
const providerButtons = (page) => page.locator('form button[type="submit"][name="provider"]')

/** Fills the login form and presses Connect; returns the POST's response. */
async function login(page, username, password) {
  await page.locator('#username').fill(username)
  await page.locator('#password').fill(password)
  return submit(page, () => loginButton(page).click())
}

async function waitForHeading(page, re) {
  await page.locator('h1', { hasText: re }).first().waitFor()
  return heading(page)
}

/** Links on the page that lead back to this webview's picker. */
async function pickerLinks(page, webviewId) {
  const hrefs = await page
    .locator('a[href]')
    .evaluateAll((as) => as.map((a) => a.href))
  return hrefs.filter((href) => {
    const u = new URL(href)
    return (
      u.origin === server.url &&
      u.pathname === '/connect_webviews/view' &&
      u.searchParams.get('connect_webview_id') === webviewId
    )
  })
}

async function assertAuthorized(id, provider) {
  const wv = await getWebview(id)
  assert.equal(wv.status, 'authorized', `webview status: ${JSON.stringify(wv)}`)
  assert.equal(wv.login_successful, true)
  assert.equal(typeof wv.connected_account_id, 'string')
  assert.ok(wv.connected_account_id.length > 0)
  assert.ok(!Number.isNaN(Date.parse(wv.authorized_at)), `authorized_at: ${wv.authorized_at}`)
  assert.equal(wv.selected_provider, provider)
  return wv
}

async function assertPending(id) {
  const wv = await getWebview(id)
  assert.equal(wv.status, 'pending', `webview status: ${JSON.stringify(wv)}`)
  assert.ok(!wv.login_successful, 'login_successful must not be true')
  assert.ok(!wv.connected_account_id, `no connected account yet: ${wv.connected_account_id}`)
  return wv
}

async function assertFailed(id) {
  const wv = await getWebview(id)
  assert.equal(wv.status, 'failed', `webview status: ${JSON.stringify(wv)}`)
  assert.ok(!wv.login_successful, 'login_successful must not be true')
  assert.ok(!wv.connected_account_id, `no connected account: ${wv.connected_account_id}`)
  return wv
}

describe('the URL', { timeout: TEST_MS }, () => {
  it('is <public URL>/connect_webviews/view?connect_webview_id=<id>&auth_token=<token>', async () => {
    const a = await createWebview({ accepted_providers: ['august'] })
    const b = await createWebview({ accepted_providers: ['august'] })
    const u = new URL(a.url)
    assert.equal(u.origin, server.url)
    assert.equal(u.pathname, '/connect_webviews/view')
    assert.equal(u.searchParams.get('connect_webview_id'), a.connect_webview_id)
    const token = u.searchParams.get('auth_token')
    assert.ok(token && token.length >= 16, `auth_token looks random: ${token}`)
    assert.notEqual(new URL(b.url).searchParams.get('auth_token'), token, 'tokens differ')
    assert.equal(a.status, 'pending')
  })

  it('answers 404 (HTML) without the right token, for unknown and for deleted webviews', async () => {
    const wv = await createWebview({ accepted_providers: ['august'] })
    const good = new URL(wv.url)
    const token = good.searchParams.get('auth_token')
    const other = await createWebview({ accepted_providers: ['august'] })
    const otherToken = new URL(other.url).searchParams.get('auth_token')
    const view = `${server.url}/connect_webviews/view`
    const bad = {
      'no token': `${view}?connect_webview_id=${wv.connect_webview_id}`,
      'empty token': `${view}?connect_webview_id=${wv.connect_webview_id}&auth_token=`,
      'wrong token': `${view}?connect_webview_id=${wv.connect_webview_id}&auth_token=${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
      "another webview's token": `${view}?connect_webview_id=${wv.connect_webview_id}&auth_token=${otherToken}`,
      'unknown webview': `${view}?connect_webview_id=00000000-0000-4000-8000-000000000000&auth_token=${token}`,
      'no webview id': `${view}?auth_token=${token}`,
    }
    const { context, page } = await openPage(browser)
    try {
      for (const [what, url] of Object.entries(bad)) {
        const res = await page.goto(url)
        assert.equal(res.status(), 404, `${what}: status`)
        assert.match(res.headers()['content-type'] ?? '', /^text\/html/, `${what}: content type`)
        assert.equal(await page.locator('#username').count(), 0, `${what}: no login form`)
        // Posting a login with the wrong token changes nothing.
        const post = await page.request.post(url, {
          form: { provider: 'august', username: JANE, password: PASSWORD, action: 'login' },
          maxRedirects: 0,
        })
        assert.equal(post.status(), 404, `${what}: POST status`)
      }
      await screenshot(page, 'webview-404')
      await assertPending(wv.connect_webview_id)

      // The right URL works; once the webview is deleted it is 404 too.
      assert.equal((await page.goto(wv.url)).status(), 200)
      await seam.connectWebviews.delete({ connect_webview_id: wv.connect_webview_id })
      const gone = await page.goto(wv.url)
      assert.equal(gone.status(), 404, 'deleted webview')
      assert.match(gone.headers()['content-type'] ?? '', /^text\/html/)
    } finally {
      await context.close()
    }
  })
})

describe('the provider picker', { timeout: TEST_MS }, () => {
  it('offers exactly the accepted providers and refuses any other', async () => {
    const wv = await createWebview({ accepted_providers: ['august', 'yale'] })
    const { context, page } = await openPage(browser)
    try {
      const res = await page.goto(wv.url)
      assert.equal(res.status(), 200)
      assert.match(res.headers()['content-type'] ?? '', /^text\/html/)
      await screenshot(page, 'picker-august-yale')
      assert.equal(await heading(page), 'Connect an account')
      const values = await providerButtons(page).evaluateAll((bs) => bs.map((b) => b.value))
      assert.deepEqual([...values].sort(), ['august', 'yale'], 'one button per accepted provider')
      // The buttons sit in a POST form that posts back to this very page.
      const forms = await providerButtons(page).evaluateAll((bs) =>
        // (The form's own properties, not controls named "action"/"method".)
        bs.map((b) => {
          const get = (prop) => Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, prop).get.call(b.form)
          return { method: get('method'), action: get('action') }
        }),
      )
      for (const f of forms) {
        assert.equal(f.method, 'post')
        assert.equal(f.action, wv.url, 'the picker form posts to the same URL')
      }
      // The buttons are labelled with a display name (not empty).
      for (const name of await providerButtons(page).allInnerTexts()) assert.ok(name.trim())
      assert.equal(await page.locator('#username').count(), 0, 'no login form on the picker')
      for (const other of ['schlage', 'nuki', 'ecobee']) {
        assert.equal(await page.locator(`[value="${other}"]`).count(), 0, `${other} not offered`)
      }

      // A provider that is not accepted is refused, whether picked or logged into.
      for (const form of [
        { provider: 'schlage' },
        { provider: 'schlage', username: JANE, password: PASSWORD, action: 'login' },
        { provider: 'not_a_provider', username: JANE, password: PASSWORD, action: 'login' },
      ]) {
        const post = await page.request.post(wv.url, { form, maxRedirects: 0 })
        const text = await post.text()
        assert.notEqual(post.status(), 303, `${JSON.stringify(form)} must not redirect`)
        assert.ok(post.status() !== 200 || !/Sign in to/i.test(text), `${JSON.stringify(form)}: no login form for it (${post.status()})`)
        assert.doesNotMatch(text, /<h1[^>]*>\s*Connected\s*</i, `${JSON.stringify(form)}: not connected`)
      }
      await assertPending(wv.connect_webview_id)

      // Picking yale shows yale's login form, with a way back to the picker.
      const picked = await submit(page, () => page.locator('button[name="provider"][value="yale"]').click())
      assert.equal(picked.status(), 200)
      assert.match(await waitForHeading(page, /Sign in to/), /^Sign in to Yale$/i)
      await screenshot(page, 'picker-picked-yale')
      assert.equal(await page.locator('input[type="hidden"][name="provider"]').inputValue(), 'yale')
      const back = await pickerLinks(page, wv.connect_webview_id)
      assert.ok(back.length >= 1, 'a link back to the picker')
      await page.goto(back[0])
      assert.equal(await waitForHeading(page, /Connect an account/), 'Connect an account')
      await assertPending(wv.connect_webview_id)
    } finally {
      await context.close()
    }
  })

  it('with exactly one accepted provider shows its login form directly', async () => {
    const wv = await createWebview({ accepted_providers: ['august'] })
    const { context, page } = await openPage(browser)
    try {
      const res = await page.goto(wv.url)
      assert.equal(res.status(), 200)
      await screenshot(page, 'login-august')
      assert.match(await heading(page), /^Sign in to August$/i)
      assert.equal(await providerButtons(page).count(), 0, 'no picker')
      assert.deepEqual(await pickerLinks(page, wv.connect_webview_id), [], 'no link to a picker')

      const form = page.locator('form[method="post" i]').filter({ has: page.locator('#username') })
      assert.equal(await form.count(), 1, 'one POST form holds the login')
      assert.equal(
        await form.evaluate((f) =>
          Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, 'action').get.call(f),
        ),
        wv.url,
        'posts to the same URL',
      )
      assert.equal(await form.locator('input[type="hidden"][name="provider"]').inputValue(), 'august')

      const user = page.locator('#username')
      assert.deepEqual(
        await user.evaluate((i) => ({
          name: i.name,
          type: i.type,
          autocomplete: i.getAttribute('autocomplete'),
          required: i.required,
          autofocus: i.autofocus,
        })),
        { name: 'username', type: 'email', autocomplete: 'username', required: true, autofocus: true },
      )
      const pass = page.locator('#password')
      assert.deepEqual(
        await pass.evaluate((i) => ({
          name: i.name,
          type: i.type,
          autocomplete: i.getAttribute('autocomplete'),
          required: i.required,
        })),
        { name: 'password', type: 'password', autocomplete: 'current-password', required: true },
      )
      // The labels are tied to the inputs.
      assert.equal((await page.locator('label[for="username"]').innerText()).trim(), 'Email')
      assert.equal((await page.locator('label[for="password"]').innerText()).trim(), 'Password')
      assert.equal(await page.getByLabel('Email', { exact: true }).getAttribute('id'), 'username')
      assert.equal(await page.getByLabel('Password', { exact: true }).getAttribute('id'), 'password')

      assert.equal((await loginButton(page).innerText()).trim(), 'Connect')
      assert.equal((await cancelButton(page).innerText()).trim(), 'Cancel')
      assert.equal(await cancelButton(page).evaluate((b) => b.formNoValidate), true)
      assert.equal(await page.getByRole('button', { name: 'Connect', exact: true }).count(), 1)
      assert.equal(await page.getByRole('button', { name: 'Cancel', exact: true }).count(), 1)

      // Sandbox workspace: the sandbox logins are listed.
      const text = await page.locator('body').innerText()
      for (const login of [JANE, 'john@example.com', 'offline@example.com']) {
        assert.ok(text.includes(login), `the page lists the sandbox login ${login}`)
      }
      await assertPending(wv.connect_webview_id)
    } finally {
      await context.close()
    }
  })
})

describe('outside a sandbox workspace', { timeout: TEST_MS }, () => {
  it('the login form does not list the sandbox logins', async () => {
    const ws = await cli(server.dataDir, 'workspace', 'create', '--name', 'Production')
    assert.equal(ws.is_sandbox, false)
    const key = await cli(server.dataDir, 'api-key', 'create', '--workspace', ws.workspace_id)
    const prod = sdkFromApiKey(server, key.api_key)
    const wv = await prod.connectWebviews.create({ accepted_providers: ['august'] })
    const { context, page } = await openPage(browser)
    try {
      const res = await page.goto(wv.url)
      assert.equal(res.status(), 200)
      await screenshot(page, 'login-not-sandbox')
      assert.match(await heading(page), /^Sign in to August$/i)
      assert.equal(await page.locator('#username').count(), 1)
      const text = await page.locator('body').innerText()
      for (const login of [JANE, 'john@example.com', 'offline@example.com']) {
        assert.ok(!text.includes(login), `no sandbox login ${login} on a production page`)
      }
    } finally {
      await context.close()
    }
  })
})

describe('logging in', { timeout: TEST_MS }, () => {
  it('a wrong password shows the error; the user retries and sees "Connected"', async () => {
    const wv = await createWebview({ accepted_providers: ['august'] })
    const { context, page } = await openPage(browser)
    try {
      await page.goto(wv.url)
      const wrong = await login(page, JANE, 'wrong-password')
      assert.equal(wrong.status(), 200, 'the login form again, 200')
      const alert = page.getByRole('alert')
      await alert.waitFor()
      await screenshot(page, 'login-wrong-password')
      assert.equal(await alert.count(), 1)
      assert.ok(await alert.evaluate((el) => el.classList.contains('error')), 'class="error"')
      assert.match(await alert.innerText(), /password/i, 'says the email or password is wrong')
      assert.match(await heading(page), /^Sign in to August$/i)
      assert.equal(await page.locator('#username').inputValue(), JANE, 'the email is kept')
      assert.equal(await page.locator('#password').inputValue(), '', 'the password is not echoed')
      assert.doesNotMatch(await page.content(), /wrong-password/, 'the wrong password is not in the page')
      await assertPending(wv.connect_webview_id)

      // An unknown login fails the same way.
      const unknown = await login(page, 'nobody@example.com', PASSWORD)
      assert.equal(unknown.status(), 200)
      await page.getByRole('alert').waitFor()
      assert.equal(await page.locator('#username').inputValue(), 'nobody@example.com')
      await assertPending(wv.connect_webview_id)

      const ok = await login(page, JANE, PASSWORD)
      assert.equal(ok.status(), 200, 'no redirect URL: the success page itself')
      assert.equal(await waitForHeading(page, /Connected/), 'Connected')
      await screenshot(page, 'login-connected')
      assert.equal(await page.getByRole('alert').count(), 0, 'no error on success')
      const body = await page.locator('body').innerText()
      assert.match(body, /August/i, 'names the provider')
      assert.match(body, /\b2\b/, 'names the number of devices (jane has 2 locks)')
      const done = await assertAuthorized(wv.connect_webview_id, 'august')
      const devices = await seam.devices.list({ connected_account_id: done.connected_account_id })
      assert.equal(devices.length, 2, 'jane@example.com has 2 locks on august')

      // Opening the URL again shows the success page again.
      const again = await page.goto(wv.url)
      assert.equal(again.status(), 200)
      assert.equal(await heading(page), 'Connected')
      assert.equal(await page.locator('#username').count(), 0)
    } finally {
      await context.close()
    }
  })

  it('with custom_redirect_url: 303 to it with connect_webview_id and connected_account_id', async () => {
    const wv = await createWebview({
      accepted_providers: ['august'],
      custom_redirect_url: target.url('/done?state=abc%20123'),
      custom_redirect_failure_url: target.url('/failed'),
    })
    const { context, page, responses } = await openPage(browser)
    try {
      await page.goto(wv.url)
      const res = await login(page, JANE, PASSWORD)
      assert.equal(res.status(), 303, 'the login answers 303')
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/done')
      await screenshot(page, 'redirect-success')
      const done = await assertAuthorized(wv.connect_webview_id, 'august')
      const landed = new URL(page.url())
      assert.equal(landed.searchParams.get('state'), 'abc 123', 'the existing query is kept')
      assert.equal(landed.searchParams.get('connect_webview_id'), wv.connect_webview_id)
      assert.equal(landed.searchParams.get('connected_account_id'), done.connected_account_id)
      assert.equal(landed.searchParams.get('error'), null)
      const hit = await target.waitForHit('/done')
      assert.equal(hit.query.get('connect_webview_id'), wv.connect_webview_id)
      assert.equal(hit.query.get('connected_account_id'), done.connected_account_id)
      assert.ok(!target.hits.some((h) => h.pathname === '/failed'), 'not the failure URL')
      // The webview's auth_token does not leak to the app through the Referer.
      const token = new URL(wv.url).searchParams.get('auth_token')
      for (const h of target.hits) {
        assert.ok(!(h.referer ?? '').includes(token), `Referer leaks the token: ${h.referer}`)
      }
      assert.ok(
        responses.some((r) => r.url.startsWith(`${server.url}/connect_webviews/view`) && r.status === 303),
      )

      // Opening the webview again redirects again, the same way.
      const doneHits = () => target.hits.filter((h) => h.pathname === '/done').length
      const before = doneHits()
      await page.goto(wv.url)
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/done')
      assert.equal(doneHits(), before + 1)
      const again = new URL(page.url())
      assert.equal(again.searchParams.get('connect_webview_id'), wv.connect_webview_id)
      assert.equal(again.searchParams.get('connected_account_id'), done.connected_account_id)
      assert.equal(again.searchParams.get('state'), 'abc 123')
    } finally {
      await context.close()
    }
  })

  it('Cancel (even with empty fields) goes to custom_redirect_failure_url with error=user_cancelled; the webview is failed', async () => {
    const wv = await createWebview({
      accepted_providers: ['august', 'yale'],
      custom_redirect_url: target.url('/cancel-ok'),
      custom_redirect_failure_url: target.url('/cancel-failed?from=webview'),
    })
    const { context, page } = await openPage(browser)
    try {
      await page.goto(wv.url)
      await submit(page, () => page.locator('button[name="provider"][value="august"]').click())
      await page.locator('#username').waitFor()
      const res = await submit(page, () => cancelButton(page).click())
      assert.equal(res.status(), 303)
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/cancel-failed')
      await screenshot(page, 'redirect-cancelled')
      const landed = new URL(page.url())
      assert.equal(landed.searchParams.get('connect_webview_id'), wv.connect_webview_id)
      assert.equal(landed.searchParams.get('error'), 'user_cancelled')
      assert.equal(landed.searchParams.get('from'), 'webview', 'the existing query is kept')
      assert.equal(landed.searchParams.get('connected_account_id'), null)
      assert.ok(!target.hits.some((h) => h.pathname === '/cancel-ok'), 'not the success URL')
      await assertFailed(wv.connect_webview_id)

      // Opening it again goes to the failure URL again; logging in is no longer possible.
      await page.goto(wv.url)
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/cancel-failed')
      assert.equal(new URL(page.url()).searchParams.get('error'), 'user_cancelled')
      const late = await page.request.post(wv.url, {
        form: { provider: 'august', username: JANE, password: PASSWORD, action: 'login' },
        maxRedirects: 0,
      })
      if (late.status() === 303) {
        assert.equal(new URL(late.headers().location, wv.url).pathname, '/cancel-failed')
      }
      await assertFailed(wv.connect_webview_id)
    } finally {
      await context.close()
    }
  })

  it('Cancel without a failure URL uses custom_redirect_url; without either shows "Not connected"', async () => {
    const withOk = await createWebview({
      accepted_providers: ['yale'],
      custom_redirect_url: target.url('/only-ok?a=1#top'),
    })
    const bare = await createWebview({ accepted_providers: ['yale'] })
    const { context, page } = await openPage(browser)
    try {
      await page.goto(withOk.url)
      await submit(page, () => cancelButton(page).click())
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/only-ok')
      const landed = new URL(page.url())
      assert.equal(landed.searchParams.get('connect_webview_id'), withOk.connect_webview_id)
      assert.equal(landed.searchParams.get('error'), 'user_cancelled')
      assert.equal(landed.searchParams.get('a'), '1')
      assert.equal(landed.hash, '#top', 'the fragment stays last, the parameters go in the query')
      const hit = await target.waitForHit('/only-ok')
      assert.equal(hit.query.get('connect_webview_id'), withOk.connect_webview_id)
      await assertFailed(withOk.connect_webview_id)

      await page.goto(bare.url)
      const res = await submit(page, () => page.getByRole('button', { name: 'Cancel', exact: true }).click())
      assert.equal(res.status(), 200)
      assert.equal(await waitForHeading(page, /Not connected/), 'Not connected')
      await screenshot(page, 'cancelled-not-connected')
      await assertFailed(bare.connect_webview_id)
      await page.goto(bare.url)
      assert.equal(await heading(page), 'Not connected', 'the failure page again')
    } finally {
      await context.close()
    }
  })

  it('the kept email is escaped: markup typed into it is shown as text, never run', async () => {
    const wv = await createWebview({ accepted_providers: ['august'] })
    const { context, page } = await openPage(browser)
    const dialogs = []
    page.on('dialog', (d) => {
      dialogs.push(d.message())
      d.dismiss().catch(() => {})
    })
    try {
      await page.goto(wv.url)
      const evil = `x"'><img id=injected src=x onerror="alert(1)"><script>alert(2)</script>&amp;@example.com`
      // Lift the browser's own email check so the raw text reaches the server.
      await page.locator('#username').evaluate((i) => {
        i.type = 'text'
        i.form.noValidate = true
      })
      const res = await login(page, evil, 'wrong')
      assert.equal(res.status(), 200)
      await page.getByRole('alert').waitFor()
      await screenshot(page, 'escaped-email')
      assert.equal(await page.locator('#username').inputValue(), evil, 'kept exactly, as text')
      assert.equal(await page.locator('#injected').count(), 0, 'no element injected')
      assert.deepEqual(dialogs, [], 'no script ran')
      assert.equal(
        await page.locator('script').filter({ hasText: 'alert(2)' }).count(),
        0,
        'no script element injected',
      )
      await assertPending(wv.connect_webview_id)
    } finally {
      await context.close()
    }
  })

  it('after 5 wrong tries the webview fails with error=too_many_attempts', async () => {
    const wv = await createWebview({
      accepted_providers: ['august'],
      custom_redirect_failure_url: target.url('/too-many'),
    })
    const { context, page } = await openPage(browser)
    try {
      await page.goto(wv.url)
      for (let i = 1; i <= 4; i++) {
        const res = await login(page, JANE, `wrong${i}`)
        assert.equal(res.status(), 200, `wrong try ${i}`)
        await page.getByRole('alert').waitFor()
        await assertPending(wv.connect_webview_id)
      }
      await screenshot(page, 'four-wrong-tries')
      const fifth = await login(page, JANE, 'wrong5')
      assert.equal(fifth.status(), 303, 'the fifth wrong try fails the webview')
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/too-many')
      const landed = new URL(page.url())
      assert.equal(landed.searchParams.get('connect_webview_id'), wv.connect_webview_id)
      assert.equal(landed.searchParams.get('error'), 'too_many_attempts')
      await assertFailed(wv.connect_webview_id)
      // The right password no longer helps.
      await page.request.post(wv.url, {
        form: { provider: 'august', username: JANE, password: PASSWORD, action: 'login' },
        maxRedirects: 0,
      })
      await assertFailed(wv.connect_webview_id)
    } finally {
      await context.close()
    }
  })

  it('reconnecting the same login updates the same connected account and devices', async () => {
    const first = await createWebview({ accepted_providers: ['nuki'] })
    const second = await createWebview({ accepted_providers: ['nuki'] })
    const { context, page } = await openPage(browser)
    try {
      await page.goto(first.url)
      await login(page, JANE, PASSWORD)
      await waitForHeading(page, /Connected/)
      await page.goto(second.url)
      await login(page, JANE, PASSWORD)
      await waitForHeading(page, /Connected/)
      const a = await assertAuthorized(first.connect_webview_id, 'nuki')
      const b = await assertAuthorized(second.connect_webview_id, 'nuki')
      assert.equal(b.connected_account_id, a.connected_account_id, 'same connected account')
      const devices = await seam.devices.list({ connected_account_id: a.connected_account_id })
      assert.equal(devices.length, 2, 'still 2 devices, not 4')
    } finally {
      await context.close()
    }
  })
})

describe('accessibility and independence', { timeout: TEST_MS }, () => {
  it('works with the keyboard only: Tab, Enter and typing, ending authorized', async () => {
    const wv = await createWebview({ accepted_providers: ['august', 'yale'] })
    const { context, page } = await openPage(browser)
    const focused = () =>
      page.evaluate(() => {
        const el = document.activeElement
        return el && el !== document.body
          ? { tag: el.tagName.toLowerCase(), id: el.id, name: el.getAttribute('name'), value: el.getAttribute('value') }
          : null
      })
    try {
      await page.goto(wv.url)
      assert.equal(await heading(page), 'Connect an account')
      // Tab through the page until the yale button has the focus.
      let reached = false
      const seen = []
      for (let i = 0; i < 25 && !reached; i++) {
        await page.keyboard.press('Tab')
        const f = await focused()
        seen.push(f && `${f.tag}[${f.name ?? ''}=${f.value ?? ''}]`)
        reached = f?.tag === 'button' && f.name === 'provider' && f.value === 'yale'
      }
      assert.ok(reached, `Tab reaches the yale button; focus went through: ${seen.join(' ')}`)
      await screenshot(page, 'keyboard-picker-focus-yale')
      await submit(page, () => page.keyboard.press('Enter'))
      assert.match(await waitForHeading(page, /Sign in to/), /^Sign in to Yale$/i)

      // autofocus puts the caret in the email field.
      await page.waitForFunction(() => document.activeElement?.id === 'username')
      await page.keyboard.type(JANE)
      await page.keyboard.press('Tab')
      assert.equal((await focused())?.id, 'password', 'Tab goes from email to password')
      await page.keyboard.type(PASSWORD)
      await screenshot(page, 'keyboard-login-filled')
      const res = await submit(page, () => page.keyboard.press('Enter'))
      assert.equal(res.status(), 200)
      assert.equal(await waitForHeading(page, /Connected/), 'Connected')
      await screenshot(page, 'keyboard-connected')
      await assertAuthorized(wv.connect_webview_id, 'yale')
    } finally {
      await context.close()
    }
  })

  it('the Connect and Cancel buttons are reachable with Tab, Connect first', async () => {
    const wv = await createWebview({ accepted_providers: ['schlage'] })
    const { context, page } = await openPage(browser)
    try {
      await page.goto(wv.url)
      await page.waitForFunction(() => document.activeElement?.id === 'username')
      const order = []
      for (let i = 0; i < 25; i++) {
        await page.keyboard.press('Tab')
        const v = await page.evaluate(() => {
          const el = document.activeElement
          return el?.tagName === 'BUTTON' ? el.value : el?.id || el?.tagName
        })
        order.push(v)
        if (v === 'cancel') break
      }
      const iLogin = order.indexOf('login')
      const iCancel = order.indexOf('cancel')
      assert.ok(order[0] === 'password', `password follows email: ${order.join(' ')}`)
      assert.ok(iLogin >= 0 && iCancel > iLogin, `Connect then Cancel in tab order: ${order.join(' ')}`)
      // Enter on the focused Cancel button cancels.
      const res = await submit(page, () => page.keyboard.press('Enter'))
      assert.equal(res.status(), 200)
      assert.equal(await waitForHeading(page, /Not connected/), 'Not connected')
      await assertFailed(wv.connect_webview_id)
    } finally {
      await context.close()
    }
  })

  it('works with JavaScript disabled', async () => {
    const wv = await createWebview({ accepted_providers: ['august', 'schlage'] })
    const { context, page } = await openPage(browser, { javaScriptEnabled: false })
    try {
      const res = await page.goto(wv.url)
      assert.equal(res.status(), 200)
      await screenshot(page, 'nojs-picker')
      assert.equal(await heading(page), 'Connect an account')
      await submit(page, () => page.locator('button[name="provider"][value="schlage"]').click())
      assert.match(await waitForHeading(page, /Sign in to/), /^Sign in to Schlage$/i)
      await screenshot(page, 'nojs-login')
      await login(page, JANE, 'nope')
      await page.getByRole('alert').waitFor()
      await screenshot(page, 'nojs-wrong-password')
      assert.equal(await page.locator('#username').inputValue(), JANE)
      await login(page, JANE, PASSWORD)
      assert.equal(await waitForHeading(page, /Connected/), 'Connected')
      await screenshot(page, 'nojs-connected')
      await assertAuthorized(wv.connect_webview_id, 'schlage')
    } finally {
      await context.close()
    }
  })

  it('loads no third-party assets: every request goes to latchkey or the redirect target', async () => {
    const wv = await createWebview({
      accepted_providers: ['yale', 'ecobee'],
      custom_redirect_url: target.url('/assets-done'),
    })
    const { context, page, requests, responses } = await openPage(browser)
    try {
      await page.goto(wv.url)
      await page.waitForLoadState('networkidle')
      await submit(page, () => page.locator('button[name="provider"][value="ecobee"]').click())
      await page.locator('#username').waitFor()
      await page.waitForLoadState('networkidle')
      await login(page, JANE, 'wrong')
      await page.getByRole('alert').waitFor()
      await page.waitForLoadState('networkidle')
      await login(page, JANE, PASSWORD)
      await page.waitForURL((u) => u.origin === target.origin && u.pathname === '/assets-done')
      await page.waitForLoadState('networkidle')
      await screenshot(page, 'assets-done')
      await assertAuthorized(wv.connect_webview_id, 'ecobee')

      assert.ok(requests.length >= 5, `requests were recorded: ${requests.length}`)
      const allowed = new Set([server.url, target.origin])
      const foreign = requests.filter((r) => {
        if (/^(data|blob|about):/.test(r.url)) return false
        return !allowed.has(new URL(r.url).origin)
      })
      assert.deepEqual(
        foreign.map((r) => `${r.resourceType} ${r.url}`),
        [],
        'requests to other origins',
      )
      // The page's own assets (stylesheets, images, fonts, scripts) all load.
      const assetTypes = new Set(['stylesheet', 'image', 'font', 'script'])
      const assets = requests.filter(
        (r) => assetTypes.has(r.resourceType) && !/\/favicon\.ico$/.test(new URL(r.url).pathname),
      )
      for (const a of assets) {
        const r = responses.find((x) => x.url === a.url)
        assert.ok(r && r.status < 400, `asset ${a.url} loads (${r?.status})`)
      }
    } finally {
      await context.close()
    }
  })
})
