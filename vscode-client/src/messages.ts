// Messages that need the user: each says what happened and offers the action that fixes it.

import * as vscode from "vscode";
import { chooseInterpreter } from "./pickers";
import type { Fix } from "./pythonCheck";

const COPY = "Copy Command";
const CHOOSE = "Choose Interpreter…";
const LOGS = "Show Logs";
const RESTART = "Restart";

export async function showFix(fix: Fix, output: vscode.LogOutputChannel): Promise<void> {
  const text = `Tenon: ${fix.message}${fix.command ? ` ${fix.command}` : ""}`;
  const actions = fix.command ? [COPY, CHOOSE, LOGS] : [CHOOSE, LOGS];
  const picked = await vscode.window.showErrorMessage(text, ...actions);
  if (picked === COPY && fix.command) {
    await vscode.env.clipboard.writeText(fix.command);
  } else if (picked === CHOOSE) {
    await chooseInterpreter();
  } else if (picked === LOGS) {
    output.show(true);
  }
}

/** The first crash of a session; later ones only show in the status bar and the log. */
export async function reportCrash(output: vscode.LogOutputChannel): Promise<void> {
  const picked = await vscode.window.showWarningMessage(
    "Tenon: the server stopped unexpectedly and is being restarted. Further restarts are shown in the status bar only.",
    LOGS,
  );
  if (picked === LOGS) {
    output.show(true);
  }
}

export async function reportGaveUp(message: string, output: vscode.LogOutputChannel): Promise<void> {
  const picked = await vscode.window.showErrorMessage(`Tenon: ${message}.`, RESTART, LOGS);
  if (picked === RESTART) {
    await vscode.commands.executeCommand("tenon.restartServer");
  } else if (picked === LOGS) {
    output.show(true);
  }
}
