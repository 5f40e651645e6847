import assert from 'node:assert/strict';
import { api } from './harness.js';
import { mine, watcherCaughtUp } from './chain-helpers.js';

describe('chain metrics', () => {
  it('/metrics reports head, processed height and lag per rail', async () => {
    await mine(1);
    const processed = await watcherCaughtUp();
    const r = await api('GET', '/metrics');
    assert.equal(r.status, 200);
    const text = String(r.body);
    const value = (name: string, rail: string) => {
      const m = new RegExp(`^${name}\\{rail="${rail}"\\} (\\d+)`, 'm').exec(text);
      return m ? Number(m[1]) : null;
    };
    assert.ok(value('stablerail_chain_processed_height', 'usdt-erc20')! >= processed);
    assert.ok(value('stablerail_chain_head_height', 'usdt-erc20')! >= processed);
    assert.notEqual(value('stablerail_chain_lag_blocks', 'usdt-erc20'), null);
    assert.notEqual(value('stablerail_chain_processed_height', 'usdt-trc20'), null);
  });
});
