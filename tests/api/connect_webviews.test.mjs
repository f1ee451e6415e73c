// connect_webviews/create, get, list, delete and the webview page itself
// (docs/connect-webview.md): the provider picker, the login form, wrong
// passwords, too many tries, cancel, redirects, the sandbox logins of every
// provider, and the documented client-session walkthrough over plain HTTP.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertResponseMatchesSchema,
  assertOk,
  call,
  deviceIds,
  isUuid,
  sdkFromApiKey,
  sdkFromToken,
  sdkRejects,
  useServer,
  uniqueKey,
  getChecked,
} from './harness.mjs'
import {
  LOGINS,
  SANDBOX_PASSWORD,
  cancelWebview,
  completeWebview,
  connectAccount,
  isLoginForm,
  locationParams,
  newSandboxWorkspace,
  openWebview,
  pickerProviders,
  postWebview,
  tags,
  waitFor,
} from './webview_flow.mjs'

const srv = useServer({ args: ['--action-delay-ms', '200'] })

const AK = SEED.apiKey1
const LOCK_PROVIDERS = ['august', 'schlage', 'yale', 'nuki']
const DISPLAY = { august: /august/i, schlage: /schlage/i, yale: /yale/i, nuki: /nuki/i, ecobee: /ecobee/i }
const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/

async function create(body = {}, token = AK) {
  const res = await call(srv, '/connect_webviews/create', { token, body })
  const out = assertOk(res, 'connect_webview')
  assertResponseMatchesSchema('/connect_webviews/create', out)
  return out.connect_webview
}

async function getRaw(id, token = AK) {
  return call(srv, '/connect_webviews/get', {
    method: 'GET',
    token,
    query: { connect_webview_id: id },
  })
}

async function get(id, token = AK) {
  const query = { connect_webview_id: id }
  return (await getChecked(srv, '/connect_webviews/get', 'connect_webview', query, token))
    .connect_webview
}

const list = (query = {}, token = AK) =>
  getChecked(srv, '/connect_webviews/list', 'connect_webviews', query, token)

const ids = (webviews) => webviews.map((w) => w.connect_webview_id)

async function accountDevices(accountId, token = AK) {
  const res = await call(srv, '/devices/list', {
    method: 'GET',
    token,
    query: { connected_account_id: accountId },
  })
  return assertOk(res, 'devices').devices
}

describe('connect_webviews/create', () => {
  it('with an API key: a pending webview whose url is the page on latchkey', async () => {
    const wv = await create({
      accepted_providers: ['august', 'schlage'],
      custom_redirect_url: 'https://app.example.com/done',
      custom_redirect_failure_url: 'https://app.example.com/failed',
      custom_metadata: { tenant: 'acme', vip: true },
      device_selection_mode: 'multiple',
    })
    assert.ok(isUuid(wv.connect_webview_id), wv.connect_webview_id)
    assert.equal(wv.workspace_id, SEED.workspace1)
    assert.equal(wv.status, 'pending')
    assert.equal(wv.login_successful, false)
    assert.equal(wv.connected_account_id, null)
    assert.equal(wv.authorized_at, null)
    assert.equal(wv.selected_provider, null)
    assert.deepEqual([...wv.accepted_providers].sort(), ['august', 'schlage'])
    assert.equal(wv.custom_redirect_url, 'https://app.example.com/done')
    assert.equal(wv.custom_redirect_failure_url, 'https://app.example.com/failed')
    assert.deepEqual(wv.custom_metadata, { tenant: 'acme', vip: true })
    assert.equal(wv.device_selection_mode, 'multiple')
    assert.match(wv.created_at, ISO_MS)

    const url = new URL(wv.url)
    assert.equal(`${url.origin}${url.pathname}`, `${srv.url}/connect_webviews/view`)
    assert.equal(url.searchParams.get('connect_webview_id'), wv.connect_webview_id)
    const tokenParam = url.searchParams.get('auth_token')
    assert.ok(tokenParam && tokenParam.length >= 16, `auth_token too short: ${tokenParam}`)
  })

  it('two webviews get distinct ids and distinct auth tokens', async () => {
    const a = await create({ accepted_providers: ['august'] })
    const b = await create({ accepted_providers: ['august'] })
    assert.notEqual(a.connect_webview_id, b.connect_webview_id)
    assert.notEqual(
      new URL(a.url).searchParams.get('auth_token'),
      new URL(b.url).searchParams.get('auth_token'),
    )
  })

  it('without options: pending, no redirect urls, empty custom_metadata', async () => {
    const wv = await create({})
    assert.equal(wv.status, 'pending')
    assert.equal(wv.custom_redirect_url, null)
    assert.equal(wv.custom_redirect_failure_url, null)
    assert.deepEqual(wv.custom_metadata, {})
    assert.ok(['none', 'single', 'multiple'].includes(wv.device_selection_mode))
    assert.ok(Array.isArray(wv.accepted_providers))
  })

  it('through the SDK', async () => {
    const seam = sdkFromApiKey(srv, AK)
    const wv = await seam.connectWebviews.create({
      accepted_providers: ['yale'],
      custom_redirect_url: 'https://app.example.com/sdk',
    })
    assert.equal(wv.status, 'pending')
    assert.deepEqual(wv.accepted_providers, ['yale'])
    const again = await seam.connectWebviews.get({ connect_webview_id: wv.connect_webview_id })
    assert.deepEqual(again, wv)
  })

  it('an unknown provider in accepted_providers is invalid_input naming it', async () => {
    const res = await call(srv, '/connect_webviews/create', {
      token: AK,
      body: { accepted_providers: ['august', 'flux_capacitor_co'] },
    })
    assertInvalidInput(res, 'accepted_providers')
  })

  it('a custom_redirect_url that is not a URL is invalid_input naming it', async () => {
    const res = await call(srv, '/connect_webviews/create', {
      token: AK,
      body: { custom_redirect_url: 'not a url' },
    })
    assertInvalidInput(res, 'custom_redirect_url')
  })

  it('a bad device_selection_mode is invalid_input naming it', async () => {
    const res = await call(srv, '/connect_webviews/create', {
      token: AK,
      body: { device_selection_mode: 'all_of_them' },
    })
    assertInvalidInput(res, 'device_selection_mode')
  })

  it('with a client session token: the webview belongs to that session', async () => {
    const session = assertOk(
      await call(srv, '/client_sessions/create', {
        token: AK,
        body: { user_identifier_key: uniqueKey('cwv') },
      }),
      'client_session',
    ).client_session
    const wv = await create({ accepted_providers: ['august'] }, session.token)
    assert.equal(wv.workspace_id, SEED.workspace1)
    const mine = assertOk(
      await call(srv, '/client_sessions/get', { method: 'GET', token: session.token }),
      'client_session',
    ).client_session
    assert.ok(mine.connect_webview_ids.includes(wv.connect_webview_id), JSON.stringify(mine))
    // The session can read it back and sees it in its list.
    assert.equal((await get(wv.connect_webview_id, session.token)).connect_webview_id, wv.connect_webview_id)
    assert.deepEqual(ids((await list({}, session.token)).connect_webviews), [wv.connect_webview_id])
    // The SDK with the token does the same.
    const viaSdk = await sdkFromToken(srv, session.token).connectWebviews.create({
      accepted_providers: ['schlage'],
    })
    const again = assertOk(
      await call(srv, '/client_sessions/get', { method: 'GET', token: session.token }),
    ).client_session
    assert.ok(again.connect_webview_ids.includes(viaSdk.connect_webview_id))
  })
})

describe('connect_webviews/get', () => {
  it('by id with GET and POST, with an API key', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    assert.deepEqual(await get(wv.connect_webview_id), wv)
    const res = await call(srv, '/connect_webviews/get', {
      token: AK,
      body: { connect_webview_id: wv.connect_webview_id },
    })
    const out = assertOk(res, 'connect_webview')
    assertResponseMatchesSchema('/connect_webviews/get', out)
    assert.deepEqual(out.connect_webview, wv)
  })

  it('the seed webview is authorized and linked to john', async () => {
    const wv = await get(SEED.webview1)
    assert.equal(wv.status, 'authorized')
    assert.equal(wv.connected_account_id, SEED.johnAccount)
    // The seed token holds it.
    assert.equal((await get(SEED.webview1, SEED.cst1)).connect_webview_id, SEED.webview1)
  })

  it('an unknown id is 404 connect_webview_not_found', async () => {
    assertError(await getRaw('no_such_webview'), 404, 'connect_webview_not_found')
    assertError(
      await getRaw('00000000-0000-4000-8000-000000000000'),
      404,
      'connect_webview_not_found',
    )
  })

  it('a webview the session does not hold is 404 for its token', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    assertError(await getRaw(wv.connect_webview_id, SEED.cst1), 404, 'connect_webview_not_found')
    await sdkRejects(
      sdkFromToken(srv, SEED.cst1).connectWebviews.get({ connect_webview_id: wv.connect_webview_id }),
      404,
    )
  })

  it('without connect_webview_id is invalid_input', async () => {
    assertError(await call(srv, '/connect_webviews/get', { method: 'GET', token: AK }), 400, 'invalid_input')
  })
})

describe('connect_webviews/list', () => {
  it('with an API key: every webview of the workspace, the seed one included', async () => {
    const a = await create({ accepted_providers: ['nuki'] })
    const all = ids((await list()).connect_webviews)
    assert.ok(all.includes(SEED.webview1))
    assert.ok(all.includes(a.connect_webview_id))
    // Workspace 2 sees none of workspace 1's.
    const other = ids((await list({}, SEED.apiKey2)).connect_webviews)
    assert.ok(!other.includes(a.connect_webview_id))
    assert.ok(!other.includes(SEED.webview1))
  })

  it('with the seed token: only the seed webview', async () => {
    assert.deepEqual(ids((await list({}, SEED.cst1)).connect_webviews), [SEED.webview1])
  })

  it('user_identifier_key narrows to that user session; an unknown key gives nothing', async () => {
    const uik = uniqueKey('cwvlist')
    const wv = await create({ accepted_providers: ['august'] })
    assertOk(
      await call(srv, '/client_sessions/create', {
        token: AK,
        body: { user_identifier_key: uik, connect_webview_ids: [wv.connect_webview_id] },
      }),
    )
    assert.deepEqual(ids((await list({ user_identifier_key: uik })).connect_webviews), [
      wv.connect_webview_id,
    ])
    assert.deepEqual(ids((await list({ user_identifier_key: SEED.johnKey })).connect_webviews), [
      SEED.webview1,
    ])
    assert.deepEqual((await list({ user_identifier_key: uniqueKey('nobody') })).connect_webviews, [])
    const viaSdk = await sdkFromApiKey(srv, AK).connectWebviews.list({ user_identifier_key: uik })
    assert.deepEqual(ids(viaSdk), [wv.connect_webview_id])
  })

  it('custom_metadata_has: the webviews whose metadata holds every pair', async () => {
    const ws = await newSandboxWorkspace(srv, 'Webview metadata')
    const a = await create({ accepted_providers: ['august'], custom_metadata: { flow: 'signup', beta: true } }, ws.apiKey)
    const b = await create({ accepted_providers: ['august'], custom_metadata: { flow: 'signup' } }, ws.apiKey)
    await create({ accepted_providers: ['august'], custom_metadata: { flow: 'settings' } }, ws.apiKey)
    const post = async (has) =>
      ids(
        assertOk(await call(srv, '/connect_webviews/list', { token: ws.apiKey, body: { custom_metadata_has: has } }))
          .connect_webviews,
      ).sort()
    assert.deepEqual(await post({ flow: 'signup' }), [a.connect_webview_id, b.connect_webview_id].sort())
    assert.deepEqual(await post({ flow: 'signup', beta: true }), [a.connect_webview_id])
    assert.deepEqual(await post({ flow: 'nope' }), [])
  })

  it('limit and page_cursor walk every webview once', async () => {
    const ws = await newSandboxWorkspace(srv, 'Webview pages')
    const made = []
    for (let i = 0; i < 3; i++) made.push((await create({ accepted_providers: ['august'] }, ws.apiKey)).connect_webview_id)
    const seen = []
    let cursor
    for (let hops = 0; hops < 10; hops++) {
      const out = await list({ limit: 2, ...(cursor ? { page_cursor: cursor } : {}) }, ws.apiKey)
      assert.ok(out.connect_webviews.length <= 2)
      seen.push(...ids(out.connect_webviews))
      if (!out.pagination.has_next_page) break
      cursor = out.pagination.next_page_cursor
    }
    assert.deepEqual([...seen].sort(), [...made].sort())
    assert.equal(new Set(seen).size, seen.length)
  })
})

describe('connect_webviews/delete', () => {
  it('with an API key: gone from get, list and the page', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    assertOk(await call(srv, '/connect_webviews/delete', { token: AK, body: { connect_webview_id: wv.connect_webview_id } }))
    assertError(await getRaw(wv.connect_webview_id), 404, 'connect_webview_not_found')
    assert.ok(!ids((await list()).connect_webviews).includes(wv.connect_webview_id))
    const page = await openWebview(wv.url)
    assert.equal(page.status, 404)
    assert.match(page.contentType, /^text\/html/)
    // Deleting again: 404.
    assertError(
      await call(srv, '/connect_webviews/delete', { token: AK, body: { connect_webview_id: wv.connect_webview_id } }),
      404,
      'connect_webview_not_found',
    )
  })

  it('DELETE with the id in the query, and through the SDK', async () => {
    const a = await create({ accepted_providers: ['august'] })
    assertOk(
      await call(srv, '/connect_webviews/delete', {
        method: 'DELETE',
        token: AK,
        query: { connect_webview_id: a.connect_webview_id },
      }),
    )
    assertError(await getRaw(a.connect_webview_id), 404)
    const b = await create({ accepted_providers: ['august'] })
    await sdkFromApiKey(srv, AK).connectWebviews.delete({ connect_webview_id: b.connect_webview_id })
    assertError(await getRaw(b.connect_webview_id), 404)
  })

  it('a client session token may not delete (403), even its own webview', async () => {
    const session = assertOk(
      await call(srv, '/client_sessions/create', { token: AK, body: { user_identifier_key: uniqueKey('del') } }),
    ).client_session
    const wv = await create({ accepted_providers: ['august'] }, session.token)
    assertError(
      await call(srv, '/connect_webviews/delete', {
        token: session.token,
        body: { connect_webview_id: wv.connect_webview_id },
      }),
      403,
    )
    assert.equal((await get(wv.connect_webview_id)).status, 'pending')
  })

  it('another workspace cannot delete it (404) and it stays', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    assertError(
      await call(srv, '/connect_webviews/delete', {
        token: SEED.apiKey2,
        body: { connect_webview_id: wv.connect_webview_id },
      }),
      404,
    )
    assert.deepEqual(await get(wv.connect_webview_id), wv)
  })

  it('a deleted webview leaves the sessions that held it', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    const uik = uniqueKey('held')
    assertOk(
      await call(srv, '/client_sessions/create', {
        token: AK,
        body: { user_identifier_key: uik, connect_webview_ids: [wv.connect_webview_id] },
      }),
    )
    assertOk(await call(srv, '/connect_webviews/delete', { token: AK, body: { connect_webview_id: wv.connect_webview_id } }))
    const s = assertOk(
      await call(srv, '/client_sessions/get', { method: 'GET', token: AK, query: { user_identifier_key: uik } }),
    ).client_session
    assert.ok(!s.connect_webview_ids.includes(wv.connect_webview_id), JSON.stringify(s))
  })
})

describe('the page: access', () => {
  it('with the right token: 200 HTML', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    const page = await openWebview(wv.url)
    assert.equal(page.status, 200, page.html.slice(0, 300))
    assert.match(page.contentType, /^text\/html/)
  })

  it('without the token, with a wrong one, or for an unknown webview: 404 HTML', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    const u = new URL(wv.url)
    const token = u.searchParams.get('auth_token')
    const noToken = new URL(u)
    noToken.searchParams.delete('auth_token')
    const wrong = new URL(u)
    wrong.searchParams.set('auth_token', `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`)
    const unknown = new URL(u)
    unknown.searchParams.set('connect_webview_id', '00000000-0000-4000-8000-000000000000')
    const noId = new URL(u)
    noId.searchParams.delete('connect_webview_id')
    // Another webview's token does not open this one.
    const other = await create({ accepted_providers: ['august'] })
    const swapped = new URL(u)
    swapped.searchParams.set('auth_token', new URL(other.url).searchParams.get('auth_token'))
    const upper = new URL(u)
    upper.searchParams.set('auth_token', token.toUpperCase() === token ? token.toLowerCase() : token.toUpperCase())
    const prefix = new URL(u)
    prefix.searchParams.set('auth_token', token.slice(0, 8))
    for (const bad of [noToken, wrong, unknown, noId, swapped, upper, prefix]) {
      const page = await openWebview(bad.href)
      assert.equal(page.status, 404, `${bad.href}: ${page.status}`)
      assert.match(page.contentType, /^text\/html/)
      // Posting a login there does nothing either.
      const post = await postWebview(bad.href, {
        provider: 'august',
        username: LOGINS.jane,
        password: SANDBOX_PASSWORD,
        action: 'login',
      })
      assert.equal(post.status, 404)
    }
    assert.equal((await get(wv.connect_webview_id)).status, 'pending')
  })

  it('uses no third-party assets', async () => {
    const wv = await create({ accepted_providers: ['august', 'schlage'] })
    for (const page of [await openWebview(wv.url), await postWebview(wv.url, { provider: 'august' })]) {
      for (const [tag, attr] of [
        ['script', 'src'],
        ['link', 'href'],
        ['img', 'src'],
        ['iframe', 'src'],
      ]) {
        for (const t of tags(page.html, tag)) {
          const v = t[attr]
          if (!v) continue
          const target = new URL(v, wv.url)
          assert.equal(target.origin, srv.url, `${tag} ${attr}=${v} is third-party`)
        }
      }
    }
  })
})

describe('the page: picker and login form', () => {
  it('several providers: a picker with exactly the accepted ones, in one POST form', async () => {
    const wv = await create({ accepted_providers: ['august', 'yale', 'ecobee'] })
    const page = await openWebview(wv.url)
    assert.equal(page.status, 200)
    assert.equal(page.heading, 'Connect an account')
    assert.deepEqual([...pickerProviders(page.html)].sort(), ['august', 'ecobee', 'yale'])
    for (const b of tags(page.html, 'button').filter((t) => t.name === 'provider')) {
      assert.equal(b.type ?? 'submit', 'submit')
    }
    const forms = tags(page.html, 'form')
    assert.ok(forms.length >= 1)
    assert.ok(forms.every((f) => (f.method ?? '').toLowerCase() === 'post'))
    assert.ok(!isLoginForm(page.html), 'the picker is not the login form')
  })

  it('one provider: the login form directly, as documented', async () => {
    const wv = await create({ accepted_providers: ['schlage'] })
    const page = await openWebview(wv.url)
    assert.equal(page.status, 200)
    assert.match(page.heading, /^Sign in to /)
    assert.match(page.heading, DISPLAY.schlage)
    const inputs = tags(page.html, 'input')
    const hidden = inputs.find((i) => i.name === 'provider')
    assert.ok(hidden, 'a hidden provider input')
    assert.equal(hidden.type, 'hidden')
    assert.equal(hidden.value, 'schlage')
    const user = inputs.find((i) => i.name === 'username')
    assert.equal(user.id, 'username')
    assert.equal(user.type, 'email')
    assert.equal(user.autocomplete, 'username')
    assert.ok('required' in user && 'autofocus' in user)
    const pass = inputs.find((i) => i.name === 'password')
    assert.equal(pass.id, 'password')
    assert.equal(pass.type, 'password')
    assert.equal(pass.autocomplete, 'current-password')
    assert.ok('required' in pass)
    const labels = tags(page.html, 'label').map((l) => l.for)
    assert.ok(labels.includes('username') && labels.includes('password'))
    assert.match(page.html, /<label[^>]*for="username"[^>]*>\s*Email\s*<\/label>/)
    assert.match(page.html, /<label[^>]*for="password"[^>]*>\s*Password\s*<\/label>/)
    const buttons = tags(page.html, 'button')
    const login = buttons.find((b) => b.name === 'action' && b.value === 'login')
    const cancel = buttons.find((b) => b.name === 'action' && b.value === 'cancel')
    assert.ok(login, 'a Connect button')
    assert.ok(cancel, 'a Cancel button')
    assert.ok('formnovalidate' in cancel, 'Cancel skips validation')
    assert.match(page.html, /<button[^>]*value="login"[^>]*>\s*Connect\s*<\/button>/)
    assert.match(page.html, /<button[^>]*value="cancel"[^>]*>\s*Cancel\s*<\/button>/)
    // A sandbox workspace lists the sandbox logins.
    for (const login of Object.values(LOGINS)) assert.ok(page.html.includes(login), login)
    // No picker link when only one provider is accepted: no provider buttons.
    assert.deepEqual(pickerProviders(page.html), [])
  })

  it('picking a provider shows its login form with a link back to the picker', async () => {
    const wv = await create({ accepted_providers: ['august', 'nuki'] })
    const page = await postWebview(wv.url, { provider: 'nuki' })
    assert.equal(page.status, 200)
    assert.match(page.heading, /^Sign in to /)
    assert.match(page.heading, DISPLAY.nuki)
    assert.ok(isLoginForm(page.html))
    assert.equal(tags(page.html, 'input').find((i) => i.name === 'provider')?.value, 'nuki')
    const back = tags(page.html, 'a').filter((a) => a.href)
    assert.ok(
      back.some((a) => {
        const target = new URL(a.href, wv.url)
        return target.searchParams.get('connect_webview_id') === wv.connect_webview_id
      }),
      `a link back to the picker: ${JSON.stringify(back)}`,
    )
    // Following the link shows the picker again.
    const link = back.find((a) => new URL(a.href, wv.url).searchParams.get('connect_webview_id'))
    const picker = await openWebview(new URL(link.href, wv.url).href)
    assert.equal(picker.heading, 'Connect an account')
  })

  it('a provider that is not accepted is not offered and is refused when posted', async () => {
    const wv = await create({ accepted_providers: ['august', 'yale'] })
    const picked = await postWebview(wv.url, { provider: 'schlage' })
    assert.ok(!(picked.status === 200 && isLoginForm(picked.html) && DISPLAY.schlage.test(picked.heading ?? '')),
      'no schlage login form')
    assert.notEqual(picked.status, 303)
    const login = await postWebview(wv.url, {
      provider: 'schlage',
      username: LOGINS.jane,
      password: SANDBOX_PASSWORD,
      action: 'login',
    })
    assert.notEqual(login.status, 303)
    assert.ok(!/<h1[^>]*>\s*Connected\s*<\/h1>/.test(login.html))
    const after = await get(wv.connect_webview_id)
    assert.equal(after.status, 'pending')
    assert.equal(after.connected_account_id, null)
    // A provider that does not exist at all is refused the same way.
    const bogus = await postWebview(wv.url, { provider: 'no_such_provider' })
    assert.notEqual(bogus.status, 303)
    assert.equal((await get(wv.connect_webview_id)).status, 'pending')
  })
})

describe('the page: logging in', () => {
  it('a wrong password shows the form again with the email kept and an alert; a retry works', async () => {
    const ws = await newSandboxWorkspace(srv, 'Wrong password')
    const wv = await create({ accepted_providers: ['august'] }, ws.apiKey)
    const wrong = await postWebview(wv.url, {
      provider: 'august',
      username: LOGINS.jane,
      password: 'nope',
      action: 'login',
    })
    assert.equal(wrong.status, 200)
    assert.ok(isLoginForm(wrong.html))
    assert.equal(tags(wrong.html, 'input').find((i) => i.name === 'username')?.value, LOGINS.jane)
    assert.match(wrong.html, /<p[^>]*role="alert"[^>]*class="error"|<p[^>]*class="error"[^>]*role="alert"/)
    assert.match(wrong.html, /email or password/i)
    assert.equal((await get(wv.connect_webview_id, ws.apiKey)).status, 'pending')
    // An unknown login with the sandbox password is wrong too.
    const unknown = await postWebview(wv.url, {
      provider: 'august',
      username: 'mallory@example.com',
      password: SANDBOX_PASSWORD,
      action: 'login',
    })
    assert.equal(unknown.status, 200)
    assert.match(unknown.html, /role="alert"/)
    // The right password now works.
    const ok = await postWebview(wv.url, {
      provider: 'august',
      username: LOGINS.jane,
      password: SANDBOX_PASSWORD,
      action: 'login',
    })
    assert.equal(ok.status, 200)
    assert.equal(ok.heading, 'Connected')
    assert.equal((await get(wv.connect_webview_id, ws.apiKey)).status, 'authorized')
  })

  it('what the user typed is escaped when the form comes back', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    const evil = '"><script>alert(1)</script><input name="x'
    const page = await postWebview(wv.url, {
      provider: 'august',
      username: evil,
      password: 'wrong',
      action: 'login',
    })
    assert.equal(page.status, 200)
    assert.ok(!page.html.includes('<script>alert(1)</script>'), 'the email is not echoed raw')
    assert.equal(tags(page.html, 'script').length, 0)
    assert.equal(tags(page.html, 'input').filter((i) => i.name === 'x').length, 0)
    // The value round-trips intact through the attribute.
    assert.equal(tags(page.html, 'input').find((i) => i.name === 'username')?.value, evil)
    // A provider value that is not ours is not echoed raw either.
    const bogus = await postWebview(wv.url, { provider: '<b>bold</b>' })
    assert.ok(!bogus.html.includes('<b>bold</b>'))
  })

  it('a redirect url with a line break cannot inject headers', async () => {
    const res = await call(srv, '/connect_webviews/create', {
      token: AK,
      body: {
        accepted_providers: ['august'],
        custom_redirect_url: 'https://app.example.com/ok\r\nSet-Cookie: pwned=1',
      },
    })
    if (res.status === 400) {
      assertInvalidInput(res, 'custom_redirect_url')
      return
    }
    const wv = assertOk(res, 'connect_webview').connect_webview
    const final = await completeWebview(wv.url, { provider: 'august', username: LOGINS.offline })
    assert.equal(final.headers.get('set-cookie'), null)
    if (final.location) assert.ok(!/[\r\n]/.test(final.location))
  })

  it('success without a redirect: authorized with its account, and a Connected page', async () => {
    const ws = await newSandboxWorkspace(srv, 'Success page')
    const before = await create({ accepted_providers: ['august'] }, ws.apiKey)
    const final = await completeWebview(before.url, { provider: 'august', username: LOGINS.jane })
    assert.equal(final.status, 200, final.html.slice(0, 500))
    assert.equal(final.heading, 'Connected')
    assert.match(final.html, DISPLAY.august)
    assert.match(final.html.replace(/<[^>]*>/g, ' '), /\b2\b/, 'names the number of devices (2)')
    const wv = await get(before.connect_webview_id, ws.apiKey)
    assert.equal(wv.status, 'authorized')
    assert.equal(wv.login_successful, true)
    assert.equal(wv.selected_provider, 'august')
    assert.ok(isUuid(wv.connected_account_id), wv.connected_account_id)
    assert.match(wv.authorized_at, ISO_MS)
    assert.ok(Date.parse(wv.authorized_at) >= Date.parse(wv.created_at))
    // Everything else is as created.
    for (const k of ['connect_webview_id', 'url', 'created_at', 'accepted_providers', 'custom_metadata', 'workspace_id']) {
      assert.deepEqual(wv[k], before[k], k)
    }
    // The account and its two locks exist.
    const acct = assertOk(
      await call(srv, '/connected_accounts/get', {
        method: 'GET',
        token: ws.apiKey,
        query: { connected_account_id: wv.connected_account_id },
      }),
      'connected_account',
    ).connected_account
    assert.equal(acct.connected_account_id, wv.connected_account_id)
    const devices = await accountDevices(wv.connected_account_id, ws.apiKey)
    assert.equal(devices.length, 2)
    for (const d of devices) {
      assert.equal(d.device_type, 'august_lock')
      assert.equal(d.workspace_id, ws.workspace_id)
    }
  })

  it('success with custom_redirect_url: 303 there with the webview and account ids added', async () => {
    const ws = await newSandboxWorkspace(srv, 'Redirect')
    const wv = await create(
      {
        accepted_providers: ['yale'],
        custom_redirect_url: 'https://app.example.com/connected?tenant=acme',
        custom_redirect_failure_url: 'https://app.example.com/failed',
      },
      ws.apiKey,
    )
    const final = await completeWebview(wv.url, { provider: 'yale', username: LOGINS.john })
    assert.equal(final.status, 303, final.html.slice(0, 300))
    const loc = new URL(final.location)
    assert.equal(`${loc.origin}${loc.pathname}`, 'https://app.example.com/connected')
    const after = await get(wv.connect_webview_id, ws.apiKey)
    assert.deepEqual(locationParams(final.location), {
      tenant: 'acme',
      connect_webview_id: wv.connect_webview_id,
      connected_account_id: after.connected_account_id,
    })
    assert.equal(after.status, 'authorized')
    // Opening it again redirects the same way.
    const reopened = await openWebview(wv.url)
    assert.equal(reopened.status, 303)
    assert.deepEqual(locationParams(reopened.location), locationParams(final.location))
  })

  it('reopening an authorized webview without a redirect shows the success page', async () => {
    const ws = await newSandboxWorkspace(srv, 'Reopen')
    const wv = await create({ accepted_providers: ['nuki'] }, ws.apiKey)
    await completeWebview(wv.url, { provider: 'nuki', username: LOGINS.jane })
    const again = await openWebview(wv.url)
    assert.equal(again.status, 200)
    assert.equal(again.heading, 'Connected')
    assert.ok(!isLoginForm(again.html))
  })

  it('a thermostat provider (ecobee) connects too', async () => {
    const ws = await newSandboxWorkspace(srv, 'Thermostats')
    const { connected_account_id } = await connectAccount(srv, ws.apiKey, {
      provider: 'ecobee',
      username: LOGINS.jane,
    })
    const devices = await accountDevices(connected_account_id, ws.apiKey)
    assert.equal(devices.length, 2)
    for (const d of devices) assert.equal(d.device_type, 'ecobee_thermostat')
  })
})

describe('the page: cancel and too many tries', () => {
  it('cancel with a failure url: 303 there with error=user_cancelled; the webview failed', async () => {
    const wv = await create({
      accepted_providers: ['august', 'schlage'],
      custom_redirect_url: 'https://app.example.com/ok',
      custom_redirect_failure_url: 'https://app.example.com/failed?from=latchkey',
    })
    const final = await cancelWebview(wv.url, { provider: 'schlage' })
    assert.equal(final.status, 303, final.html.slice(0, 300))
    const loc = new URL(final.location)
    assert.equal(`${loc.origin}${loc.pathname}`, 'https://app.example.com/failed')
    assert.deepEqual(locationParams(final.location), {
      from: 'latchkey',
      connect_webview_id: wv.connect_webview_id,
      error: 'user_cancelled',
    })
    const after = await get(wv.connect_webview_id)
    assert.equal(after.status, 'failed')
    assert.equal(after.login_successful, false)
    assert.equal(after.connected_account_id, null)
    assert.equal(after.authorized_at, null)
    // Reopening redirects to the failure again; logging in afterwards does not connect.
    const reopened = await openWebview(wv.url)
    assert.equal(reopened.status, 303)
    assert.equal(locationParams(reopened.location).error, 'user_cancelled')
    await postWebview(wv.url, {
      provider: 'schlage',
      username: LOGINS.jane,
      password: SANDBOX_PASSWORD,
      action: 'login',
    })
    assert.equal((await get(wv.connect_webview_id)).status, 'failed')
  })

  it('cancel with only custom_redirect_url: 303 to it with the error', async () => {
    const wv = await create({
      accepted_providers: ['august'],
      custom_redirect_url: 'https://app.example.com/back',
    })
    const final = await cancelWebview(wv.url)
    assert.equal(final.status, 303)
    const loc = new URL(final.location)
    assert.equal(`${loc.origin}${loc.pathname}`, 'https://app.example.com/back')
    assert.deepEqual(locationParams(final.location), {
      connect_webview_id: wv.connect_webview_id,
      error: 'user_cancelled',
    })
  })

  it('cancel without any redirect url: a Not connected page, and again on reopening', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    const final = await cancelWebview(wv.url)
    assert.equal(final.status, 200)
    assert.equal(final.heading, 'Not connected')
    assert.equal((await get(wv.connect_webview_id)).status, 'failed')
    const again = await openWebview(wv.url)
    assert.equal(again.status, 200)
    assert.equal(again.heading, 'Not connected')
  })

  it('five wrong passwords fail the webview with too_many_attempts', async () => {
    const wv = await create({
      accepted_providers: ['august'],
      custom_redirect_failure_url: 'https://app.example.com/failed',
    })
    const tries = []
    for (let i = 0; i < 5; i++) {
      tries.push(
        await postWebview(wv.url, {
          provider: 'august',
          username: LOGINS.jane,
          password: `wrong${i}`,
          action: 'login',
        }),
      )
    }
    for (const t of tries.slice(0, 4)) {
      assert.equal(t.status, 200)
      assert.match(t.html, /role="alert"/)
    }
    const last = tries[4]
    assert.equal(last.status, 303, `the fifth wrong try fails the webview: ${last.status}`)
    assert.deepEqual(locationParams(last.location), {
      connect_webview_id: wv.connect_webview_id,
      error: 'too_many_attempts',
    })
    assert.equal((await get(wv.connect_webview_id)).status, 'failed')
    // The right password no longer helps.
    await postWebview(wv.url, {
      provider: 'august',
      username: LOGINS.jane,
      password: SANDBOX_PASSWORD,
      action: 'login',
    })
    const after = await get(wv.connect_webview_id)
    assert.equal(after.status, 'failed')
    assert.equal(after.connected_account_id, null)
  })

  it('five wrong passwords without redirect urls: the Not connected page', async () => {
    const wv = await create({ accepted_providers: ['august'] })
    let last
    for (let i = 0; i < 5; i++) {
      last = await postWebview(wv.url, {
        provider: 'august',
        username: LOGINS.john,
        password: 'x',
        action: 'login',
      })
    }
    assert.equal(last.status, 200)
    assert.equal(last.heading, 'Not connected')
    assert.equal((await get(wv.connect_webview_id)).status, 'failed')
  })
})

describe('sandbox logins of every provider', () => {
  for (const provider of LOCK_PROVIDERS) {
    it(`${provider}: jane 2 online locks, john 3 locks (one unlocked), offline 1 online + 1 offline`, async () => {
      const ws = await newSandboxWorkspace(srv, `Logins ${provider}`)
      const jane = await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.jane })
      const janeDevices = await accountDevices(jane.connected_account_id, ws.apiKey)
      assert.equal(janeDevices.length, 2)
      for (const d of janeDevices) {
        assert.equal(d.device_type, `${provider}_lock`)
        assert.equal(d.properties.online, true)
        assert.equal(d.can_remotely_lock, true)
        assert.equal(d.can_remotely_unlock, true)
        assert.equal(typeof d.properties.locked, 'boolean')
      }
      const john = await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.john })
      assert.notEqual(john.connected_account_id, jane.connected_account_id)
      const johnDevices = await accountDevices(john.connected_account_id, ws.apiKey)
      assert.equal(johnDevices.length, 3)
      assert.equal(johnDevices.filter((d) => d.properties.locked === false).length, 1)
      const off = await connectAccount(srv, ws.apiKey, { provider, username: LOGINS.offline })
      const offDevices = await accountDevices(off.connected_account_id, ws.apiKey)
      assert.equal(offDevices.length, 2)
      assert.deepEqual(offDevices.map((d) => d.properties.online).sort(), [false, true])
    })
  }

  it('ecobee: john 1 thermostat, offline 1 offline thermostat', async () => {
    const ws = await newSandboxWorkspace(srv, 'Logins ecobee')
    const john = await connectAccount(srv, ws.apiKey, { provider: 'ecobee', username: LOGINS.john })
    const jd = await accountDevices(john.connected_account_id, ws.apiKey)
    assert.equal(jd.length, 1)
    assert.equal(jd[0].device_type, 'ecobee_thermostat')
    const off = await connectAccount(srv, ws.apiKey, { provider: 'ecobee', username: LOGINS.offline })
    const od = await accountDevices(off.connected_account_id, ws.apiKey)
    assert.equal(od.length, 1)
    assert.equal(od[0].properties.online, false)
  })

  it('any password other than 1234 fails for every login', async () => {
    const wv = await create({ accepted_providers: ['yale'] })
    for (const username of Object.values(LOGINS)) {
      for (const password of ['12345', '123', 'password', ' 1234']) {
        const page = await postWebview(wv.url, { provider: 'yale', username, password, action: 'login' })
        if (page.status === 303 || page.heading === 'Not connected') break // too many tries: fine
        assert.equal(page.status, 200)
        assert.notEqual(page.heading, 'Connected', `${username}/${password} must not log in`)
      }
    }
    assert.notEqual((await get(wv.connect_webview_id)).status, 'authorized')
  })

  it('reconnecting the same login updates the same account (same id, same devices)', async () => {
    const ws = await newSandboxWorkspace(srv, 'Reconnect')
    const first = await connectAccount(srv, ws.apiKey, { provider: 'schlage', username: LOGINS.john })
    const firstDevices = deviceIds({ devices: await accountDevices(first.connected_account_id, ws.apiKey) }).sort()
    const second = await connectAccount(srv, ws.apiKey, { provider: 'schlage', username: LOGINS.john })
    assert.equal(second.connected_account_id, first.connected_account_id)
    const secondDevices = deviceIds({ devices: await accountDevices(second.connected_account_id, ws.apiKey) }).sort()
    assert.deepEqual(secondDevices, firstDevices)
    const all = assertOk(await call(srv, '/devices/list', { method: 'GET', token: ws.apiKey })).devices
    assert.equal(all.length, 3, 'no duplicate devices')
  })
})

describe('the client-session walkthrough (README), over plain HTTP', () => {
  it('session → webview → grant_access → complete → list by user_identifier_key → unlock → unlocked', async () => {
    const ws = await newSandboxWorkspace(srv, 'Walkthrough')
    const seam = sdkFromApiKey(srv, ws.apiKey)
    const uik = uniqueKey('walk')
    const session = await seam.clientSessions.getOrCreate({ user_identifier_key: uik })
    // Another user in the same workspace connected something else first.
    await connectAccount(srv, ws.apiKey, { provider: 'august', username: LOGINS.offline })

    const wv = await seam.connectWebviews.create({
      accepted_providers: ['august', 'schlage'],
      custom_redirect_url: 'https://app.example.com/connected',
    })
    await seam.clientSessions.grantAccess({
      client_session_id: session.client_session_id,
      connect_webview_ids: [wv.connect_webview_id],
    })
    const final = await completeWebview(wv.url, { provider: 'schlage', username: LOGINS.john })
    assert.equal(final.status, 303)
    const { connected_account_id } = locationParams(final.location)

    const mine = await seam.devices.list({ user_identifier_key: uik })
    assert.equal(mine.length, 3)
    for (const d of mine) assert.equal(d.connected_account_id, connected_account_id)
    // The token sees the same devices.
    const client = sdkFromToken(srv, session.token)
    assert.deepEqual(
      (await client.devices.list()).map((d) => d.device_id).sort(),
      mine.map((d) => d.device_id).sort(),
    )
    const s = await seam.clientSessions.get({ client_session_id: session.client_session_id })
    assert.equal(s.device_count, 3)
    assert.ok(s.connected_account_ids.includes(connected_account_id))

    const locked = mine.find((d) => d.properties.locked === true)
    const narrowed = await seam.devices.list({
      user_identifier_key: uik,
      device_ids: [locked.device_id],
    })
    assert.deepEqual(
      narrowed.map((d) => d.device_id),
      [locked.device_id],
    )
    const attempt = await client.locks.unlockDoor({ device_id: locked.device_id })
    assert.equal(attempt.status, 'success')
    assert.equal(attempt.action_type, 'UNLOCK_DOOR')
    await waitFor(async () => {
      const d = await seam.devices.get({ device_id: locked.device_id })
      return d.properties.locked === false
    }, { what: 'the lock to read unlocked' })
  })
})
