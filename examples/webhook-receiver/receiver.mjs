// A webhook receiver that verifies the Standard Webhooks signature and deduplicates on webhook-id.
// Run: WEBHOOK_SECRET=whsec_... PORT=4000 node receiver.mjs   (needs `npm install standardwebhooks`)
import { createServer } from 'node:http'
import { Webhook } from 'standardwebhooks'

const secret = process.env.WEBHOOK_SECRET
if (secret === undefined || !secret.startsWith('whsec_')) {
  console.error('set WEBHOOK_SECRET to the endpoint\'s secret (webhooks.endpoints[].secret, whsec_...)')
  process.exit(1)
}
const webhook = new Webhook(secret)
// Deliveries are at least once: the same webhook-id may come again. Keep seen ids (in your database in production).
const seen = new Set()

const server = createServer((req, res) => {
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8')
    let payload
    try {
      // Checks the signature and that webhook-timestamp is recent (replays of old deliveries are refused).
      payload = webhook.verify(body, req.headers)
    } catch (err) {
      console.log(`refused: ${err.message}`)
      res.writeHead(401).end()
      return
    }
    const id = req.headers['webhook-id']
    if (!seen.has(id)) {
      seen.add(id)
      // A batching endpoint gets { type: 'batch', events: [{ id, type, ... }] }: deduplicate on each event's id too.
      for (const event of payload.type === 'batch' ? payload.events : [payload]) {
        console.log(`${event.type} tenant=${event.tenantId} ${JSON.stringify(event.data)}`)
      }
    }
    // Answer 2xx quickly; do slow work after answering. A 5xx or a time-out is retried, another 4xx is not.
    res.writeHead(204).end()
  })
})
server.listen(Number(process.env.PORT ?? 4000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})
