import assert from 'node:assert/strict';
import { fixtureTest, type ContractTarget, type TestApi } from '../harness.js';

/** Mailboxes: oldest first, filters, acknowledged delivery, broadcast to every registered agent. */
export function mailboxesGroup(t: TestApi, target: ContractTarget): void {
  t.describe('mailboxes', () => {
    fixtureTest(t, target, 'messages arrive oldest first with sender, priority and time, and stay until acked', async (f) => {
      const sender = await f.open();
      const alice = sender.mailbox('alice');
      const bob = sender.mailbox('bob');
      const before = Date.now();
      await alice.send('bob', { text: 'one' });
      await alice.send('bob', { text: 'two' }, { priority: 'high' });
      await sender.mailbox('carol').send('bob', 'three', { priority: -5 });
      const inbox = await bob.receive();
      assert.deepEqual(inbox.map((m) => m.message), [{ text: 'one' }, { text: 'two' }, 'three']);
      assert.deepEqual(inbox.map((m) => [m.from, m.to, m.priority]), [['alice', 'bob', 0], ['alice', 'bob', 10], ['carol', 'bob', -5]]);
      for (const m of inbox) assert.ok(m.sentAt >= before - 1_000 && typeof m.id === 'string');
      // A receiver that dies before acking loses nothing: another client sees the same messages.
      const again = await (await f.open()).mailbox('bob').receive();
      assert.deepEqual(again.map((m) => m.id), inbox.map((m) => m.id));
      assert.equal(await bob.ack(inbox.slice(0, 2)), 2);
      assert.equal(await bob.ack(inbox[0]!.id), 0, 'ack twice is harmless');
      assert.deepEqual((await bob.receive()).map((m) => m.message), ['three']);
    });

    fixtureTest(t, target, 'receive filters by sender, priority, time and limit', async (f) => {
      const state = await f.open();
      await state.mailbox('a').send('inbox', 1);
      await state.mailbox('b').send('inbox', 2, { priority: 'high' });
      await state.mailbox('a').send('inbox', 3, { priority: 'high' });
      const box = state.mailbox('inbox');
      assert.deepEqual((await box.receive({ from: 'a' })).map((m) => m.message), [1, 3]);
      assert.deepEqual((await box.receive({ priority: 'high' })).map((m) => m.message), [2, 3]);
      assert.deepEqual((await box.receive({ limit: 2 })).map((m) => m.message), [1, 2]);
      assert.deepEqual(await box.receive({ since: Date.now() + 60_000 }), []);
    });

    fixtureTest(t, target, "'broadcast' reaches every registered agent", async (f) => {
      const state = await f.open();
      for (const id of ['w1', 'w2', 'w3']) await state.agents.register(id, {});
      const ids = await state.mailbox('coordinator').send('broadcast', { cmd: 'stop' });
      assert.equal(ids.length, 3);
      for (const id of ['w1', 'w2', 'w3']) {
        const inbox = await state.mailbox(id).receive();
        assert.deepEqual(inbox.map((m) => [m.from, m.to, m.message]), [['coordinator', id, { cmd: 'stop' }]]);
      }
    });
  });
}
