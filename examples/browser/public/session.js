// What both example pages share: who the "signed-in" user is (?user=), how
// the page gets that user's client session (from the example's backend, with
// only the publishable key, or a token pasted by hand), and how a 401 from
// latchkey (expired, revoked or unknown token) is told to the user.
import { SeamHttp } from '/vendor/seam-http.js'

const PASTED = 'latchkey-example:pasted-token'

export async function loadConfig() {
  const res = await fetch('/config.json')
  if (!res.ok) throw new Error(`config.json: ${res.status}`)
  return res.json()
}

/** The signed-in user of this example: just the ?user= parameter. */
export function currentUser() {
  const user = new URLSearchParams(location.search).get('user')?.trim() ?? ''
  return /^[A-Za-z0-9_.@-]{1,64}$/.test(user) ? user : null
}

/** 'backend' (default) or 'publishable' (?mode=publishable). */
export function currentMode(config) {
  const mode = new URLSearchParams(location.search).get('mode')
  if (mode === 'publishable' && config.publishableKey) return 'publishable'
  if (!config.hasBackend && config.publishableKey) return 'publishable'
  return 'backend'
}

export const pastedToken = () => sessionStorage.getItem(PASTED)
export const setPastedToken = (token) =>
  token ? sessionStorage.setItem(PASTED, token) : sessionStorage.removeItem(PASTED)

/** The same page with some query parameters changed (null removes one). */
export function pageUrl(changes = {}, base = location.href) {
  const url = new URL(base)
  for (const [k, v] of Object.entries(changes)) {
    if (v == null) url.searchParams.delete(k)
    else url.searchParams.set(k, v)
  }
  return url.href
}

/**
 * The user's client session as { client, token, session, source }:
 *   source 'pasted'      — a token pasted into the page (kept in sessionStorage);
 *   source 'backend'     — POST /api/session: the example's backend, holding
 *                          the API key, calls client_sessions/get_or_create;
 *   source 'publishable' — SeamHttp.fromPublishableKey in the browser.
 * `session` is client_sessions/get with the token itself (its own session).
 */
export async function getClientSession({ config, user, mode }) {
  const endpoint = config.endpoint
  let client
  let source
  const pasted = pastedToken()
  if (pasted) {
    client = SeamHttp.fromClientSessionToken(pasted, { endpoint })
    source = 'pasted'
  } else if (mode === 'publishable') {
    client = await SeamHttp.fromPublishableKey(config.publishableKey, user, { endpoint })
    source = 'publishable'
  } else {
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user }),
    })
    const body = await res.json().catch(() => ({}))
    if (!res.ok) {
      throw new Error(`the backend could not get a client session: ${body.error?.message ?? res.status}`)
    }
    client = SeamHttp.fromClientSessionToken(body.token, { endpoint })
    source = 'backend'
  }
  const session = await client.clientSessions.get()
  return { client, token: session.token, session, source }
}

/** True for latchkey's 401: the token expired, was revoked or is unknown. */
export function isAuthError(err) {
  return err?.statusCode === 401 || err?.name === 'SeamHttpUnauthorizedError'
}

/** latchkey's own error type behind a 401 (the SDK reports only "unauthorized"). */
export function authErrorType(err) {
  return err?.cause?.response?.data?.error?.type ?? err?.code ?? 'unauthorized'
}

const AUTH_MESSAGES = {
  client_session_expired: 'Your session has expired.',
  client_session_revoked: 'Your session was revoked (signed out).',
  client_session_not_found: 'Your session no longer exists.',
}

/** Shows the "session ended" alert; `retry` gets a new session. */
export function showAuthError(err, retry) {
  const box = document.getElementById('auth-error')
  const type = authErrorType(err)
  box.querySelector('.message').textContent =
    `${AUTH_MESSAGES[type] ?? 'Your session is no longer valid.'} ` +
    `latchkey answered 401 (${type}). Get a new session to continue.`
  box.dataset.type = type
  box.hidden = false
  const button = box.querySelector('button')
  button.onclick = () => {
    setPastedToken(null)
    retry()
  }
  document.body.classList.add('session-ended')
}

export function hideAuthError() {
  document.getElementById('auth-error').hidden = true
  document.body.classList.remove('session-ended')
}

/**
 * Fills the shared session panel: user, where the session came from, its
 * token (copyable), and the form to use a pasted token instead.
 */
export function renderSessionPanel({ user, mode, config, result }) {
  const el = document.getElementById('session')
  el.querySelector('[data-field=user]').textContent = user
  const sourceText = {
    backend: 'from this app\u2019s backend (API key, client_sessions/get_or_create)',
    publishable: 'in the browser with the publishable key (SeamHttp.fromPublishableKey)',
    pasted: 'a pasted client session token',
  }
  el.querySelector('[data-field=source]').textContent = result ? sourceText[result.source] : '\u2014'
  el.querySelector('[data-field=owner]').textContent = result?.session.user_identifier_key ?? '\u2014'
  el.querySelector('[data-field=session-id]').textContent = result?.session.client_session_id ?? '\u2014'
  el.querySelector('[data-field=expires]').textContent = result?.session.expires_at ?? '\u2014'
  const token = el.querySelector('#token')
  token.value = result?.token ?? ''

  const modes = el.querySelector('.modes')
  modes.replaceChildren()
  const options = [['backend', 'My backend']]
  if (config.publishableKey) options.push(['publishable', 'Publishable key'])
  for (const [value, label] of options) {
    const a = document.createElement('a')
    a.href = pageUrl({ mode: value === 'backend' ? null : value })
    a.textContent = label
    a.className = 'mode'
    if (value === mode && !pastedToken()) a.setAttribute('aria-current', 'true')
    a.onclick = () => setPastedToken(null)
    modes.append(a)
  }

  el.querySelector('#copy-token').onclick = () => navigator.clipboard?.writeText(token.value)
}

/** Wires the paste-a-token form (call first, before any await). */
export function wirePasteForm() {
  const el = document.getElementById('session')
  const form = el.querySelector('#paste-form')
  form.onsubmit = (e) => {
    e.preventDefault()
    const value = form.elements.pasted.value.trim()
    if (!value) return
    setPastedToken(value)
    location.reload()
  }
  const forget = el.querySelector('#forget-pasted')
  forget.hidden = !pastedToken()
  forget.onclick = () => {
    setPastedToken(null)
    location.reload()
  }
}

/** Shows the "who are you?" form instead of the page's content. */
export function renderSignIn() {
  document.getElementById('sign-in').hidden = false
  document.getElementById('main').hidden = true
}

/** Shows an unexpected failure in the page's error box. */
export function showPageError(err, config) {
  const box = document.getElementById('page-error')
  const hint =
    err?.message === 'Network Error'
      ? ` (latchkey at ${config?.endpoint} is unreachable, or it refused the browser's CORS request)`
      : ''
  box.textContent = `Something went wrong: ${err?.message ?? err}${hint}`
  box.hidden = false
}

/**
 * Gets the user's client session and fills the session panel. On failure it
 * shows why (a 401's alert offers `retry`) and resolves to null.
 */
export async function openSession({ config, user, mode, retry }) {
  hideAuthError()
  document.getElementById('page-error').hidden = true
  let result
  try {
    result = await getClientSession({ config, user, mode })
  } catch (err) {
    renderSessionPanel({ user, mode, config, result: null })
    if (isAuthError(err)) showAuthError(err, retry)
    else showPageError(err, config)
    return null
  }
  renderSessionPanel({ user, mode, config, result })
  return result
}
