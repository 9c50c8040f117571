#!/usr/bin/env node
// Runs suite.ts inside a real VS Code: code-server (VS Code's server and workbench) with the
// Tenon .vsix installed, rendered by headless Chromium through playwright-core. The suite
// runs in the real extension host (as @vscode/test-web does it, which cannot download VS Code
// here); it asks this script, over a loopback HTTP port, to type, press keys, wait for ghost
// text or the code action menu, and take screenshots. Exits with the suite's exit code.
//
// usage: node test/vscode/run.mjs --code-server BIN --vsix FILE --python PYTHON
//          [--screenshots DIR] [--chromium BIN] [--timeout SECONDS] [--keep]
import { execFileSync, spawn } from "node:child_process";
import { cpSync, createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import net from "node:net";
import { homedir, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";

const HERE = dirname(fileURLToPath(import.meta.url));
const CLIENT = resolve(HERE, "../..");
const { values: opts } = parseArgs({
  options: {
    "code-server": { type: "string" },
    vsix: { type: "string" },
    python: { type: "string" },
    screenshots: { type: "string", default: join(CLIENT, "out/screenshots") },
    chromium: { type: "string", default: "/usr/lib/chromium/chromium" },
    timeout: { type: "string", default: "420" },
    keep: { type: "boolean", default: false },
  },
});
for (const name of ["code-server", "vsix", "python"]) {
  if (!opts[name]) {
    console.error(`run.mjs: --${name} is required`);
    process.exit(2);
  }
}

const say = (line) => console.log(`[vscode-test] ${line}`);

/** A fresh VS Code profile, workspace and test harness in a temporary folder. */
function prepare(work) {
  const dirs = Object.fromEntries(
    ["home", "tmp", "data", "extensions", "workspace", "harness"].map((name) => [name, join(work, name)]),
  );
  Object.values(dirs).forEach((dir) => mkdirSync(dir, { recursive: true }));
  cpSync(join(HERE, "workspace"), dirs.workspace, { recursive: true });
  mkdirSync(join(dirs.data, "User"), { recursive: true });
  mkdirSync(join(dirs.data, "Machine"), { recursive: true });
  writeFileSync(join(dirs.data, "User/settings.json"), JSON.stringify(userSettings(), null, 2));
  // code-server is a remote window: machine-scoped settings belong in the machine's settings
  const machine = { "tenon.interpreterPath": resolve(opts.python) };
  writeFileSync(join(dirs.data, "Machine/settings.json"), JSON.stringify(machine, null, 2));
  writeFileSync(join(dirs.harness, "package.json"), JSON.stringify(harnessManifest(), null, 2));
  cpSync(join(CLIENT, "out/vscode/suite.js"), join(dirs.harness, "suite.js"));
  return dirs;
}

function userSettings() {
  return {
    "tenon.debounceDelay": 150,
    "workbench.startupEditor": "none",
    "workbench.tips.enabled": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "security.workspace.trust.enabled": false,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "editor.minimap.enabled": false,
    "editor.fontSize": 15,
    "window.zoomLevel": 0,
    "chat.commandCenter.enabled": false,
    "editor.wordBasedSuggestions": "off",
  };
}

function harnessManifest() {
  return {
    name: "tenon-vscode-tests",
    publisher: "tenon",
    version: "0.0.0",
    engines: { vscode: "^1.91.0" },
    description: "Runs Tenon's tests in the extension host; the extension under test is the installed .vsix",
  };
}

function environment(dirs) {
  return {
    ...process.env,
    HOME: dirs.home,
    TMPDIR: dirs.tmp,
    XDG_CONFIG_HOME: join(dirs.home, ".config"),
    XDG_DATA_HOME: join(dirs.home, ".local/share"),
    XDG_CACHE_HOME: join(dirs.home, ".cache"),
    // the model bundles stay where they are, outside the temporary HOME
    TENON_HOME: process.env.TENON_HOME || join(homedir(), ".cache/tenon"),
  };
}

function freePort() {
  return new Promise((done, fail) => {
    const server = net.createServer();
    server.on("error", fail);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => done(port));
    });
  });
}

async function waitForHttp(url, timeoutMs, server) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`code-server exited with ${server.exitCode}`);
    }
    try {
      if ((await fetch(url)).ok) {
        return;
      }
    } catch {
      // not up yet
    }
    await new Promise((done) => setTimeout(done, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs / 1000} s`);
}

function startCodeServer(dirs, port, env, log) {
  const server = spawn(
    opts["code-server"],
    [
      "--bind-addr", `127.0.0.1:${port}`,
      "--auth", "none",
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      "--user-data-dir", dirs.data,
      "--extensions-dir", dirs.extensions,
      dirs.workspace,
    ],
    { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stdout.pipe(log);
  server.stderr.pipe(log);
  return server;
}

function stop(child) {
  if (child && child.exitCode === null) {
    try {
      process.kill(-child.pid, "SIGTERM"); // its own process group: code-server and its children
    } catch {
      // already gone
    }
  }
}

/** What the suite can ask for: each action answers JSON. */
function actions(page, shots) {
  const shoot = async (name) => {
    if (name) {
      await page.waitForTimeout(300); // let the rendering settle
      await page.screenshot({ path: join(shots, `${name}.png`) });
    }
  };
  return {
    log: async ({ message }) => say(`suite: ${message}`),
    type: async ({ text }) => page.keyboard.type(text, { delay: 60 }),
    press: async ({ key }) => page.keyboard.press(key),
    cursorAt: async ({ line, column, timeoutMs = 10_000 }) => {
      // the status bar shows the renderer's cursor: keys typed before it moves would go elsewhere
      const where = page.locator(".statusbar-item", { hasText: `Ln ${line}, Col ${column}` }).first();
      await where.waitFor({ state: "visible", timeout: timeoutMs });
    },
    ghostText: async ({ screenshot, timeoutMs = 60_000 }) => {
      const first = ".monaco-editor .ghost-text-decoration"; // the ghost text on the cursor's line
      await page.locator(first).first().waitFor({ state: "visible", timeout: timeoutMs });
      await shoot(screenshot);
      const parts = await page.locator(first).allTextContents();
      return { text: parts.join("").replace(/\u00a0/g, " ") };
    },
    count: async ({ selector, text }) => {
      await page.waitForTimeout(500);
      return { count: await page.locator(selector, { hasText: text }).count() };
    },
    codeActionMenu: async ({ title, screenshot, timeoutMs = 60_000 }) => {
      const entry = page.locator(".action-widget .monaco-list-row", { hasText: title }).first();
      await entry.waitFor({ state: "visible", timeout: timeoutMs });
      await shoot(screenshot);
      return { text: (await page.locator(".action-widget").first().innerText()).replace(/\u00a0/g, " ") };
    },
  };
}

/** The loopback port the suite talks to. */
async function startDriver(handlers, page, shots) {
  const server = http.createServer(async (request, response) => {
    let body = "";
    for await (const chunk of request) body += chunk;
    let status = 200;
    let result;
    let params;
    try {
      params = JSON.parse(body || "{}");
      const handler = handlers[params.action];
      if (!handler) throw new Error(`unknown action ${params.action}`);
      result = (await handler(params)) ?? {};
    } catch (error) {
      status = 500;
      result = { error: String(error?.message ?? error) };
      say(`driver: ${result.error}`);
      await page.screenshot({ path: join(shots, `failed-${params?.action ?? "request"}.png`) }).catch(() => {});
    }
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(result));
  });
  await new Promise((done) => server.listen(0, "127.0.0.1", done));
  return server;
}

function testUrl(port, dirs) {
  const remote = (path) => `vscode-remote://127.0.0.1:${port}${path}`;
  const payload = [
    ["extensionDevelopmentPath", remote(dirs.harness)],
    ["extensionTestsPath", remote(join(dirs.harness, "suite.js"))],
    ["skipWelcome", "true"],
  ];
  return `http://127.0.0.1:${port}/?folder=${encodeURIComponent(dirs.workspace)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
}

async function main() {
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "tenon-vscode-"));
  const dirs = prepare(work);
  const env = environment(dirs);
  const shots = resolve(opts.screenshots);
  mkdirSync(shots, { recursive: true });
  const logPath = join(work, "code-server.log");
  const log = createWriteStream(logPath);
  let server;
  let browser;
  let driver;
  let code = 1;
  try {
    say(`installing ${opts.vsix}`);
    execFileSync(opts["code-server"], ["--install-extension", resolve(opts.vsix), "--force",
      "--extensions-dir", dirs.extensions, "--user-data-dir", dirs.data], { env, stdio: ["ignore", "pipe", "inherit"] });
    browser = await chromium.launch({
      executablePath: opts.chromium,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
    page.on("pageerror", (error) => say(`page error: ${error.message}`));
    const exited = new Promise((done) => page.exposeFunction("codeAutomationExit", (exitCode) => done(exitCode)));
    driver = await startDriver(actions(page, shots), page, shots);
    // the extension host, and so the suite, inherits code-server's environment
    env.TENON_TEST_DRIVER = `http://127.0.0.1:${driver.address().port}/`;
    const port = await freePort();
    server = startCodeServer(dirs, port, env, log);
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, server);
    say(`code-server on port ${port}; opening VS Code`);
    await page.goto(testUrl(port, dirs));
    const timeout = new Promise((done) => setTimeout(() => done("timeout"), Number(opts.timeout) * 1000));
    code = await Promise.race([exited, timeout]);
    if (code === "timeout") {
      say(`timed out after ${opts.timeout} s`);
      await page.screenshot({ path: join(shots, "timeout.png") }).catch(() => {});
      code = 1;
    }
  } catch (error) {
    say(`error: ${error?.stack ?? error}`);
    code = 1;
  } finally {
    await browser?.close().catch(() => {});
    driver?.close();
    stop(server);
    log.end();
  }
  say(`${code === 0 ? "passed" : "FAILED"} in ${((Date.now() - started) / 1000).toFixed(0)} s; screenshots in ${shots}`);
  if (code !== 0) {
    say(`code-server log (${logPath}), last lines:`);
    console.log(readFileSync(logPath, "utf8").split("\n").slice(-40).join("\n"));
  }
  if (code === 0 && !opts.keep) {
    rmSync(work, { recursive: true, force: true });
  } else {
    say(`kept ${work}`);
  }
  process.exit(code);
}

await main();
