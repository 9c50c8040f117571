// Choosing a file or folder for a path setting.

import * as vscode from "vscode";
import { SECTION } from "./settings";

export async function chooseInterpreter(): Promise<void> {
  const picked = await vscode.window.showOpenDialog({
    title: "Tenon: the Python that runs the server (it needs the tenon package)",
    openLabel: "Use this Python",
    canSelectFiles: true,
    canSelectFolders: false,
  });
  if (picked?.[0]) {
    await update("interpreterPath", picked[0].fsPath);
  }
}

const DEFAULT_BUNDLE = "$(home) Default bundle";
const FOLDER = "$(folder) Choose a bundle folder…";

export async function chooseBundle(): Promise<void> {
  const choice = await vscode.window.showQuickPick([DEFAULT_BUNDLE, FOLDER], {
    title: "Tenon: model bundle",
    placeHolder: "The model reloads in place",
  });
  if (choice === DEFAULT_BUNDLE) {
    await update("bundlePath", "");
    return;
  }
  if (choice !== FOLDER) {
    return;
  }
  const picked = await vscode.window.showOpenDialog({
    title: "Tenon: a model bundle folder (it holds manifest.json)",
    openLabel: "Use this bundle",
    canSelectFiles: false,
    canSelectFolders: true,
  });
  if (picked?.[0]) {
    await update("bundlePath", picked[0].fsPath);
  }
}

function update(key: string, value: string): Thenable<void> {
  return vscode.workspace.getConfiguration(SECTION).update(key, value, vscode.ConfigurationTarget.Global);
}
