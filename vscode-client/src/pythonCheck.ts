// Does an interpreter have the server? Run it once, and say how to fix it when not.

import { execFile } from "node:child_process";

/** Imports what `python -m tenon serve` needs, and prints the version. */
const PROBE = "import tenon, tenon.server; print(tenon.__version__)";

export type CheckResult =
  | { ok: true; version: string }
  | { ok: false; problem: "no-python" | "no-tenon" | "no-dependency" | "failed"; detail: string };

export function checkInterpreter(python: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CheckResult> {
  return new Promise((resolve) => {
    execFile(python, ["-c", PROBE], { env, timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve(error ? classify(error, String(stderr)) : { ok: true, version: String(stdout).trim() });
    });
  });
}

/** What went wrong, from execFile's error and the interpreter's stderr. */
export interface RunError {
  message: string;
  code?: string | number | null;
  killed?: boolean;
}

export function classify(error: RunError, stderr: string): CheckResult {
  if (error.code === "ENOENT" || error.code === "EACCES") {
    return { ok: false, problem: "no-python", detail: error.message };
  }
  const missing = /No module named '([^']+)'/.exec(stderr)?.[1];
  if (missing !== undefined) {
    const top = missing.split(".")[0];
    return { ok: false, problem: top === "tenon" ? "no-tenon" : "no-dependency", detail: top };
  }
  const lastLine = stderr.trim().split("\n").pop() ?? "";
  const detail = error.killed ? "it did not answer in time" : lastLine || error.message;
  return { ok: false, problem: "failed", detail };
}

export interface Fix {
  message: string;
  /** The shell command that fixes it, when there is one. */
  command: string | undefined;
}

/** What to tell the user about a failed check of `python`. */
export function fixFor(python: string, result: Exclude<CheckResult, { ok: true }>): Fix {
  const quoted = shellQuote(python);
  switch (result.problem) {
    case "no-python":
      return {
        message: `no Python at ${python}. Install Python 3.10 or newer, or set tenon.interpreterPath.`,
        command: "sudo apt-get install python3 python3-venv",
      };
    case "no-tenon":
      return {
        message:
          `the tenon package is not installed for ${python}. In a Tenon checkout, run make install ` +
          "and set tenon.interpreterPath to its .venv/bin/python, or install it into this Python:",
        command: `${quoted} -m pip install /path/to/tenon`,
      };
    case "no-dependency":
      return {
        message: `${python} has tenon but not its dependency ${result.detail}. Install it:`,
        command: `${quoted} -m pip install ${result.detail}`,
      };
    case "failed":
      return { message: `${python} could not load the server: ${result.detail}`, command: undefined };
  }
}

export function shellQuote(word: string): string {
  return /^[\w./@%+=:,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
