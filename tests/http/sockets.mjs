// Raw sockets for the HTTP-layer suites: what a client (or an attacker)
// writes byte for byte, with nothing in between to smooth it over.
import net from 'node:net'

/** Opens a socket to the server and resolves once connected. */
export function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s))
    s.on('error', reject)
  })
}

/** Everything the server sends until it closes the socket or `until` matches. */
export function readResponse(socket, until = null, timeoutMs = 10_000) {
  return new Promise((resolve, reject) => {
    let data = ''
    const timer = setTimeout(() => reject(new Error(`no answer in ${timeoutMs} ms: ${data}`)), timeoutMs)
    const done = () => {
      clearTimeout(timer)
      resolve(data)
    }
    socket.setEncoding('utf8')
    socket.on('data', (d) => {
      data += d
      if (until && until.test(data)) done()
    })
    socket.on('end', done)
    socket.on('close', done)
    socket.on('error', done)
  })
}

/** Resolves true when the server closes the socket within timeoutMs, false otherwise. */
export function closedWithin(socket, timeoutMs) {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve(true)
    const timer = setTimeout(() => resolve(false), timeoutMs)
    socket.on('close', () => {
      clearTimeout(timer)
      resolve(true)
    })
  })
}

export const statusOf = (raw) => Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1])
