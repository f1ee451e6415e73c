// The end user's page: with only a client session token, the browser calls
// latchkey directly (@seamapi/http, bundled for the browser) to list the
// user's devices, lock and unlock them with live action-attempt status, and
// connect another account through a connect webview.
import {
  currentMode,
  currentUser,
  isAuthError,
  loadConfig,
  openSession,
  pageUrl,
  renderSignIn,
  wirePasteForm,
  showAuthError,
  showPageError,
} from '/session.js'

const $ = (id) => document.getElementById(id)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let config
let user
let mode
let current = null // { client, token, session, source }

const pageError = (err) => showPageError(err, config)

/** Every call to latchkey goes through here: a 401 shows the session-ended alert. */
async function guarded(fn) {
  try {
    return await fn()
  } catch (err) {
    if (isAuthError(err)) {
      showAuthError(err, start)
      for (const b of document.querySelectorAll('#devices button, #connect button')) b.disabled = true
      return undefined
    }
    throw err
  }
}

function log(text) {
  const li = document.createElement('li')
  li.textContent = `${new Date().toLocaleTimeString()} ${text}`
  $('activity').prepend(li)
  return li
}

// ---- devices ----

function deviceName(d) {
  return d.display_name || d.properties?.name || d.device_id
}

function renderDevices(devices) {
  const tbody = $('device-list')
  tbody.replaceChildren()
  for (const d of devices) {
    const tr = document.createElement('tr')
    tr.dataset.deviceId = d.device_id
    const isLock = typeof d.properties?.locked === 'boolean'
    const cells = [
      deviceName(d),
      d.device_type,
      d.properties?.online === false ? 'offline' : 'online',
    ]
    for (const text of cells) {
      const td = document.createElement('td')
      td.textContent = text
      tr.append(td)
    }
    const lockTd = document.createElement('td')
    const state = document.createElement('span')
    state.className = 'lock-state'
    if (isLock) {
      state.dataset.locked = String(d.properties.locked)
      state.textContent = d.properties.locked ? 'locked' : 'unlocked'
    } else {
      state.textContent = '\u2014'
    }
    lockTd.append(state)
    tr.append(lockTd)

    const actionTd = document.createElement('td')
    if (isLock) {
      for (const [label, kind] of [
        ['Unlock', 'unlock'],
        ['Lock', 'lock'],
      ]) {
        const b = document.createElement('button')
        b.type = 'button'
        b.textContent = label
        b.dataset.action = kind
        b.setAttribute('aria-label', `${label} ${deviceName(d)}`)
        b.onclick = () => act(d, kind, tr).catch(pageError)
        actionTd.append(b, ' ')
      }
    }
    tr.append(actionTd)
    const statusTd = document.createElement('td')
    statusTd.className = 'action-status'
    tr.append(statusTd)
    tbody.append(tr)
  }
  $('device-table').hidden = devices.length === 0
  $('devices-status').textContent =
    devices.length === 0
      ? 'No devices yet. Connect an account to add some.'
      : `${devices.length} device${devices.length === 1 ? '' : 's'}`
  $('devices-status').dataset.count = String(devices.length)
}

async function refreshDevices() {
  const devices = await guarded(() => current.client.devices.list())
  if (devices) renderDevices(devices)
  return devices
}

/** Lock or unlock, showing the action attempt's status as it changes. */
async function act(device, kind, tr) {
  const status = tr.querySelector('.action-status')
  const buttons = tr.querySelectorAll('button')
  const show = (s, text = s) => {
    status.dataset.status = s
    status.textContent = text
  }
  const verb = kind === 'unlock' ? 'Unlock' : 'Lock'
  const entry = log(`${verb} ${deviceName(device)}:`)
  const prefix = entry.textContent
  const seen = []
  const track = (s) => {
    if (seen.at(-1) !== s) seen.push(s)
    entry.textContent = `${prefix} ${seen.join(' \u2192 ')}`
    entry.dataset.statuses = seen.join(' ')
  }
  for (const b of buttons) b.disabled = true
  try {
    show('pending', 'sending\u2026')
    const noWait = { waitForActionAttempt: false }
    let attempt = await guarded(() =>
      kind === 'unlock'
        ? current.client.locks.unlockDoor({ device_id: device.device_id }, noWait)
        : current.client.locks.lockDoor({ device_id: device.device_id }, noWait),
    )
    if (!attempt) return
    for (;;) {
      const s = attempt.status
      if (s === 'success') {
        track('success')
        show('success')
        break
      }
      if (s === 'error') {
        const why = attempt.error?.type ?? 'error'
        track(`error (${why})`)
        show('error', `error: ${attempt.error?.message ?? why}`)
        break
      }
      track('pending')
      show('pending')
      await sleep(150)
      attempt = await guarded(() =>
        current.client.actionAttempts.get({ action_attempt_id: attempt.action_attempt_id }, noWait),
      )
      if (!attempt) return
    }
    // The lock's new state, as latchkey now reports it.
    const fresh = await guarded(() => current.client.devices.get({ device_id: device.device_id }))
    if (fresh && typeof fresh.properties?.locked === 'boolean') {
      const state = tr.querySelector('.lock-state')
      state.dataset.locked = String(fresh.properties.locked)
      state.textContent = fresh.properties.locked ? 'locked' : 'unlocked'
    }
  } finally {
    if (!document.body.classList.contains('session-ended')) for (const b of buttons) b.disabled = false
  }
}

// ---- connect webview ----

async function connect() {
  const newWindow = $('connect-new-window').checked
  const status = $('connect-status')
  // Back to this page, without the parameters of an earlier return.
  const back = pageUrl({ connect_webview_id: null, connected_account_id: null, error: null })
  const redirect = newWindow ? {} : { custom_redirect_url: back, custom_redirect_failure_url: back }
  let webview
  if (current.source === 'backend') {
    // The backend creates it with the API key and grants it to the user's session.
    const res = await fetch('/api/connect_webview', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user, redirect_url: redirect.custom_redirect_url }),
    })
    const body = await res.json().catch(() => ({}))
    if (!res.ok) throw new Error(body.error?.message ?? `backend answered ${res.status}`)
    webview = body
  } else {
    // The browser creates it with its client session token: the session holds it.
    webview = await guarded(() => current.client.connectWebviews.create(redirect))
    if (!webview) return
  }
  if (!newWindow) {
    status.textContent = 'Opening the connect page\u2026'
    location.assign(webview.url)
    return
  }
  const win = window.open(webview.url, '_blank')
  status.textContent = 'Connect your account in the new window\u2026'
  for (;;) {
    await sleep(500)
    const wv = await guarded(() =>
      current.client.connectWebviews.get({ connect_webview_id: webview.connect_webview_id }),
    )
    if (!wv) return
    if (wv.status === 'authorized') {
      status.textContent = `Connected account ${wv.connected_account_id}.`
      status.dataset.connectedAccountId = wv.connected_account_id
      await refreshDevices()
      return
    }
    if (wv.status === 'failed' || win?.closed) {
      status.textContent = wv.status === 'failed' ? 'Not connected.' : 'The connect window was closed.'
      return
    }
  }
}

/** Back from the connect webview: say what happened, then drop the parameters. */
function noteReturnFromWebview() {
  const q = new URLSearchParams(location.search)
  const status = $('connect-status')
  if (q.get('connected_account_id')) {
    status.textContent = `Connected account ${q.get('connected_account_id')}.`
    status.dataset.connectedAccountId = q.get('connected_account_id')
  } else if (q.get('error') && q.get('connect_webview_id')) {
    status.textContent = `Not connected (${q.get('error')}).`
  } else {
    return
  }
  history.replaceState(null, '', pageUrl({ connect_webview_id: null, connected_account_id: null, error: null }))
}

// ---- start ----

async function start() {
  $('devices-status').textContent = 'Loading\u2026'
  for (const b of document.querySelectorAll('#devices button, #connect button')) b.disabled = false
  current = null // nothing acts on the old session meanwhile
  current = await openSession({ config, user, mode, retry: start })
  if (!current) return
  document.body.dataset.ready = 'true'
  await refreshDevices()
}

async function main() {
  config = await loadConfig()
  user = currentUser()
  if (!user) return renderSignIn()
  mode = currentMode(config)
  document.title = `${user}\u2019s doors \u2014 latchkey example`
  $('refresh').onclick = () => refreshDevices().catch(pageError)
  $('connect-button').onclick = () => connect().catch(pageError)
  noteReturnFromWebview()
  // Keep ?user= and ?mode= when switching pages.
  for (const a of document.querySelectorAll('nav a')) a.search = location.search
  await start()
}

wirePasteForm()
main().catch(pageError)
