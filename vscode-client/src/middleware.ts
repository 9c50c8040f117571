// What VS Code asks and what reaches the server: ghost text waits for a pause in typing and
// is dropped when the request is cancelled meanwhile; the suggestion list is opt-in.

import * as vscode from "vscode";
import type { Middleware } from "vscode-languageclient/node";
import { settle } from "./debounce";
import { ClientSettings, languageEnabled } from "./settings";

export function middleware(settings: () => ClientSettings): Middleware {
  return {
    async provideInlineCompletionItems(document, position, context, token, next) {
      const current = settings();
      if (!languageEnabled(current, document.languageId)) {
        return null;
      }
      const typed = context.triggerKind === vscode.InlineCompletionTriggerKind.Automatic;
      if (typed && !(await settle(current.debounceDelay, token))) {
        return null;
      }
      return next(document, position, context, token);
    },
    provideCompletionItem(document, position, context, token, next) {
      const current = settings();
      if (!current.completionList || !languageEnabled(current, document.languageId)) {
        return null;
      }
      return next(document, position, context, token);
    },
  };
}
