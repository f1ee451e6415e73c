// The HTTP layer against hostile clients: framing a proxy could read another
// way is refused and the connection closed; a client that trickles its
// request cannot keep a connection past its deadline, and trickling clients
// cannot crowd out the others; a query of thousands of parameters is
// answered, in the error shape, and a head at every limit reaches the API.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { SANITIZED, sleep, startServer } from '../api/harness.mjs'
import { closedWithin, connect, readResponse, statusOf } from './sockets.mjs'

const AUTH = 'Authorization: Bearer seam_apikey1_token\r\n'
const WAIT = SANITIZED ? 30_000 : 10_000

/** Writes a request, reads until the server closes; resolves { raw, closed }. */
async function exchange(port, request) {
  const s = await connect(port)
  s.on('error', () => {})
  s.write(request)
  const raw = await readResponse(s, null, WAIT)
  return { raw, closed: s.destroyed || s.readableEnded }
}

/** The JSON body of a raw response. */
const bodyOf = (raw) => JSON.parse(raw.slice(raw.indexOf('\r\n\r\n') + 4))

describe('framing', () => {
  let server
  before(async () => {
    server = await startServer()
  })
  after(async () => {
    await server.stop()
  })

  const refused = [
    [
      'two Content-Length headers',
      `POST /devices/list HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 2\r\nContent-Length: 30\r\n\r\n{}`,
    ],
    [
      'Content-Length with Transfer-Encoding: chunked',
      `POST /devices/list HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    ],
    [
      'Transfer-Encoding: chunked, identity',
      `POST /devices/list HTTP/1.1\r\nHost: x\r\n${AUTH}Transfer-Encoding: chunked, identity\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    ],
    ['HTTP/1.1 without Host', 'GET /health HTTP/1.1\r\n\r\n'],
    ['two Host headers', 'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'],
    ['a NUL byte in a header', 'GET /health HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n'],
    // libmicrohttpd would parse a query behind it, which latchkey never saw.
    ['a NUL byte before the query', 'GET /health\u0000?a=1 HTTP/1.1\r\nHost: x\r\n\r\n'],
  ]
  for (const [what, request] of refused) {
    test(`${what}: 400 in the error shape, and the connection closes`, async () => {
      // A request smuggled behind it must never be answered.
      const { raw, closed } = await exchange(
        server.port,
        `${request}GET /health HTTP/1.1\r\nHost: x\r\n\r\n`,
      )
      assert.equal(statusOf(raw), 400, raw)
      assert.equal(bodyOf(raw).ok, false)
      assert.equal(bodyOf(raw).error.type, 'invalid_request')
      assert.equal(raw.match(/HTTP\/1\.1 \d{3} /g).length, 1, `more than one answer: ${raw}`)
      assert.ok(closed)
    })
  }

  test('a malformed Content-Length is refused and nothing after it is read', async () => {
    // libmicrohttpd (0.9.75) answers this one itself, before latchkey sees
    // the request; what a client can rely on is the 400, the close, and that
    // the request behind it is never run.
    const { raw, closed } = await exchange(
      server.port,
      `POST /devices/list HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 2x\r\n\r\n{}` +
        'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
    )
    assert.equal(statusOf(raw), 400)
    assert.doesNotMatch(raw, /200 OK|"service":"latchkey"/)
    assert.ok(closed)
  })

  test('HTTP/1.0 without Host and a well-formed chunked body are served', async () => {
    let { raw } = await exchange(server.port, 'GET /health HTTP/1.0\r\n\r\n')
    assert.equal(statusOf(raw), 200)
    ;({ raw } = await exchange(
      server.port,
      `POST /devices/list HTTP/1.1\r\nHost: x\r\n${AUTH}Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n`,
    ))
    assert.equal(statusOf(raw), 200)
    assert.equal(bodyOf(raw).devices.length, 5)
  })

  test('thousands of query parameters get an answer in the error shape', async () => {
    const cases = [
      [1000, 'a=', 400, 'invalid_input', /Unrecognized key/],
      [2000, 'a=', 400, 'invalid_input', /more than 1500 parameters/],
      [8000, 'a', 400, 'invalid_input', /more than 1500 parameters/],
      [20_000, 'a', 414, 'uri_too_long', /longer than/],
    ]
    for (const [n, param, status, type, message] of cases) {
      const { raw } = await exchange(
        server.port,
        `GET /health?${Array(n).fill(param).join('&')} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`,
      )
      assert.equal(statusOf(raw), status, `${n} parameters: ${raw.slice(0, 200)}`)
      assert.equal(bodyOf(raw).error.type, type)
      assert.match(bodyOf(raw).error.message, message)
    }
  })

  test('a head at every limit at once reaches the API; past any limit, the error shape', async () => {
    // The URL (16 KiB, with 1500 parameters) and the headers (32 KiB, in
    // 100 of them) at their limits together fit libmicrohttpd's connection
    // memory (main.c), so latchkey answers, not libmicrohttpd.
    const PARAMS = Array(1500).fill('a=').join('&')
    const target = (size, params = PARAMS) => `/health?${params}`.padEnd(size, 'b')
    // Sized as latchkey counts them: name, value and 4 bytes each.
    const headers = (size, count = 100) => {
      const lines = ['Host: x', 'Connection: close']
      let left = size - (4 + 1 + 4) - (10 + 5 + 4)
      for (let i = 0; i < count; i++) {
        const name = `X-Pad-${String(i).padStart(3, '0')}`
        const value = 'v'.repeat(Math.floor(left / (count - i)) - name.length - 4)
        left -= name.length + value.length + 4
        lines.push(`${name}: ${value}`)
      }
      return lines.join('\r\n')
    }
    const cases = [
      [target(16 * 1024), headers(32 * 1024), 400, 'invalid_input', /Unrecognized key/],
      [target(16 * 1024 + 1), headers(32 * 1024), 414, 'uri_too_long', /longer than 16384 bytes/],
      [target(16 * 1024), headers(32 * 1024 + 1), 431, 'request_header_fields_too_large', /larger than 32768/],
      [target(16 * 1024, `${PARAMS}&a=`), headers(32 * 1024), 400, 'invalid_input', /more than 1500 parameters/],
    ]
    for (const [url, head, status, type, message] of cases) {
      const { raw } = await exchange(server.port, `GET ${url} HTTP/1.1\r\n${head}\r\n\r\n`)
      assert.equal(statusOf(raw), status, `${url.length} bytes of URL: ${raw.slice(0, 300)}`)
      assert.equal(bodyOf(raw).error.type, type)
      assert.match(bodyOf(raw).error.message, message)
    }
  })
})

describe('slow clients', () => {
  let server
  before(async () => {
    server = await startServer({ args: ['--timeout', '2', '--connection-limit', '200'] })
  })
  after(async () => {
    await server.stop()
  })

  /** Writes `first`, then one byte of `next(i)` every 100 ms; true when the server closed within limitMs. */
  async function trickledClosedWithin(first, next, limitMs) {
    const s = await connect(server.port)
    s.on('error', () => {})
    s.write(first)
    let i = 0
    const trickle = setInterval(() => {
      if (!s.destroyed) s.write(next(i++))
    }, 100)
    try {
      return await closedWithin(s, limitMs)
    } finally {
      clearInterval(trickle)
      s.destroy()
    }
  }

  test('a request head trickled a byte at a time is cut off at the timeout', async () => {
    // Each byte resets an idle timeout; the deadline for the whole head
    // does not move.
    const head = `GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'a'.repeat(10_000)}`
    assert.ok(
      await trickledClosedWithin('', (i) => head[i % head.length], 15_000),
      'a trickling client kept its connection for 15 s',
    )
  })

  test('a body trickled a byte at a time is cut off too', async () => {
    assert.ok(
      await trickledClosedWithin(
        `POST /devices/list HTTP/1.1\r\nHost: x\r\n${AUTH}Content-Length: 100000\r\n\r\n`,
        () => ' ',
        20_000,
      ),
      'a trickled body kept its connection for 20 s',
    )
  })
})

describe('a crowd of slow clients', () => {
  let server
  before(async () => {
    // A long timeout: only the making of room, not the deadline, can help.
    server = await startServer({ args: ['--timeout', '60', '--connection-limit', '200'] })
  })
  after(async () => {
    await server.stop()
  })

  test('clients that trickle cannot crowd out the others', async () => {
    // More trickling clients than the connection limit: the one that has
    // taken longest to send its head makes room for each newcomer.
    const slow = []
    const trickle = setInterval(() => {
      for (const s of slow) if (!s.destroyed) s.write('a')
    }, 500)
    try {
      for (let i = 0; i < 300; i++) {
        try {
          const s = await connect(server.port)
          s.on('error', () => {})
          s.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ')
          slow.push(s)
        } catch {}
        if (i % 100 === 99) await sleep(1100) // they age past the second a newcomer is owed
      }
      await sleep(1100)
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${server.url}/health`, { signal: AbortSignal.timeout(WAIT) })
        assert.equal(res.status, 200)
      }
      assert.ok(slow.filter((s) => s.destroyed).length >= 100, 'the oldest trickling clients made room')
    } finally {
      clearInterval(trickle)
      for (const s of slow) s.destroy()
    }
  })
})
