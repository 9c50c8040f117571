import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import { checkInterpreter, classify, fixFor, shellQuote } from "../../src/pythonCheck";

test("a missing interpreter, package or dependency is told apart", () => {
  assert.deepEqual(classify({ message: "spawn x ENOENT", code: "ENOENT" }, ""), {
    ok: false,
    problem: "no-python",
    detail: "spawn x ENOENT",
  });
  const noTenon = "Traceback...\nModuleNotFoundError: No module named 'tenon'\n";
  assert.deepEqual(classify({ message: "exit 1", code: 1 }, noTenon), { ok: false, problem: "no-tenon", detail: "tenon" });
  const noOrt = "ModuleNotFoundError: No module named 'onnxruntime.capi'\n";
  assert.deepEqual(classify({ message: "exit 1", code: 1 }, noOrt), { ok: false, problem: "no-dependency", detail: "onnxruntime" });
  assert.deepEqual(classify({ message: "x", code: null, killed: true }, ""), {
    ok: false,
    problem: "failed",
    detail: "it did not answer in time",
  });
});

test("each problem comes with the command that fixes it", () => {
  const dep = fixFor("/opt/py 3/bin/python", { ok: false, problem: "no-dependency", detail: "pygls" });
  assert.equal(dep.command, "'/opt/py 3/bin/python' -m pip install pygls");
  const tenon = fixFor("python3", { ok: false, problem: "no-tenon", detail: "tenon" });
  assert.equal(tenon.command, "python3 -m pip install /path/to/tenon");
  assert.match(tenon.message, /make install/);
  assert.match(fixFor("nope", { ok: false, problem: "no-python", detail: "" }).message, /tenon.interpreterPath/);
  assert.equal(fixFor("python3", { ok: false, problem: "failed", detail: "boom" }).command, undefined);
});

test("shell quoting leaves plain paths alone", () => {
  assert.equal(shellQuote("/usr/bin/python3"), "/usr/bin/python3");
  assert.equal(shellQuote("it's"), `'it'\\''s'`);
});

test("a real run: no such interpreter", async () => {
  const result = await checkInterpreter("/nonexistent/python3", process.env);
  assert.equal(result.ok, false);
  assert.equal(!result.ok && result.problem, "no-python");
});

test("a real run: a Python without tenon", { skip: !pythonWithoutTenon() }, async () => {
  const result = await checkInterpreter("python3", { ...process.env, PYTHONPATH: "" });
  assert.equal(!result.ok && result.problem, "no-tenon");
});

function pythonWithoutTenon(): boolean {
  try {
    execFileSync("python3", ["-c", "import importlib.util as u, sys; sys.exit(u.find_spec('tenon') is not None)"], {
      env: { ...process.env, PYTHONPATH: "" },
    });
    return true;
  } catch {
    return false;
  }
}
