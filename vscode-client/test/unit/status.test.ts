import assert from "node:assert/strict";
import { test } from "node:test";
import { clientStatus, formatLatency, parseStatus, render } from "../../src/status";

const ready = {
  state: "ready",
  message: "qwen on CPUExecutionProvider (no GPU)",
  provider: "CPUExecutionProvider",
  lastLatencyMs: 1234,
  model: {
    name: "qwen",
    path: "/m",
    graph: "model.onnx",
    quantization: "int8",
    provider: "CPUExecutionProvider",
    providerNote: "CPUExecutionProvider (no GPU)",
    fim: true,
    loadMs: 800,
  },
};

test("the server's status notification is read field by field", () => {
  const status = parseStatus(ready);
  assert.equal(status?.state, "ready");
  assert.equal(status?.lastLatencyMs, 1234);
  assert.equal(status?.model?.quantization, "int8");
  assert.equal(status?.model?.loadMs, 800);
});

test("params that are not a status are ignored, odd fields get neutral values", () => {
  assert.equal(parseStatus(null), undefined);
  assert.equal(parseStatus({ state: "flying" }), undefined);
  assert.deepEqual(parseStatus({ state: "loading", message: 3, lastLatencyMs: "fast", model: {} }), clientStatus("loading", ""));
});

test("ready shows the provider actually used and the last latency", () => {
  const view = render(parseStatus(ready)!);
  assert.equal(view.text, "$(sparkle) Tenon · CPU · 1.2 s");
  assert.match(view.tooltip, /Model: qwen \(int8\), loaded in 800 ms/);
  assert.equal(view.error, false);
  const cuda = render(parseStatus({ ...ready, provider: "CUDAExecutionProvider", lastLatencyMs: null })!);
  assert.equal(cuda.text, "$(sparkle) Tenon · CUDA");
});

test("a busy command spins, loading spins, errors are marked", () => {
  assert.match(render(parseStatus(ready)!, true).text, /^\$\(loading~spin\) Tenon/);
  assert.match(render(clientStatus("loading", "loading /m")).text, /loading~spin.*loading model/);
  assert.match(render(clientStatus("loading", "loading /m")).tooltip, /loading \/m/);
  const error = render(clientStatus("error", "no model"));
  assert.equal(error.error, true);
  assert.match(error.tooltip, /no model/);
  assert.equal(render(clientStatus("stopped", "")).error, true);
  assert.equal(render(clientStatus("disabled", "")).error, false);
});

test("latencies read naturally", () => {
  assert.equal(formatLatency(null), "");
  assert.equal(formatLatency(12.4), "12 ms");
  assert.equal(formatLatency(2500), "2.5 s");
});
