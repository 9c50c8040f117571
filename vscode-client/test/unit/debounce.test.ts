import assert from "node:assert/strict";
import { test } from "node:test";
import { CancellationLike, settle } from "../../src/debounce";

/** A cancellation token like VS Code's, that counts its live listeners. */
class Token implements CancellationLike {
  isCancellationRequested = false;
  readonly listeners = new Set<() => unknown>();

  onCancellationRequested(listener: () => unknown) {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  }

  cancel() {
    this.isCancellationRequested = true;
    for (const listener of [...this.listeners]) {
      listener();
    }
  }
}

test("the wait runs out when nobody cancels, and leaves no listener", async () => {
  const token = new Token();
  const started = Date.now();
  assert.equal(await settle(30, token), true);
  assert.ok(Date.now() - started >= 25);
  assert.equal(token.listeners.size, 0);
});

test("cancelling ends the wait at once", async () => {
  const token = new Token();
  const started = Date.now();
  const waited = settle(10_000, token);
  setTimeout(() => token.cancel(), 10);
  assert.equal(await waited, false);
  assert.ok(Date.now() - started < 1_000);
  assert.equal(token.listeners.size, 0);
});

test("an already cancelled token does not wait", async () => {
  const token = new Token();
  token.cancel();
  assert.equal(await settle(10_000, token), false);
  assert.equal(token.listeners.size, 0);
});

test("no delay: no wait", async () => {
  assert.equal(await settle(0, new Token()), true);
});
