// The runner module the deployment recipes run: 16 partitions of `payments`, consumed by group `billing`.
import { defineRunner } from 'sluice';

export default defineRunner<{ amount: number }>({
  group: 'billing',
  topic: 'payments',
  partitions: 16,
  heartbeat: '1s',
  failureTimeout: '5s',
  handler: async (event, ctx) => {
    // Replace with your effect; make it idempotent with ctx.idempotencyKey.
    if (event.payload.amount < 0) throw new Error(`negative amount (${ctx.idempotencyKey})`);
  },
});
