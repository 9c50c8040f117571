// "Tenon: Generate from docstring at cursor": the server's command, which applies its edit
// through workspace/applyEdit and reports progress itself.

import * as vscode from "vscode";
import type { TenonClient } from "./client";
import type { StatusBar } from "./statusBar";

export const SERVER_COMMAND = "tenon.generateFromDocstring";

export async function generateAtCursor(client: TenonClient, statusBar: StatusBar): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined || editor.document.languageId !== "python") {
    void vscode.window.showInformationMessage("Tenon: put the cursor in a Python function with a docstring.");
    return;
  }
  const { document, selection } = editor;
  const position = { line: selection.active.line, character: selection.active.character };
  try {
    // when nothing is applied, the server says why itself
    await statusBar.busy(() =>
      client.executeCommand(SERVER_COMMAND, [document.uri.toString(), position, document.version]),
    );
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    void vscode.window.showErrorMessage(`Tenon: Generate from docstring failed: ${message}`);
  }
}
