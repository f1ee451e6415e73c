// The HTTP layer under the conditions a public server meets: many slow
// clients, idle connections, oversized requests, keep-alive, and SIGTERM with
// requests in flight. Raw sockets, so nothing in between smooths them over.
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'

import { SANITIZED, sleep, startServer } from '../api/harness.mjs'
import { connect, readResponse, statusOf } from './sockets.mjs'

describe('connections', () => {
  let server
  before(async () => {
    server = await startServer({ args: ['--timeout', '2'] })
  })
  after(async () => {
    await server.stop()
  })

  test('a client is answered while 2000 slow clients hold connections', async () => {
    const slow = []
    try {
      for (let i = 0; i < 2000; i++) {
        const s = await connect(server.port)
        s.on('error', () => {})
        s.write('GET /health HTTP/1.1\r\nHost: x\r\n') // headers never finished
        slow.push(s)
      }
      const res = await fetch(`${server.url}/devices/list`, {
        headers: { authorization: 'Bearer seam_cst1_token' },
        signal: AbortSignal.timeout(SANITIZED ? 20_000 : 5_000),
      })
      assert.equal(res.status, 200)
      assert.equal((await res.json()).devices.length, 4)
    } finally {
      for (const s of slow) s.destroy()
    }
  })

  test('an idle connection is closed after the timeout', async () => {
    const s = await connect(server.port)
    const started = Date.now()
    const closed = await new Promise((resolve) => {
      s.on('close', () => resolve(true))
      setTimeout(() => resolve(false), 15_000)
    })
    assert.ok(closed, 'the server kept an idle connection open for 15 s')
    assert.ok(Date.now() - started >= 1500, 'closed before the 2 s timeout')
  })

  test('keep-alive: several requests on one connection', async () => {
    const s = await connect(server.port)
    const req = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n'
    s.write(req + req + req)
    const raw = await readResponse(s, /(HTTP\/1\.1 200[\s\S]*){3}"ok":true}/)
    s.destroy()
    assert.equal(raw.match(/HTTP\/1\.1 200 OK/g)?.length, 3)
    // The idle timeout is announced, so clients stop reusing a connection
    // before the server closes it (a write into a close is a reset).
    assert.equal(raw.match(/\r\nKeep-Alive: timeout=2\r\n/g)?.length, 3)
  })

  test('a body announced over 8 MiB is refused with 413 before it is sent', async () => {
    const s = await connect(server.port)
    s.write(
      'POST /devices/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer seam_apikey1_token\r\n' +
        'Content-Type: application/json\r\nContent-Length: 20000000\r\n\r\n',
    )
    const raw = await readResponse(s, /"ok":false}/)
    s.destroy()
    assert.equal(statusOf(raw), 413)
    assert.match(raw, /"type":"payload_too_large"/)
  })

  test('a body over 1 MiB announced with Expect: 100-continue is refused before it is sent', async () => {
    const s = await connect(server.port)
    s.write(
      'POST /devices/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer seam_apikey1_token\r\n' +
        'Content-Type: application/json\r\nContent-Length: 2000000\r\nExpect: 100-continue\r\n\r\n',
    )
    const raw = await readResponse(s, /"ok":false}/)
    s.destroy()
    assert.equal(statusOf(raw), 413, raw)
    assert.doesNotMatch(raw, /100 Continue/)
  })

  test('a chunked body over 1 MiB gets 413 in the error shape, and the connection goes on', async () => {
    // The body is read to its end before the answer, so the answer is not
    // lost to a reset (a close with unread bytes), and keep-alive holds.
    for (let round = 0; round < 5; round++) {
      const res = await fetch(`${server.url}/devices/list`, {
        method: 'POST',
        headers: { authorization: 'Bearer seam_apikey1_token', 'content-type': 'application/json' },
        body: new ReadableStream({
          start(controller) {
            const chunk = new TextEncoder().encode(' '.repeat(64 * 1024))
            for (let i = 0; i < 20; i++) controller.enqueue(chunk)
            controller.close()
          },
        }),
        duplex: 'half',
      })
      assert.equal(res.status, 413)
      assert.equal(res.headers.get('connection'), null, 'a 413 after the whole body keeps the connection')
      assert.equal((await res.json()).error.type, 'payload_too_large')
    }
    const s = await connect(server.port)
    const chunk = `${(64 * 1024).toString(16)}\r\n${' '.repeat(64 * 1024)}\r\n`
    s.write(
      'POST /devices/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer seam_apikey1_token\r\n' +
        `Transfer-Encoding: chunked\r\n\r\n${chunk.repeat(20)}0\r\n\r\n` +
        'GET /health HTTP/1.1\r\nHost: x\r\n\r\n',
    )
    const raw = await readResponse(s, /HTTP\/1\.1 200[\s\S]*"ok":true}/)
    s.destroy()
    assert.equal(statusOf(raw), 413)
    assert.match(raw, /HTTP\/1\.1 200 OK/)
  })

  test('headers over the per-connection limit get 431', async () => {
    const s = await connect(server.port)
    s.write(`GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`)
    const raw = await readResponse(s)
    s.destroy()
    assert.equal(statusOf(raw), 431)
  })

  test('the server keeps serving after all of the above', async () => {
    const res = await fetch(`${server.url}/health`)
    assert.equal(res.status, 200)
  })
})

describe('SIGTERM', () => {
  test('finishes the request in flight, then exits 0', async () => {
    const server = await startServer()
    const s = await connect(server.port)
    const body = JSON.stringify({ user_identifier_key: 'in_flight_user' })
    s.write(
      'POST /client_sessions/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer seam_apikey1_token\r\n' +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n` +
        body.slice(0, 5),
    )
    await sleep(300)
    server.proc.kill('SIGTERM')
    await sleep(300)
    const answer = readResponse(s, /"ok":(true|false)}/)
    s.write(body.slice(5))
    const raw = await answer
    s.destroy()
    assert.equal(statusOf(raw), 200, raw)
    assert.match(raw, /"user_identifier_key":"in_flight_user"/)
    await server.stop() // rejects unless the exit code is 0
    assert.match(server.stderr(), /SIGTERM/)
  })

  test('refuses new connections once stopping', async () => {
    const server = await startServer()
    await server.stop()
    await assert.rejects(fetch(`${server.url}/health`))
  })
})

describe('sync: true', () => {
  test('requests waiting for their action attempts do not hold up others', async () => {
    const server = await startServer({ args: ['--threads', '2', '--action-delay-ms', '3000'] })
    try {
      const done = []
      const unlocks = Array.from({ length: 10 }, (_, i) =>
        fetch(`${server.url}/locks/unlock_door`, {
          method: 'POST',
          headers: { authorization: 'Bearer seam_apikey1_token', 'content-type': 'application/json' },
          body: JSON.stringify({ device_id: i % 2 ? 'august_device_1' : 'august_device_2', sync: true }),
        }).then(async (res) => {
          done.push(i)
          return [res.status, await res.json()]
        }),
      )
      await sleep(300) // all ten are waiting on the server now
      const health = await fetch(`${server.url}/health`)
      assert.equal(health.status, 200)
      assert.deepEqual(done, [], 'a sync request answered before its attempt was due')
      for (const [status, body] of await Promise.all(unlocks)) {
        assert.equal(status, 200)
        assert.equal(body.action_attempt.status, 'success')
      }
    } finally {
      await server.stop()
    }
  })

  test('SIGTERM while sync requests keep coming: each is answered or refused, and the server exits 0', async () => {
    // A request that parks after the waker has gone used to stay suspended,
    // and libmicrohttpd aborted the process on stop.
    for (let round = 0; round < 3; round++) {
      const server = await startServer({ args: ['--action-delay-ms', '0'] })
      let stopping = false
      const answered = []
      const loop = async () => {
        while (!stopping) {
          const res = await fetch(`${server.url}/locks/unlock_door`, {
            method: 'POST',
            headers: { authorization: 'Bearer seam_apikey1_token', 'content-type': 'application/json' },
            body: JSON.stringify({ device_id: 'august_device_1', sync: true }),
          }).catch(() => null) // refused once stopping
          if (!res) return
          answered.push([res.status, (await res.json()).action_attempt?.status])
        }
      }
      const loops = Array.from({ length: 32 }, loop)
      await sleep(400)
      await server.stop() // rejects unless the exit code is 0
      stopping = true
      await Promise.all(loops)
      assert.ok(answered.length > 0)
      for (const [status, attempt] of answered) {
        assert.equal(status, 200)
        assert.ok(['pending', 'success'].includes(attempt), attempt)
      }
    }
  })

  test('SIGTERM answers a waiting request with its attempt as it is, then exits 0', async () => {
    const server = await startServer({ args: ['--action-delay-ms', '60000'] })
    const answer = fetch(`${server.url}/locks/lock_door`, {
      method: 'POST',
      headers: { authorization: 'Bearer seam_apikey1_token', 'content-type': 'application/json' },
      body: JSON.stringify({ device_id: 'august_device_1', sync: true }),
    })
    await sleep(300)
    await server.stop() // rejects unless the exit code is 0
    const res = await answer
    assert.equal(res.status, 200)
    assert.equal((await res.json()).action_attempt.status, 'pending')
  })
})
