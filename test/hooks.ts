// Mocha root hooks: the shared stack comes up once before the first test and goes down after the last.
import { startHarness, stopHarness } from './harness.js';

export const mochaHooks = {
  async beforeAll(this: Mocha.Context) {
    this.timeout(180_000);
    await startHarness();
  },
  async afterAll(this: Mocha.Context) {
    this.timeout(60_000);
    await stopHarness();
  },
};
