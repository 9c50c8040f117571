// The quick pick behind the status bar item.

import * as vscode from "vscode";

interface Entry extends vscode.QuickPickItem {
  command: string;
}

export async function showMenu(enabled: boolean): Promise<void> {
  const entries: Entry[] = [
    enabled
      ? { label: "$(circle-slash) Disable completions", command: "tenon.toggleEnable" }
      : { label: "$(check) Enable completions", command: "tenon.toggleEnable" },
    { label: "$(output) Show logs", command: "tenon.showLogs" },
    { label: "$(debug-restart) Restart server", command: "tenon.restartServer" },
    { label: "$(package) Choose model bundle…", command: "tenon.chooseBundle" },
    { label: "$(wand) Generate from docstring at cursor", command: "tenon.generateAtCursor" },
  ];
  const picked = await vscode.window.showQuickPick(entries, { title: "Tenon" });
  if (picked) {
    await vscode.commands.executeCommand(picked.command);
  }
}
