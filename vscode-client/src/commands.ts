// The extension's commands. (The server's own commands, tenon.reloadModel and
// tenon.generateFromDocstring, are registered by the language client.)

import * as vscode from "vscode";
import { settingsGetter, TenonClient } from "./client";
import { generateAtCursor } from "./generate";
import { showMenu } from "./menu";
import { chooseBundle } from "./pickers";
import { SECTION } from "./settings";
import type { StatusBar } from "./statusBar";

export function registerCommands(
  client: TenonClient,
  statusBar: StatusBar,
  output: vscode.LogOutputChannel,
): vscode.Disposable[] {
  const register = vscode.commands.registerCommand;
  return [
    register("tenon.showMenu", () => showMenu(enabled())),
    register("tenon.toggleEnable", () => setEnabled(!enabled())),
    register("tenon.showLogs", () => output.show(true)),
    register("tenon.restartServer", () => client.restart()),
    register("tenon.chooseBundle", chooseBundle),
    register("tenon.generateAtCursor", () => generateAtCursor(client, statusBar)),
  ];
}

function enabled(): boolean {
  return settingsGetter()("enable") !== false;
}

function setEnabled(value: boolean): Thenable<void> {
  return vscode.workspace.getConfiguration(SECTION).update("enable", value, vscode.ConfigurationTarget.Global);
}
