// Wires Tenon's parts together; each part lives in its own module.

import * as vscode from "vscode";
import { TenonClient } from "./client";
import { registerCommands } from "./commands";
import type { TenonStatus } from "./status";
import { StatusBar } from "./statusBar";

/** What the extension exports: the server's status, for other extensions and the tests. */
export interface TenonApi {
  status(): TenonStatus;
  onDidChangeStatus: vscode.Event<TenonStatus>;
}

let running: TenonClient | undefined;

export function activate(context: vscode.ExtensionContext): TenonApi {
  const output = vscode.window.createOutputChannel("Tenon", { log: true });
  const statusBar = new StatusBar();
  const client = new TenonClient(output);
  running = client;
  context.subscriptions.push(
    output,
    statusBar,
    client,
    client.onDidChangeStatus((status) => statusBar.update(status)),
    vscode.workspace.onDidChangeConfiguration((event) => client.configurationChanged(event)),
    ...registerCommands(client, statusBar, output),
  );
  void client.start();
  return { status: () => client.status, onDidChangeStatus: client.onDidChangeStatus };
}

export async function deactivate(): Promise<void> {
  await running?.dispose();
  running = undefined;
}
