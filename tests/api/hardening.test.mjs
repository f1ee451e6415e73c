// Defects found by attacking latchkey, kept closed: a publishable key cannot
// revive or extend a session, invalid UTF-8 still gets the error shape,
// concurrent metadata updates lose nothing and the key limit holds for the
// merged result, a webview ends exactly once, search matches `%` and `_`
// literally, the request log cannot be forged, every stored string and list
// has a bound.
import assert from 'node:assert/strict'
import net from 'node:net'
import { describe, test } from 'node:test'

import {
  SEED,
  assertError,
  assertInvalidInput,
  assertOk,
  call,
  createSession,
  rawRequest,
  revokeSession,
  sdkFromApiKey,
  sdkFromPublishableKey,
  sdkRejects,
  sleep,
  stderrWhen,
  uniqueKey,
  useServer,
} from './harness.mjs'
import { LOGINS, SANDBOX_PASSWORD, heading, postWebview, reachLoginForm } from './webview_flow.mjs'

const server = useServer()
const AK = SEED.apiKey1
const pkHeaders = (uik) => ({
  'seam-publishable-key': SEED.publishableKey1,
  ...(uik ? { 'seam-user-identifier-key': uik } : {}),
})
const pkGetOrCreate = (uik, body = {}) =>
  call(server, '/client_sessions/get_or_create', { headers: pkHeaders(uik), body })

describe('a publishable key never revives or extends a session', () => {
  test('a revoked session stays revoked: the repro of the report', async () => {
    // The seed's own session, john's, revoked with the API key.
    await revokeSession(server, AK, SEED.session1)
    assertError(await pkGetOrCreate(SEED.johnKey), 403, 'client_session_revoked')
    await sdkRejects(
      sdkFromPublishableKey(server, SEED.publishableKey1, SEED.johnKey),
      403,
      'client_session_revoked',
    )
    assertError(await call(server, '/devices/list', { token: SEED.cst1 }), 401, 'client_session_revoked')
    // The API key may say otherwise: a fresh token that keeps john's grants.
    const seam = sdkFromApiKey(server, AK)
    const revived = await seam.clientSessions.getOrCreate({ user_identifier_key: SEED.johnKey })
    assert.notEqual(revived.token, SEED.cst1)
    assert.deepEqual(revived.connected_account_ids, [SEED.johnAccount])
  })

  test('an expired session stays expired', async () => {
    const uik = uniqueKey('expiring')
    const expiresAt = new Date(Date.now() + 1500).toISOString()
    await createSession(server, AK, {
      user_identifier_key: uik,
      connected_account_ids: [SEED.johnAccount],
      expires_at: expiresAt,
    })
    await sleep(2000)
    assertError(await pkGetOrCreate(uik), 403, 'client_session_expired')
    const listed = assertOk(
      await call(server, '/client_sessions/get', { token: AK, body: { user_identifier_key: uik } }),
    ).client_session
    assert.equal(listed.expires_at, expiresAt, 'the publishable key moved the expiry')
  })

  test('a live session is returned as it is: no new expiry, customer key or grants', async () => {
    const uik = uniqueKey('live')
    const made = await createSession(server, AK, { user_identifier_key: uik })
    for (const body of [
      { expires_at: '2099-01-01T00:00:00.000Z' },
      { connected_account_ids: [SEED.janeAccount] },
    ]) {
      assertError(await pkGetOrCreate(uik, body), 403, 'publishable_keys_must_create_empty_client_sessions')
    }
    assertError(
      await call(server, '/client_sessions/create', {
        headers: pkHeaders(uniqueKey('pk')),
        body: { customer_key: 'customer_1' },
      }),
      403,
      'publishable_keys_must_create_empty_client_sessions',
    )
    const again = assertOk(await pkGetOrCreate(uik)).client_session
    assert.equal(again.client_session_id, made.client_session_id)
    assert.equal(again.token, made.token)
    assert.equal(again.expires_at, made.expires_at)
  })
})

describe('invalid UTF-8 gets the error shape', () => {
  for (const [what, head] of [
    ['a parameter value', 'GET /devices/list?device_type=%ff HTTP/1.1'],
    ['a parameter name', 'GET /devices/list?%ff=1 HTTP/1.1'],
    ['a path', 'GET /devices/%ff HTTP/1.1'],
  ]) {
    test(`in ${what}`, async () => {
      const res = await rawRequest(
        server,
        `${head}\r\nHost: x\r\nAuthorization: Bearer ${AK}\r\nConnection: close`,
      )
      assert.equal(res.status, 400)
      assert.equal(res.body?.ok, false, res.text)
      assert.equal(res.body.error.type, 'invalid_input')
      assert.match(res.body.error.message, /not valid UTF-8/)
    })
  }

  test('in a form field of the connect webview page', async () => {
    const cw = assertOk(
      await call(server, '/connect_webviews/create', { token: AK, body: { accepted_providers: ['august'] } }),
    ).connect_webview
    const res = await call(server, new URL(cw.url).pathname + new URL(cw.url).search, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      rawBody: 'provider=august&action=login&username=%ff&password=1234',
    })
    assertError(res, 400, 'invalid_input')
    assert.match(res.body.error.message, /'username' is not valid UTF-8/)
  })

  test('in the seam-user-identifier-key header: refused, not stored', async () => {
    // Latin-1 on the wire: the byte 0xff alone is not UTF-8.
    const res = await rawRequestBytes(
      Buffer.concat([
        Buffer.from(
          'POST /client_sessions/get_or_create HTTP/1.1\r\nHost: x\r\nConnection: close\r\n' +
            `seam-publishable-key: ${SEED.publishableKey1}\r\nContent-Length: 0\r\n` +
            'seam-user-identifier-key: user_',
        ),
        Buffer.from([0xff]),
        Buffer.from('\r\n\r\n'),
      ]),
    )
    assert.equal(res.status, 400, res.text)
    assert.equal(JSON.parse(res.text.slice(res.text.indexOf('{'))).error.type, 'invalid_input')
    const all = assertOk(await call(server, '/client_sessions/list', { token: AK, body: {} }))
    for (const cs of all.client_sessions) assert.ok(!cs.user_identifier_key?.startsWith('user_\ufffd'))
  })
})

/** Sends raw bytes and resolves { status, text } once the server closes. */
function rawRequestBytes(bytes) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(server.port, '127.0.0.1', () => sock.write(bytes))
    const chunks = []
    sock.on('data', (d) => chunks.push(d))
    sock.on('error', reject)
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8')
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text })
    })
  })
}

describe('custom_metadata', () => {
  const update = (body) => call(server, '/devices/update', { token: AK, body })
  const metadataOf = async (deviceId) =>
    assertOk(await call(server, '/devices/get', { token: AK, body: { device_id: deviceId } })).device
      .custom_metadata

  test('50 concurrent updates of different keys keep every key (5 rounds)', async () => {
    const device = 'august_device_2'
    const keys = Array.from({ length: 50 }, (_, i) => `k${i}`)
    for (let round = 0; round < 5; round++) {
      const results = await Promise.all(
        keys.map((k) => update({ device_id: device, custom_metadata: { [k]: `v${round}` } })),
      )
      for (const r of results) assertOk(r)
      const md = await metadataOf(device)
      for (const k of keys) assert.equal(md[k], `v${round}`, `round ${round}: key ${k} was lost`)
      // Removed again, all at once: the next round starts from nothing.
      assertOk(
        await update({
          device_id: device,
          custom_metadata: Object.fromEntries(keys.map((k) => [k, null])),
        }),
      )
    }
  })

  test('the 50-key limit holds for the merged result', async () => {
    const device = 'august_device_1'
    const keys = (from, n) =>
      Object.fromEntries(Array.from({ length: n }, (_, i) => [`m${from + i}`, 'x']))
    assertOk(await update({ device_id: device, custom_metadata: keys(0, 30) }))
    assertInvalidInput(await update({ device_id: device, custom_metadata: keys(30, 30) }), 'custom_metadata')
    assert.equal(Object.keys(await metadataOf(device)).length, 30, 'the refused update changed nothing')
    // Removing keys makes room in the same update.
    const swap = { ...keys(30, 20), ...Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`m${i}`, null])) }
    assertOk(await update({ device_id: device, custom_metadata: swap }))
    assert.equal(Object.keys(await metadataOf(device)).length, 40)
  })

  test('500 characters are counted as characters, not bytes', async () => {
    const device = 'ecobee_device_1'
    assertOk(await update({ device_id: device, custom_metadata: { accents: 'é'.repeat(500) } }))
    assert.equal((await metadataOf(device)).accents.length, 500)
    assertInvalidInput(await update({ device_id: device, custom_metadata: { accents: 'é'.repeat(501) } }), 'custom_metadata')
    // As JavaScript counts them: an emoji is two.
    assertOk(await update({ device_id: device, custom_metadata: { emoji: '🔑'.repeat(250) } }))
    assertInvalidInput(await update({ device_id: device, custom_metadata: { emoji: '🔑'.repeat(251) } }), 'custom_metadata')
  })
})

describe('a connect webview ends once', () => {
  test('completed in one tab and cancelled in another at the same moment: one outcome, shown to both', async () => {
    const rounds = 200
    let authorized = 0
    for (let i = 0; i < rounds; i++) {
      const cw = assertOk(
        await call(server, '/connect_webviews/create', {
          token: AK,
          body: { accepted_providers: ['august'] },
        }),
      ).connect_webview
      // Both tabs at the login form, then both submit at once.
      await reachLoginForm(cw.url, 'august')
      const [done, cancelled] = await Promise.all([
        postWebview(cw.url, { provider: 'august', username: LOGINS.jane, password: SANDBOX_PASSWORD, action: 'login' }),
        postWebview(cw.url, { provider: 'august', action: 'cancel' }),
      ])
      const after = assertOk(
        await call(server, '/connect_webviews/get', {
          token: AK,
          body: { connect_webview_id: cw.connect_webview_id },
        }),
      ).connect_webview
      const pages = [heading(done.html), heading(cancelled.html)]
      if (after.status === 'authorized') {
        authorized++
        assert.ok(after.connected_account_id, 'authorized without an account')
        assert.deepEqual(pages, ['Connected', 'Connected'], `round ${i}: ${pages}`)
      } else {
        assert.equal(after.status, 'failed')
        assert.equal(after.connected_account_id ?? null, null)
        assert.deepEqual(pages, ['Not connected', 'Not connected'], `round ${i}: ${pages}`)
      }
    }
    assert.ok(authorized <= rounds)
  })
})

describe('search', () => {
  test('% and _ match only themselves', async () => {
    const token = AK
    assertOk(await call(server, '/devices/update', { token, body: { device_id: 'minut_device_1', name: '100%_sure' } }))
    const search = async (s) =>
      assertOk(await call(server, '/devices/list', { token, body: { search: s } })).devices.map((d) => d.device_id)
    assert.deepEqual(await search('%'), ['minut_device_1'])
    assert.deepEqual(await search('%_'), ['minut_device_1'])
    assert.deepEqual(await search('_'), ['minut_device_1'])
    assert.deepEqual(await search('0\\'), [])
    const identities = assertOk(
      await call(server, '/user_identities/list', { token, body: { search: '%' } }),
    ).user_identities
    assert.deepEqual(identities, [])
  })
})

describe('the request log', () => {
  test('a path cannot write a line of its own', async () => {
    const res = await rawRequest(server, 'GET /x%0aFORGED%0d%0aFORGED2 HTTP/1.1\r\nHost: x\r\nConnection: close')
    assert.equal(res.status, 404)
    assert.equal(res.body.ok, false)
    const line = `${res.requestId} GET /x\\x0aFORGED\\x0d\\x0aFORGED2 404 `
    const log = await stderrWhen(server, (text) => text.includes(line))
    assert.ok(!log.split('\n').some((l) => l.startsWith('FORGED')), 'a forged log line')
  })
})

describe('deeply nested JSON', () => {
  test('is refused before it is parsed; brackets inside strings do not count', async () => {
    const deep = await call(server, '/devices/list', { token: AK, rawBody: '['.repeat(50_000), headers: { 'content-type': 'application/json' } })
    assertError(deep, 400, 'invalid_input')
    assert.match(deep.body.error.message, /nests more than 32 levels/)
    const res = await call(server, '/devices/update', {
      token: AK,
      body: { device_id: 'august_device_1', custom_metadata: { brackets: '[{'.repeat(100) } },
    })
    assertOk(res)
  })
})

describe('limits on stored strings and lists', () => {
  const long = (n) => 'a'.repeat(n)
  test('user_identifier_key, customer_key, names and URLs have a length limit', async () => {
    assertOk(await call(server, '/client_sessions/create', { token: AK, body: { user_identifier_key: long(255) } }))
    for (const [route, body, param] of [
      ['/client_sessions/create', { user_identifier_key: long(256) }, 'user_identifier_key'],
      ['/client_sessions/create', { customer_key: long(256) }, 'customer_key'],
      ['/client_sessions/get_or_create', { user_identifier_key: long(500_000) }, 'user_identifier_key'],
      ['/devices/update', { device_id: 'august_device_1', name: long(256) }, 'name'],
      ['/connected_accounts/update', { connected_account_id: SEED.johnAccount, display_name: long(256) }, 'display_name'],
      ['/user_identities/create', { full_name: long(256) }, 'full_name'],
      ['/connect_webviews/create', { custom_redirect_url: `https://example.com/${long(2049)}` }, 'custom_redirect_url'],
      ['/devices/list', { device_ids: [long(256)] }, 'device_ids'],
    ]) {
      assertInvalidInput(await call(server, route, { token: AK, body }), param)
    }
    assertOk(
      await call(server, '/connect_webviews/create', {
        token: AK,
        body: { custom_redirect_url: `https://example.com/${long(2000)}` },
      }),
    )
  })

  test('a publishable key cannot store a long user key through the header', async () => {
    const res = await pkGetOrCreate(long(256))
    assertInvalidInput(res, 'user_identifier_key')
  })

  test('client_sessions/list pages like the other lists', async () => {
    const tag = uniqueKey('paged')
    const made = []
    for (let i = 0; i < 5; i++) made.push((await createSession(server, AK, { user_identifier_key: `${tag}_${i}` })).client_session_id)
    const seen = []
    let cursor
    let pages = 0
    do {
      const res = assertOk(
        await call(server, '/client_sessions/list', {
          token: AK,
          body: { limit: 2, ...(cursor ? { page_cursor: cursor } : {}) },
        }),
      )
      assert.ok(res.client_sessions.length <= 2)
      seen.push(...res.client_sessions.map((cs) => cs.client_session_id))
      cursor = res.pagination.next_page_cursor
      assert.equal(res.pagination.has_next_page, Boolean(cursor))
      pages++
    } while (cursor && pages < 1000)
    assert.equal(new Set(seen).size, seen.length, 'a session listed twice')
    for (const id of made) assert.ok(seen.includes(id), `session ${id} never listed`)
    const first = assertOk(await call(server, '/client_sessions/list', { token: AK, body: { limit: 1 } }))
    assertInvalidInput(
      await call(server, '/client_sessions/list', {
        token: AK,
        body: { limit: 1, page_cursor: first.pagination.next_page_cursor, user_identifier_key: `${tag}_0` },
      }),
      'page_cursor',
    )
    // A cursor is good for its own route only.
    assertInvalidInput(
      await call(server, '/devices/list', {
        token: AK,
        body: { limit: 1, page_cursor: first.pagination.next_page_cursor },
      }),
      'page_cursor',
    )
    // The SDK's list still works and sees the sessions.
    const listed = await sdkFromApiKey(server, AK).clientSessions.list({ user_identifier_key: `${tag}_3` })
    assert.deepEqual(listed.map((cs) => cs.client_session_id), [made[3]])
  })
})
