import assert from "node:assert/strict";
import { test } from "node:test";
import { Readable } from "node:stream";
import { LevelSink, LogRouter, pipeServerLog } from "../../src/serverLog";

test("each server log line keeps its level, without the server's timestamp", () => {
  const router = new LogRouter();
  assert.deepEqual(router.route("2026-11-29 18:15:46,283 INFO tenon.cli: serving LSP on stdio"), {
    level: "info",
    text: "tenon.cli: serving LSP on stdio",
  });
  assert.equal(router.route("2026-11-29 18:15:46,283 WARNING tenon.x: careful").level, "warn");
  assert.equal(router.route("2026-11-29 18:15:46,283 ERROR tenon.x: model load failed").level, "error");
  assert.deepEqual(router.route("Traceback (most recent call last):"), {
    level: "error",
    text: "Traceback (most recent call last):",
  });
  assert.equal(router.route("2026-11-29 18:15:46,283 TRACE tenon.x: text").level, "trace");
});

test("a stream is split into lines and routed", async () => {
  const seen: string[] = [];
  const sink: LevelSink = {
    error: (text) => seen.push(`E ${text}`),
    warn: (text) => seen.push(`W ${text}`),
    info: (text) => seen.push(`I ${text}`),
    debug: (text) => seen.push(`D ${text}`),
    trace: (text) => seen.push(`T ${text}`),
  };
  const input = Readable.from(["2026-01-01 00:00:00,000 DEBUG a: one\nplain\n", "2026-01-01 00:00:00,000 ERROR b: two\n"]);
  pipeServerLog(input, sink);
  await new Promise((resolve) => input.on("end", resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(seen, ["D a: one", "D plain", "E b: two"]);
});
