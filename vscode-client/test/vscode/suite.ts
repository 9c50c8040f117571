// Runs inside a real VS Code extension host (see run.mjs), against the Tenon extension
// installed from its .vsix: ghost text while typing, accepted with Tab; "Generate from
// docstring" from the lightbulb menu and from the command. The driver (run.mjs) presses keys
// in the browser and takes screenshots when asked.

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as vscode from "vscode";

const EXTENSION_ID = "tenon.tenon";
const READY_TIMEOUT_MS = 180_000;
const EDIT_TIMEOUT_MS = 120_000;

interface TenonApi {
  status(): { state: string; message: string; provider: string };
  onDidChangeStatus: vscode.Event<unknown>;
}

/** Asks run.mjs, which drives the browser, to do something. */
class Driver {
  constructor(private readonly url: string) {}

  async call(action: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const response = await fetch(this.url, { method: "POST", body: JSON.stringify({ action, ...params }) });
    const body = (await response.json()) as Record<string, unknown>;
    if (!response.ok) {
      throw new Error(`driver ${action}: ${String(body.error)}`);
    }
    return body;
  }

  log(message: string): Promise<unknown> {
    return this.call("log", { message });
  }
}

export async function run(): Promise<void> {
  const driver = new Driver(requiredEnv("TENON_TEST_DRIVER"));
  try {
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    assert.ok(folder, "VS Code opened no workspace folder");
    const api = await startTenon(driver, vscode.Uri.joinPath(folder, "complete.py"));
    await ghostTextIsAcceptedWithTab(driver, vscode.Uri.joinPath(folder, "complete.py"));
    await lightbulbGeneratesFromDocstring(driver, vscode.Uri.joinPath(folder, "palindrome.py"));
    await commandGeneratesFromDocstring(driver, vscode.Uri.joinPath(folder, "add.py"));
    await disablingAndEnablingTakesEffect(driver, api);
    await aMissingInterpreterIsReported(driver, api);
    await aCrashedServerIsRestarted(driver, api);
    await driver.log("all passed");
  } catch (error) {
    await driver.log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    throw error;
  }
}

async function startTenon(driver: Driver, file: vscode.Uri): Promise<TenonApi> {
  const extension = vscode.extensions.getExtension<TenonApi>(EXTENSION_ID);
  assert.ok(extension, `${EXTENSION_ID} is not installed`);
  await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  const api = await extension.activate();
  await driver.log(`Tenon ${String(extension.packageJSON.version)} activated; waiting for the model`);
  const status = await untilReady(api);
  await driver.log(`ready: ${status.message} (${status.provider})`);
  return api;
}

async function ghostTextIsAcceptedWithTab(driver: Driver, file: vscode.Uri): Promise<void> {
  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  const line = editor.document.lineAt(5);
  assert.ok(line.text.endsWith(" if "), `unexpected fixture line: ${line.text}`);
  editor.selection = new vscode.Selection(line.range.end, line.range.end);
  await driver.call("cursorAt", { line: 6, column: line.range.end.character + 1 });
  const before = editor.document.getText();
  // typed in the browser, so VS Code asks for ghost text as it does for a user (debounced)
  await driver.call("type", { text: "name" });
  const ghost = await driver.call("ghostText", { screenshot: "ghost-text" });
  const shown = String(ghost.text);
  assert.ok(shown.trim().length > 0, "no ghost text was shown");
  await driver.call("press", { key: "Tab" });
  const after = await until(EDIT_TIMEOUT_MS, "Tab to accept the ghost text", () => {
    const text = editor.document.getText();
    return text.length > before.length + "name".length ? text : undefined;
  });
  const offset = editor.document.offsetAt(line.range.end);
  assert.equal(after.slice(0, offset), before.slice(0, offset));
  const inserted = after.slice(offset, after.length - (before.length - offset));
  assert.ok(inserted.startsWith("name" + shown), `inserted ${JSON.stringify(inserted)}, shown ${JSON.stringify(shown)}`);
  assert.equal(after.slice(offset + inserted.length), before.slice(offset));
  await driver.log(`ghost text accepted: ${JSON.stringify(inserted)}`);
  checkPython(after);
}

async function lightbulbGeneratesFromDocstring(driver: Driver, file: vscode.Uri): Promise<void> {
  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  const stub = editor.document.lineAt(2);
  assert.equal(stub.text.trim(), "pass");
  editor.selection = new vscode.Selection(stub.range.end, stub.range.end);
  await driver.call("cursorAt", { line: 3, column: stub.range.end.character + 1 });
  const before = editor.document.getText();
  await driver.call("press", { key: "Control+." });
  const menu = await driver.call("codeActionMenu", { title: "Generate from docstring", screenshot: "code-action" });
  await driver.log(`code action menu: ${JSON.stringify(menu.text)}`);
  await driver.call("press", { key: "Enter" }); // the highlighted entry: ours is the only one
  const after = await until(EDIT_TIMEOUT_MS, "the generated body", () => {
    const text = editor.document.getText();
    return text !== before ? text : undefined;
  });
  const body = functionText(after, "is_palindrome");
  assert.ok(body.includes('"""Return True if text reads the same backwards, ignoring case."""'), body);
  assert.ok(!/^\s+pass$/m.test(body), `the stub is still there:\n${body}`);
  await driver.log(`generated from the lightbulb:\n${body}`);
  checkPython(after);
  const check = `${after}\nprint(is_palindrome("Abba"), is_palindrome("abc"))`;
  assert.equal(execFileSync(python(), ["-c", check], { encoding: "utf8" }).trim(), "True False");
}

async function commandGeneratesFromDocstring(driver: Driver, file: vscode.Uri): Promise<void> {
  const editor = await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(file));
  const stub = editor.document.lineAt(2);
  assert.equal(stub.text.trim(), "...");
  editor.selection = new vscode.Selection(stub.range.end, stub.range.end);
  const before = editor.document.getText();
  await vscode.commands.executeCommand("tenon.generateAtCursor");
  const after = await until(EDIT_TIMEOUT_MS, "the command's edit", () => {
    const text = editor.document.getText();
    return text !== before ? text : undefined;
  });
  const body = functionText(after, "add");
  assert.ok(!/^\s+\.\.\.$/m.test(body), `the stub is still there:\n${body}`);
  await driver.log(`generated by the command:\n${body}`);
  checkPython(after);
  const sum = execFileSync(python(), ["-c", `${after}\nprint(add(2, 3))`], { encoding: "utf8" }).trim();
  assert.equal(sum, "5");
}

async function disablingAndEnablingTakesEffect(driver: Driver, api: TenonApi): Promise<void> {
  await vscode.commands.executeCommand("tenon.toggleEnable");
  await until(EDIT_TIMEOUT_MS, "the disabled state", () => (api.status().state === "disabled" ? true : undefined));
  await vscode.commands.executeCommand("tenon.toggleEnable");
  await untilReady(api);
  await driver.log("disabled and enabled again through the settings");
}

async function aMissingInterpreterIsReported(driver: Driver, api: TenonApi): Promise<void> {
  const config = () => vscode.workspace.getConfiguration("tenon");
  const python = config().inspect<string>("interpreterPath")?.globalValue;
  assert.ok(python, "tenon.interpreterPath is not set");
  await config().update("interpreterPath", "/nonexistent/python3", vscode.ConfigurationTarget.Global);
  const status = await until(EDIT_TIMEOUT_MS, "the error", () => (api.status().state === "error" ? api.status() : undefined));
  assert.match(status.message, /no Python at \/nonexistent\/python3/);
  await config().update("interpreterPath", python, vscode.ConfigurationTarget.Global);
  await until(EDIT_TIMEOUT_MS, "a new start", () => (api.status().state !== "error" ? true : undefined));
  await untilReady(api);
  await driver.log(`a missing interpreter is reported: ${status.message}`);
}

async function aCrashedServerIsRestarted(driver: Driver, api: TenonApi): Promise<void> {
  for (const round of [1, 2]) {
    const states = await whileWatching(api, async (seen) => {
      process.kill(serverPid(), "SIGKILL");
      await until(EDIT_TIMEOUT_MS, "the restart", () => (seen.includes("stopped") && api.status().state === "ready" ? true : undefined));
    });
    await driver.log(`killed the server (${round}), it came back: ${states.join(" → ")}`);
  }
  await vscode.commands.executeCommand("notifications.showList");
  const shown = await driver.call("count", { selector: ".notifications-center .monaco-list-row", text: "stopped unexpectedly" });
  assert.equal(shown.count, 1, "the crash should be reported once");
  await vscode.commands.executeCommand("notifications.hideList");
}

async function whileWatching(api: TenonApi, work: (states: string[]) => Promise<void>): Promise<string[]> {
  const states: string[] = [];
  const listening = api.onDidChangeStatus(() => states.push(api.status().state));
  try {
    await work(states);
  } finally {
    listening.dispose();
  }
  return states;
}

/** The server is a child of this extension host. */
function serverPid(): number {
  const children = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" });
  const line = children.split("\n").find((row) => row.includes("-m tenon serve"));
  assert.ok(line, `no server among the extension host's children:\n${children}`);
  return Number(line.trim().split(/\s+/)[0]);
}

function untilReady(api: TenonApi): Promise<{ state: string; message: string; provider: string }> {
  return until(READY_TIMEOUT_MS, "the server to be ready", () => {
    const current = api.status();
    assert.ok(!["error", "stopped"].includes(current.state), `Tenon: ${current.state}: ${current.message}`);
    return current.state === "ready" ? current : undefined;
  });
}

/** From `def name` to the next top-level line. */
function functionText(text: string, name: string): string {
  const start = text.indexOf(`def ${name}(`);
  assert.ok(start >= 0, `no function ${name}`);
  const next = text.slice(start + 1).search(/\n\S/);
  return next < 0 ? text.slice(start) : text.slice(start, start + 1 + next);
}

function checkPython(text: string): void {
  execFileSync(python(), ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], { input: text });
}

function python(): string {
  const configured = vscode.workspace.getConfiguration("tenon").get<string>("interpreterPath");
  return configured || "python3";
}

async function until<T>(timeoutMs: number, what: string, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function requiredEnv(name: string): string {
  const value = process.env[name];
  assert.ok(value, `${name} is not set (run this suite through test/vscode/run.mjs)`);
  return value;
}
