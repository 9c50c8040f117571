// Which Python runs the server: the setting, else the Python extension's active interpreter,
// else `python3`; the first of them that has the server wins.

import * as os from "node:os";
import * as vscode from "vscode";
import { CheckResult, checkInterpreter } from "./pythonCheck";

export interface Candidate {
  python: string;
  source: "setting" | "Python extension" | "default";
}

export type Discovery =
  | { ok: true; python: string; version: string; source: Candidate["source"] }
  | { ok: false; python: string; result: Exclude<CheckResult, { ok: true }> };

export async function discover(setting: string, env: NodeJS.ProcessEnv, log: (line: string) => void): Promise<Discovery> {
  const candidates = await candidatesFor(setting, log);
  let first: Discovery | undefined;
  for (const candidate of candidates) {
    const result = await checkInterpreter(candidate.python, env);
    if (result.ok) {
      log(`Python: ${candidate.python} (${candidate.source}), tenon ${result.version}`);
      return { ok: true, python: candidate.python, version: result.version, source: candidate.source };
    }
    log(`Python: ${candidate.python} (${candidate.source}) cannot serve: ${result.problem} ${result.detail}`);
    first ??= { ok: false, python: candidate.python, result };
  }
  // candidatesFor always returns at least `python3`, so `first` is set
  return first ?? { ok: false, python: "python3", result: { ok: false, problem: "no-python", detail: "" } };
}

async function candidatesFor(setting: string, log: (line: string) => void): Promise<Candidate[]> {
  if (setting !== "") {
    return [{ python: expandHome(setting), source: "setting" }];
  }
  const fromExtension = await pythonExtensionInterpreter().catch((error: unknown) => {
    log(`Python extension: no interpreter (${String(error)})`);
    return undefined;
  });
  const candidates: Candidate[] = fromExtension ? [{ python: fromExtension, source: "Python extension" }] : [];
  return [...candidates, { python: "python3", source: "default" }];
}

/** The active interpreter of the ms-python extension, when it is installed. */
async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension("ms-python.python");
  if (extension === undefined) {
    return undefined;
  }
  const api: unknown = extension.isActive ? extension.exports : await extension.activate();
  const environments = field(api, "environments");
  const getActive = field(environments, "getActiveEnvironmentPath");
  const resolve = field(environments, "resolveEnvironment");
  if (typeof getActive !== "function" || typeof resolve !== "function") {
    return undefined;
  }
  const active: unknown = getActive.call(environments);
  const resolved: unknown = await resolve.call(environments, active);
  const path = field(field(field(resolved, "executable"), "uri"), "fsPath");
  return typeof path === "string" && path !== "" ? path : undefined;
}

function field(value: unknown, name: string): unknown {
  return typeof value === "object" && value !== null ? Reflect.get(value, name) : undefined;
}

function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? os.homedir() + path.slice(1) : path;
}
