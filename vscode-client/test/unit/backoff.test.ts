import assert from "node:assert/strict";
import { test } from "node:test";
import { RestartPolicy } from "../../src/backoff";

test("crashes in a row wait longer each time, then give up", () => {
  const policy = new RestartPolicy([1, 2, 3], 1_000);
  assert.deepEqual([policy.next(0), policy.next(10), policy.next(20), policy.next(30)], [1, 2, 3, undefined]);
});

test("a server that stayed up long enough starts a fresh count", () => {
  const policy = new RestartPolicy([1, 2], 1_000);
  policy.next(0);
  assert.equal(policy.next(500), 2);
  assert.equal(policy.next(1_500), 1);
});

test("a restart the user asked for forgets earlier crashes", () => {
  const policy = new RestartPolicy([1, 2], 1_000);
  policy.next(0);
  policy.next(1);
  policy.reset();
  assert.equal(policy.next(2), 1);
});
