// Wire rules of every endpoint (shared/API.md "Wire rules"): query parsing,
// unknown and mistyped parameters, JSON bodies, body size, routes and
// methods, the request id, CORS, and that bad input never gives a 5xx.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { openapi } from '@seamapi/types/connect'

import {
  ALL_DEVICES,
  REQUEST_ID_RE,
  SEED,
  assertError,
  assertInvalidInput,
  assertOk,
  call,
  deviceIds,
  rawRequest,
  stderrWhen,
  useServer,
} from './harness.mjs'

const srv = useServer()
const AK = SEED.apiKey1
const JSON_HEADERS = { 'content-type': 'application/json' }

/**
 * Table-driven tests: for each [name, route, request, check], a test that
 * calls route with the API key and the request options (method, query, body,
 * headers, rawBody), then runs check(response).
 */
function requestCases(cases) {
  for (const [name, route, request, check] of cases) {
    it(name, async () => check(await call(srv, route, { token: AK, ...request })))
  }
}

// Checks for requestCases.
const listsDevices = (expected) => (res) =>
  assert.deepEqual(deviceIds(assertOk(res, 'devices')), expected)
const invalidInput = (...params) => (res) => assertInvalidInput(res, ...params)

/** A raw body sent as JSON to devices/list with the API key. */
const postRaw = (rawBody) => call(srv, '/devices/list', { token: AK, headers: JSON_HEADERS, rawBody })

/** The methods of a response's Allow header, sorted. */
const allowOf = (res) =>
  (res.headers.get('allow') ?? '')
    .split(',')
    .map((m) => m.trim())
    .sort()

/** Asserts that a browser at origin may read the response. */
function assertReadableFrom(res, origin) {
  const acao = res.headers.get('access-control-allow-origin')
  assert.ok(acao === origin || acao === '*', `Access-Control-Allow-Origin: ${acao}`)
}

describe('health', () => {
  it('GET /health answers 200 without any credential', async () => {
    const res = await call(srv, '/health', { method: 'GET' })
    assertOk(res)
  })
})

describe('success shape', () => {
  it('a list answers 200 JSON with the resource under its key, pagination and ok:true', async () => {
    const res = await call(srv, '/devices/list', { method: 'GET', token: AK })
    const body = assertOk(res, 'devices')
    assert.ok(Array.isArray(body.devices))
    assert.equal(typeof body.pagination, 'object')
    assert.equal(typeof body.pagination.has_next_page, 'boolean')
  })

  it('a single resource answers under its own key with ok:true', async () => {
    const res = await call(srv, '/workspaces/get', { method: 'GET', token: AK })
    const body = assertOk(res, 'workspace')
    assert.equal(body.workspace.workspace_id, SEED.workspace1)
  })
})

describe('GET query parsing', () => {
  const get = (query) => ({ method: 'GET', query })
  requestCases([
    [
      'repeated keys are an array (device_ids=a&device_ids=b)',
      '/devices/list',
      get('device_ids=august_device_2&device_ids=minut_device_1'),
      listsDevices(['august_device_2', 'minut_device_1']),
    ],
    [
      'a single value of an array parameter is a one-element array',
      '/devices/list',
      get('device_ids=ecobee_device_1'),
      listsDevices(['ecobee_device_1']),
    ],
    [
      'an empty value (device_ids=) is the empty array: no devices',
      '/devices/list',
      get('device_ids='),
      listsDevices([]),
    ],
    [
      'an empty array in a JSON body also selects no devices',
      '/devices/list',
      { body: { device_ids: [] } },
      listsDevices([]),
    ],
    [
      'repeated keys of another array parameter (connected_account_ids)',
      '/devices/list',
      get(`connected_account_ids=${SEED.janeAccount}&connected_account_ids=${SEED.johnAccount}`),
      listsDevices(ALL_DEVICES),
    ],
  ])

  it('percent-encoding and + are decoded in query values', async () => {
    for (const q of ['name=Bathroom%20Door', 'name=Bathroom+Door']) {
      const res = await call(srv, '/devices/get', { method: 'GET', token: AK, query: q })
      assert.equal(assertOk(res, 'device').device.device_id, 'schlage_device_id', q)
    }
  })

  requestCases([
    [
      'the unknown _strict key (which the SDK sends) is ignored',
      '/devices/list',
      get('_strict=true&device_ids=august_device_1'),
      listsDevices(['august_device_1']),
    ],
    [
      'any other _-prefixed query key is ignored too',
      '/workspaces/get',
      get('_cache_buster=123&_x='),
      (res) => assertOk(res, 'workspace'),
    ],
    [
      'an unknown key without _ is 400 invalid_input naming it',
      '/devices/list',
      get('not_a_filter=1'),
      invalidInput('not_a_filter'),
    ],
    [
      'every problem of one request is named in the same error',
      '/devices/list',
      get('limit=many&bogus_one=1&bogus_two=2'),
      invalidInput('limit', 'bogus_one', 'bogus_two'),
    ],
    [
      'a non-number limit in the query is invalid_input naming limit',
      '/devices/list',
      get('limit=abc'),
      invalidInput('limit'),
    ],
    [
      'a non-boolean without_user_identifier_key is invalid_input naming it',
      '/client_sessions/list',
      get('without_user_identifier_key=perhaps'),
      invalidInput('without_user_identifier_key'),
    ],
  ])
})

describe('JSON bodies', () => {
  requestCases([
    [
      'an unknown key in a JSON body is 400 invalid_input naming it',
      '/devices/list',
      { body: { colour: 'red' } },
      invalidInput('colour'),
    ],
    [
      'a string where an array is expected is invalid_input naming the parameter',
      '/devices/list',
      { body: { device_ids: 'august_device_1' } },
      invalidInput('device_ids'),
    ],
    [
      'an array item of the wrong type is invalid_input naming the parameter',
      '/devices/list',
      { body: { device_ids: [1, 2] } },
      invalidInput('device_ids'),
    ],
    [
      'a string where a number is expected is invalid_input naming the parameter',
      '/devices/list',
      { body: { limit: 'two' } },
      invalidInput('limit'),
    ],
    [
      'a number where a string is expected is invalid_input naming the parameter',
      '/client_sessions/create',
      { body: { user_identifier_key: 42 } },
      invalidInput('user_identifier_key'),
    ],
    [
      'a string where a boolean is expected is invalid_input naming the parameter',
      '/client_sessions/list',
      { body: { without_user_identifier_key: 'yes' } },
      invalidInput('without_user_identifier_key'),
    ],
    [
      'a body that is not JSON is 400 invalid_input',
      '/devices/list',
      { headers: JSON_HEADERS, rawBody: '{"device_ids": [' },
      (res) => assertError(res, 400, 'invalid_input'),
    ],
  ])

  it('a JSON body that is not an object is 400 invalid_input', async () => {
    for (const rawBody of ['[]', '"x"', '42', 'null']) {
      assertError(await postRaw(rawBody), 400, 'invalid_input')
    }
  })

  it('an empty POST body means no parameters', async () => {
    const res = await call(srv, '/devices/list', { token: AK })
    assert.deepEqual(deviceIds(assertOk(res, 'devices')), ALL_DEVICES)
  })
})

describe('body size', () => {
  const MiB = 1024 * 1024

  it('a body of exactly 1 MiB is accepted', async () => {
    const rawBody = '{}' + ' '.repeat(MiB - 2)
    assert.equal(rawBody.length, MiB)
    assert.deepEqual(deviceIds(assertOk(await postRaw(rawBody), 'devices')), ALL_DEVICES)
  })

  const oversizedHead = (length) =>
    [
      'POST /devices/list HTTP/1.1',
      'Host: 127.0.0.1',
      `Authorization: Bearer ${AK}`,
      'Content-Type: application/json',
      `Content-Length: ${length}`,
    ].join('\r\n')

  it('a body over 1 MiB (Content-Length) is 413 in the error shape', async () => {
    // A plain socket reads the answer even if the server answers before the
    // body is sent (it refuses an oversized Content-Length up front).
    const body = '{}' + ' '.repeat(MiB - 1)
    const res = await rawRequest(srv, oversizedHead(body.length), body)
    assertError(res, 413)
  })

  it('a client that sends the whole body before reading (fetch, as the SDK does) gets the 413, not a reset', async () => {
    // The SDK's axios uses fetch, which reports a connection reset instead
    // of the answer when the server closes while the body is still arriving.
    for (let i = 0; i < 3; i++) {
      let res
      try {
        res = await postRaw('{}' + ' '.repeat(4 * MiB))
      } catch (err) {
        assert.fail(`attempt ${i + 1}: ${err.message} (${err.cause?.code ?? err.cause})`)
      }
      assertError(res, 413)
    }
  })

  it('a chunked body that grows over 1 MiB is 413 in the error shape', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024))
    let sent = 0
    const stream = new ReadableStream({
      pull(controller) {
        if (sent === 0) controller.enqueue(new TextEncoder().encode('{}'))
        if (sent > 2 * MiB) return controller.close()
        controller.enqueue(chunk)
        sent += chunk.length
      },
    })
    assertError(await postRaw(stream), 413)
  })

  it('the server still answers normally after a refused body', async () => {
    const res = await call(srv, '/devices/list', { method: 'GET', token: AK })
    assertOk(res, 'devices')
  })
})

describe('routes and methods', () => {
  it('an unknown route is 404 in the error shape', async () => {
    for (const route of ['/no/such/route', '/devices/lists', '/devices/list/', '/']) {
      const res = await call(srv, route, { method: 'GET', token: AK })
      assertError(res, 404)
    }
  })

  it('an unknown route is 404 also without credentials', async () => {
    assertError(await call(srv, '/nothing_here', { method: 'POST' }), 404)
  })

  it('a wrong method is 405 with an Allow header listing the route methods', async () => {
    const cases = [
      ['GET', '/client_sessions/create', ['POST', 'PUT']],
      ['DELETE', '/devices/list', ['GET', 'POST']],
      ['PUT', '/workspaces/get', ['GET', 'POST']],
      ['GET', '/client_sessions/revoke', ['POST']],
      ['POST', '/health', ['GET']],
    ]
    for (const [method, route, allowed] of cases) {
      const res = await call(srv, route, { method, token: AK })
      assertError(res, 405)
      const allow = allowOf(res).filter(Boolean)
      assert.deepEqual(allow, [...allowed].sort(), `Allow of ${method} ${route}`)
    }
  })

  it('each route accepts exactly the methods the OpenAPI lists for it', async () => {
    const SERVED = [
      '/workspaces/get',
      '/client_sessions/create',
      '/client_sessions/get_or_create',
      '/client_sessions/get',
      '/client_sessions/list',
      '/client_sessions/grant_access',
      '/client_sessions/revoke',
      '/client_sessions/delete',
      '/devices/get',
      '/devices/list',
    ]
    for (const route of SERVED) {
      const listed = Object.keys(openapi.paths[route]).map((m) => m.toUpperCase())
      for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE']) {
        const res = await call(srv, route, {
          method,
          token: AK,
          body: method === 'GET' ? undefined : {},
        })
        if (listed.includes(method)) {
          assert.notEqual(res.status, 405, `${method} ${route} is in the OpenAPI: ${res.text}`)
        } else {
          assertError(res, 405)
          assert.deepEqual(allowOf(res), [...listed].sort(), `Allow of ${route}`)
        }
      }
    }
  })

  it('GET and POST of the same route answer the same', async () => {
    const get = await call(srv, '/devices/list', {
      method: 'GET',
      token: AK,
      query: { device_types: ['august_lock'] },
    })
    const post = await call(srv, '/devices/list', {
      token: AK,
      body: { device_types: ['august_lock'] },
    })
    assert.deepEqual(deviceIds(assertOk(get)), deviceIds(assertOk(post)))
    assert.deepEqual(deviceIds(assertOk(get)), ['august_device_1', 'august_device_2'])
  })
})

describe('seam-request-id', () => {
  it('every response carries seam-request-id: request_<uuid>, distinct per request', async () => {
    const responses = [
      await call(srv, '/health', { method: 'GET' }), // 200
      await call(srv, '/devices/list', { method: 'GET', token: AK }), // 200
      await call(srv, '/devices/list', { method: 'GET', token: AK, query: 'x=1' }), // 400
      await call(srv, '/devices/list', { method: 'GET' }), // 401
      await call(srv, '/client_sessions/list', { method: 'GET', token: SEED.cst1 }), // 403
      await call(srv, '/nope', { method: 'GET' }), // 404
      await call(srv, '/devices/list', { method: 'DELETE', token: AK }), // 405
      await rawRequest(
        srv,
        [
          'POST /devices/list HTTP/1.1',
          'Host: 127.0.0.1',
          `Authorization: Bearer ${AK}`,
          `Content-Length: ${1024 * 1024 + 1}`,
        ].join('\r\n'),
        ' '.repeat(1024 * 1024 + 1),
      ), // 413
      await call(srv, '/devices/list', {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'GET' },
      }), // preflight
    ]
    const seen = new Set()
    for (const res of responses) {
      assert.match(res.requestId ?? '', REQUEST_ID_RE, `status ${res.status}`)
      seen.add(res.requestId)
    }
    assert.equal(seen.size, responses.length, 'request ids must be unique')
  })

  it('the request id is logged, and the log holds no token or key', async () => {
    const res = await call(srv, '/devices/list', { method: 'GET', token: SEED.cst1 })
    assertOk(res)
    const res2 = await call(srv, '/devices/list', {
      method: 'GET',
      headers: { 'seam-client-session-token': SEED.cst1 },
    })
    assertOk(res2)
    const res3 = await call(srv, '/client_sessions/get_or_create', {
      headers: { 'seam-publishable-key': SEED.publishableKey1 },
      body: { user_identifier_key: 'log_check_user' },
    })
    const token = assertOk(res3).client_session.token
    const log = await stderrWhen(srv, (text) => [res, res2, res3].every((r) => text.includes(r.requestId)))
    for (const r of [res, res2, res3]) assert.ok(log.includes(r.requestId), `${r.requestId} not logged`)
    for (const secret of [AK, SEED.cst1, SEED.publishableKey1, token]) {
      assert.ok(!log.includes(secret), 'the log must not contain a token or key')
    }
  })
})

describe('CORS', () => {
  const SDK_HEADERS = [
    'authorization',
    'content-type',
    'client-session-token',
    'seam-client-session-token',
    'seam-publishable-key',
    'seam-user-identifier-key',
    'seam-workspace',
    'seam-sdk-name',
    'seam-sdk-version',
  ]

  it('a preflight from any origin allows the headers the SDKs send', async () => {
    const origin = 'https://some-app.example'
    const res = await call(srv, '/devices/list', {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': SDK_HEADERS.join(','),
      },
    })
    assert.ok(res.status === 200 || res.status === 204, `preflight status ${res.status}`)
    assertReadableFrom(res, origin)
    const allowed = (res.headers.get('access-control-allow-headers') ?? '')
      .toLowerCase()
      .split(',')
      .map((h) => h.trim())
    for (const h of SDK_HEADERS) assert.ok(allowed.includes(h), `preflight must allow ${h}`)
    const methods = (res.headers.get('access-control-allow-methods') ?? '').toUpperCase()
    assert.ok(methods.includes('POST') && methods.includes('GET'), `methods: ${methods}`)
  })

  it('a browser may read answers given to a client session token', async () => {
    const origin = 'https://other-app.example'
    const res = await call(srv, '/devices/list', {
      method: 'GET',
      token: SEED.cst1,
      headers: { origin },
    })
    assertOk(res)
    assertReadableFrom(res, origin)
  })

  it('a browser may read answers given to a publishable key', async () => {
    const origin = 'https://pk-app.example'
    const res = await call(srv, '/client_sessions/get_or_create', {
      headers: { origin, 'seam-publishable-key': SEED.publishableKey1 },
      body: { user_identifier_key: 'cors_pk_user' },
    })
    assertOk(res)
    assertReadableFrom(res, origin)
  })
})

describe('bad input never gives a 5xx', () => {
  it('odd requests answer 4xx (or 200), never 5xx, and the server keeps answering', async () => {
    const long = 'x'.repeat(10_000)
    const cases = [
      { route: '/devices/list', method: 'GET', query: `device_ids=${long}` },
      { route: '/devices/list', method: 'GET', query: 'device_ids=%00&device_ids=%ff%fe' },
      { route: '/devices/list', method: 'GET', query: 'limit=1e400' },
      { route: '/devices/list', method: 'GET', query: 'limit=-1' },
      { route: '/devices/list', method: 'GET', query: 'limit=0' },
      { route: '/devices/list', method: 'GET', query: 'limit=2.5' },
      { route: '/devices/list', method: 'GET', query: 'limit=1&limit=2' },
      { route: '/devices/list', method: 'GET', query: 'page_cursor=%%%' },
      { route: '/devices/list', method: 'GET', query: `page_cursor=${long}` },
      { route: '/devices/list', method: 'GET', query: '=&&&=x&device_ids' },
      { route: '/devices/list', body: { device_ids: Array.from({ length: 5000 }, (_, i) => `d${i}`) } },
      { route: '/devices/list', body: { device_ids: [null] } },
      { route: '/devices/list', body: { device_ids: null, limit: null } },
      { route: '/devices/list', body: { device_ids: [{ a: 1 }] } },
      { route: '/devices/list', body: { limit: 1e308 } },
      { route: '/devices/list', body: { limit: -5 } },
      { route: '/devices/list', body: { manufacturer: ['august'] } },
      { route: '/devices/list', body: { user_identifier_key: { nested: true } } },
      { route: '/devices/list', rawBody: '{"a":1,"a":2}' },
      { route: '/devices/list', rawBody: '{"device_ids":["\\u0000"]}' },
      { route: '/devices/list', rawBody: '\u00ff\u00fe' },
      { route: '/devices/get', body: { device_id: '' } },
      { route: '/devices/get', body: { name: long.repeat(20) } },
      { route: '/devices/list', body: { user_identifier_key: long.repeat(20) } },
      { route: '/client_sessions/create', body: { expires_at: 'tomorrow' } },
      { route: '/client_sessions/create', body: { expires_at: '9999-99-99T99:99:99Z' } },
      { route: '/client_sessions/create', body: { connected_account_ids: 'all' } },
      { route: '/client_sessions/create', body: { user_identity_ids: [] } },
      { route: '/client_sessions/get', body: { client_session_id: 7 } },
      { route: '/client_sessions/get', body: {} },
      { route: '/client_sessions/revoke', body: {} },
      { route: '/client_sessions/delete', body: { client_session_id: '' } },
      { route: '/client_sessions/grant_access', body: {} },
    ]
    for (const c of cases) {
      const res = await call(srv, c.route, {
        method: c.method ?? 'POST',
        token: AK,
        query: c.query,
        body: c.body,
        rawBody: c.rawBody,
        headers: c.rawBody ? JSON_HEADERS : {},
      })
      const what = `${JSON.stringify(c).slice(0, 200)} gave ${res.status}: ${res.text.slice(0, 300)}`
      assert.ok(res.status < 500, what)
      if (res.status >= 400) {
        assert.doesNotThrow(() => assertError(res, res.status), what)
      }
    }
    assertOk(await call(srv, '/health', { method: 'GET' }))
  })
})

describe('oversized request line and headers', () => {
  // libmicrohttpd refuses a request whose line or headers exceed the
  // per-connection memory; the refusal must still be an API answer.
  const is4xxError = (res) => {
    assert.ok(res.status >= 400 && res.status < 500, `status ${res.status}`)
    assertError(res, res.status)
  }
  requestCases([
    [
      'a 40 KB query string gets a 4xx in the API error shape with a request id',
      '/devices/list',
      { method: 'GET', query: `device_ids=${'x'.repeat(40_000)}` },
      is4xxError,
    ],
    [
      'a 40 KB header gets a 4xx in the API error shape with a request id',
      '/devices/list',
      { method: 'GET', headers: { 'x-padding': 'x'.repeat(40_000) } },
      is4xxError,
    ],
  ])
})
