// The inspector page's script: reads /inspector/api/*, follows the live tail (SSE), runs the actions; data goes in as text, never as HTML.
/* global document, window, fetch, EventSource, URLSearchParams */

const $ = (id) => document.getElementById(id)
const TAIL_MAX = 200
const OVERVIEW_MS = 3000
const SOCKETS_MS = 2000

/** An element with text content and attributes; children appended. */
function el (tag, attrs = {}, ...children) {
  const node = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) {
    if (k === 'text') node.textContent = v
    else if (k === 'class') node.className = v
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v)
    else node.setAttribute(k, v)
  }
  for (const c of children) if (c !== null && c !== undefined) node.append(c)
  return node
}

async function api (method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: 'same-origin'
  })
  let data = null
  try { data = await res.json() } catch {}
  if (!res.ok) {
    const err = new Error(data?.message ?? `HTTP ${res.status}`)
    err.status = res.status
    err.body = data
    throw err
  }
  return data
}

function setStatus (text, ok) {
  const s = $('status')
  s.textContent = text
  s.className = 'pill ' + (ok ? 'ok' : 'bad')
}

const short = (id) => id.length > 8 ? id.slice(0, 8) : id
const bytes = (n) => `${Math.round(n / 1048576)} MiB`
const duration = (s) => s < 120 ? `${s} s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`

let boundTenant
let overviewLoaded = false

function renderOverview (o) {
  $('who').textContent = `${o.admin.name}${o.admin.tenantId === undefined ? ' (every tenant)' : ` (tenant ${o.admin.tenantId})`} · ${o.nodes.length} node(s)${o.partial ? ' · some nodes did not answer' : ''}`
  const nodes = $('nodes').querySelector('tbody')
  nodes.replaceChildren(...o.nodes.map((n) => {
    const sockets = Object.values(n.namespaces).reduce((a, ns) => a + ns.sockets, 0)
    return el('tr', { 'data-node-id': n.nodeId },
      el('td', { class: 'mono', title: n.nodeId, text: short(n.nodeId) + (n.nodeId === o.thisNode ? ' (this)' : '') }),
      el('td', { text: n.hostname }), el('td', { text: String(n.pid) }), el('td', { text: duration(n.uptimeS) }),
      el('td', { class: 'node-sockets', text: String(sockets) }), el('td', { text: bytes(n.rssBytes) }),
      el('td', { text: n.tail.watchers > 0 ? `${n.tail.watchers} watching` : n.tail.hooked ? 'forwarding' : 'idle' }))
  }))
  const conns = $('connections').querySelector('tbody')
  conns.replaceChildren(...o.namespaces.map((ns) => el('tr', { 'data-namespace': ns.name },
    el('td', { class: 'mono', text: ns.name }),
    el('td', { text: ns.plugins.join(', ') }),
    el('td', { class: 'ns-sockets', text: String(ns.sockets) }),
    el('td', {}, ...Object.entries(ns.tenants).sort((a, b) => b[1] - a[1]).map(([t, c]) =>
      el('a', { class: 'tag', href: '#tenant', 'data-tenant': t, text: `${t}: ${c}`, onclick: () => { $('tenant-id').value = t; loadSockets() } }))))))
  const select = $('tenant-namespace')
  if (select.options.length === 1) for (const ns of o.namespaces) select.append(el('option', { value: ns.name, text: ns.name }))
  const publish = $('publish-url')
  if (publish.options.length === 0) for (const t of o.triggers) publish.append(el('option', { value: t.url, text: `POST ${t.url}` }))
  $('plugin-list').replaceChildren(...o.plugins.map((p) => el('details', { 'data-plugin': p.name },
    el('summary', { text: `${p.name}${p.dependencies.length > 0 ? ` (needs ${p.dependencies.join(', ')})` : ''}` }),
    el('pre', { text: p.options === undefined ? 'options are shown to admin keys that are not bound to a tenant' : JSON.stringify(p.options, null, 2) }))))
  const core = $('core-config')
  if (o.config === undefined) core.hidden = true
  else core.querySelector('pre').textContent = JSON.stringify(o.config, null, 2)
  if (!overviewLoaded) {
    overviewLoaded = true
    boundTenant = o.admin.tenantId
    if (boundTenant !== undefined) {
      for (const id of ['tenant-id', 'tail-tenant']) { $(id).value = boundTenant; $(id).readOnly = true }
      loadSockets()
    }
    startTail()
  }
}

async function refreshOverview () {
  try {
    renderOverview(await api('GET', '/inspector/api/overview'))
    setStatus('live', true)
  } catch (err) {
    setStatus(err.message, false)
  }
}

let socketsTimer
async function loadSockets () {
  clearTimeout(socketsTimer)
  const tenantId = $('tenant-id').value.trim()
  if (tenantId === '') return
  const params = new URLSearchParams({ tenantId })
  const ns = $('tenant-namespace').value
  if (ns !== '') params.set('namespace', ns)
  const search = $('tenant-search').value.trim()
  if (search !== '') params.set('search', search)
  try {
    const r = await api('GET', `/inspector/api/sockets?${params}`)
    $('tenant-note').textContent = `${r.sockets.length} socket(s)${r.truncated ? ', cut to the first 500 per node' : ''}${r.partial ? ', some nodes did not answer' : ''}`
    $('rooms').querySelector('tbody').replaceChildren(...r.rooms.map((room) =>
      el('tr', { 'data-room': room.name }, el('td', { class: 'mono', text: room.name }), el('td', { text: String(room.sockets) }))))
    $('sockets').querySelector('tbody').replaceChildren(...r.sockets.map((s) => el('tr', { 'data-socket-id': s.id, 'data-user-id': s.userId },
      el('td', { text: s.userId }),
      el('td', { class: 'mono', text: s.id }),
      el('td', { class: 'mono', text: s.namespace }),
      el('td', { class: 'mono', title: s.node, text: short(s.node) }),
      el('td', {}, ...s.rooms.map((room) => el('span', { class: 'tag', text: room }))),
      el('td', {},
        el('button', { class: 'danger disconnect-socket', type: 'button', text: 'disconnect', onclick: () => disconnect({ tenantId, socketId: s.id }) }),
        ' ',
        el('button', { class: 'danger disconnect-user', type: 'button', text: 'user', title: 'disconnect every socket of this user', onclick: () => disconnect({ tenantId, userId: s.userId }) })))))
  } catch (err) {
    $('tenant-note').textContent = err.message
  }
  socketsTimer = setTimeout(loadSockets, SOCKETS_MS)
}

async function disconnect (body) {
  try {
    const r = await api('POST', '/inspector/api/disconnect', body)
    $('tenant-note').textContent = `disconnected ${r.disconnected} socket(s)`
  } catch (err) {
    $('tenant-note').textContent = err.message
  }
  loadSockets()
}

let source
function startTail () {
  if (source !== undefined) source.close()
  const params = new URLSearchParams()
  for (const [key, id] of [['tenantId', 'tail-tenant'], ['namespace', 'tail-namespace'], ['event', 'tail-event']]) {
    const v = $(id).value.trim()
    if (v !== '') params.set(key, v)
  }
  const state = $('tail-state')
  state.textContent = 'connecting'
  state.className = 'pill'
  source = new EventSource(`/inspector/api/tail?${params}`)
  source.addEventListener('ready', () => { state.textContent = 'watching'; state.className = 'pill ok' })
  source.addEventListener('dropped', (e) => { addLine(el('li', { class: 'muted', text: `${e.data} event(s) dropped: the page did not keep up` })) })
  source.onerror = () => { state.textContent = 'reconnecting'; state.className = 'pill bad' }
  source.onmessage = (e) => {
    const r = JSON.parse(e.data)
    const to = [...(r.target.users ?? []).map((u) => `user:${u}`), ...(r.target.rooms ?? []), ...(r.target.roles ?? []).map((x) => `role:${x}`)]
    addLine(el('li', { 'data-event': r.event, 'data-tenant': r.tenantId, 'data-event-id': r.eventId },
      el('span', { class: 'muted', text: new Date(r.time).toISOString().slice(11, 23) + ' ' }),
      el('span', { class: 'ev', text: r.event }),
      el('span', { class: 'tag', text: `tenant ${r.tenantId}` }),
      el('span', { class: 'tag', text: r.namespace }),
      r.plugin === null ? null : el('span', { class: 'tag', text: r.plugin }),
      el('span', { class: 'tag', text: to.length === 0 ? 'whole tenant' : `to ${to.join(', ')}` }),
      el('span', { class: 'tag mono', title: r.node, text: `node ${short(r.node)}` }),
      el('pre', { text: r.payload })))
  }
}

function addLine (li) {
  const list = $('tail-list')
  list.prepend(li)
  while (list.childElementCount > TAIL_MAX) list.lastElementChild.remove()
}

async function publish () {
  const out = $('publish-result')
  let body
  try {
    body = JSON.parse($('publish-body').value)
  } catch (err) {
    out.textContent = `The body is not JSON: ${err.message}`
    return
  }
  const res = await fetch('/inspector/api/publish', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: $('publish-url').value, body }),
    credentials: 'same-origin'
  })
  out.textContent = `${res.status} ${await res.text()}`
}

window.addEventListener('DOMContentLoaded', () => {
  $('tenant-form').addEventListener('submit', (e) => { e.preventDefault(); loadSockets() })
  $('tail-form').addEventListener('submit', (e) => { e.preventDefault(); startTail() })
  $('tail-clear').addEventListener('click', () => { $('tail-list').replaceChildren() })
  $('publish-form').addEventListener('submit', (e) => { e.preventDefault(); publish() })
  refreshOverview()
  window.setInterval(refreshOverview, OVERVIEW_MS)
})
