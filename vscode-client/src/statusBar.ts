// The status bar item: the server's state, and a spinner while a command the user started runs.

import * as vscode from "vscode";
import { clientStatus, render, TenonStatus } from "./status";

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem("tenon.status", vscode.StatusBarAlignment.Right, 100);
  private status: TenonStatus = clientStatus("starting", "");
  private running = 0;

  constructor() {
    this.item.name = "Tenon";
    this.item.command = "tenon.showMenu";
    this.show();
    this.item.show();
  }

  update(status: TenonStatus): void {
    this.status = status;
    this.show();
  }

  /** Run `work` with the spinner on; the spinner goes whatever happens. */
  async busy<T>(work: () => Thenable<T>): Promise<T> {
    this.running++;
    this.show();
    try {
      return await work();
    } finally {
      this.running--;
      this.show();
    }
  }

  dispose(): void {
    this.item.dispose();
  }

  private show(): void {
    const view = render(this.status, this.running > 0);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
  }
}
