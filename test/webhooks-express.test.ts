// The README's Express handler, as written, receiving real deliveries from the stack.
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import express from 'express';
import { api, eventually, h, newMerchant } from './harness.js';
import { StablerailClient, verifyWebhook, WebhookVerificationError, MemoryReplayStore, type WebhookEvent } from '../sdk/index.js';

describe('SDK in an Express handler on the raw body', () => {
  let server: Server | null = null;
  after(() => server?.close());

  it('verifies real deliveries and answers 400 to a tampered or replayed one', async function () {
    this.timeout(30_000);
    const accepted: WebhookEvent[] = [];
    const refused: string[] = [];
    const secrets: string[] = [];
    const seen = new MemoryReplayStore();
    const app = express();
    app.post('/stablerail/webhooks', express.raw({ type: 'application/json' }), (req, res) => {
      let event;
      try {
        event = verifyWebhook(req.body, req.headers, secrets, { toleranceS: 300, replayStore: seen });
      } catch (err) {
        if (err instanceof WebhookVerificationError) {
          refused.push(err.code);
          return res.status(400).send(err.code);
        }
        throw err;
      }
      accepted.push(event);
      res.sendStatus(204);
    });
    server = await new Promise<Server>((r) => {
      const s = app.listen(0, '127.0.0.1', () => r(s));
    });
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/stablerail/webhooks`;

    const m = await newMerchant();
    const c = new StablerailClient({ apiKey: m.key, baseUrl: h().stack.apiUrl });
    const ep = await c.createWebhookEndpoint({ url });
    secrets.push(ep.secret!);
    const p = await c.createPayment({ amount: '2.00', rail: 'usdt-erc20', reference: 'wh-express' });
    await c.cancelPayment(p.id, 'wh-express-cancel');
    await eventually(async () => accepted.length >= 2, 20_000);
    assert.deepEqual(accepted.map((e) => e.type).sort(), ['payment.canceled', 'payment.created']);
    assert.ok(accepted.every((e) => (e.data as { id: string }).id === p.id));

    // Replay one captured delivery (from the attempt log) as is, then tampered.
    // The attempt row is written once the receiver has answered: wait for it.
    const d = await eventually(async () => {
      const list = (await c.listDeliveries(ep.id)).data;
      return list.length === 2 && list.every((x) => x.status === 'succeeded') ? list[0]! : null;
    });
    const a = d.attempts[0];
    const { rows } = await h().stack.pool.query(`SELECT request_body FROM webhook_attempts WHERE delivery_id = $1 AND attempt = 1`, [d.id]);
    const send = (body: string) => fetch(url, { method: 'POST', headers: a.request_headers, body });
    assert.equal((await send(rows[0].request_body)).status, 400);
    assert.equal((await send(rows[0].request_body.replace('2.00', '0.01'))).status, 400);
    assert.deepEqual(refused, ['replayed', 'signature_mismatch']);

    // The API's description lists the webhook routes too.
    const spec = await api('GET', '/openapi.json');
    for (const path of ['/v1/webhook_endpoints', '/v1/webhook_endpoints/{id}/rotate_secret', '/v1/webhook_endpoints/{id}/deliveries', '/v1/events/{id}/redeliver', '/v1/webhook_endpoints/{id}/recover']) {
      assert.ok(spec.body.paths[path], path);
    }
  });
});
