// Owns the LanguageClient: finds the interpreter, starts and stops the server, restarts it
// with back-off after a crash, forwards settings and reports the server's status.

import * as vscode from "vscode";
import {
  CloseAction,
  CloseHandlerResult,
  DidChangeConfigurationNotification,
  ErrorAction,
  ExecuteCommandRequest,
  LanguageClient,
  LanguageClientOptions,
  RevealOutputChannelOn,
  ServerOptions,
} from "vscode-languageclient/node";
import { RestartPolicy } from "./backoff";
import { Discovery, discover } from "./interpreter";
import { reportCrash, reportGaveUp, showFix } from "./messages";
import { middleware } from "./middleware";
import { fixFor } from "./pythonCheck";
import { LevelSink, pipeServerLog } from "./serverLog";
import { clientSettings, ClientSettings, Getter, SECTION, SERVER_KEYS, serverSection } from "./settings";
import { clientStatus, parseStatus, STATUS_METHOD, TenonStatus } from "./status";

/** The documents Tenon serves: Python files and unsaved Python buffers. */
export const DOCUMENT_SELECTOR = [
  { scheme: "file", language: "python" },
  { scheme: "untitled", language: "python" },
];

export class NotRunning extends Error {}

export class TenonClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<void> | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private generation = 0; // the latest start() wins
  private crashReported = false;
  private readonly policy = new RestartPolicy();
  private current = clientStatus("starting", "");
  private readonly changed = new vscode.EventEmitter<TenonStatus>();
  readonly onDidChangeStatus = this.changed.event;

  constructor(private readonly output: vscode.LogOutputChannel) {}

  get status(): TenonStatus {
    return this.current;
  }

  /** Start the server (stopping the one running); the user asked, so earlier crashes are forgotten. */
  async restart(): Promise<void> {
    this.policy.reset();
    this.crashReported = false;
    await this.start();
  }

  async start(): Promise<void> {
    const generation = ++this.generation;
    this.cancelRestart();
    await this.stopClient();
    this.setStatus(clientStatus("starting", "looking for Python"));
    const found = await discover(readClientSettings().interpreterPath, process.env, (line) =>
      this.output.info(line),
    );
    if (generation !== this.generation) {
      return;
    }
    if (!found.ok) {
      this.interpreterMissing(found);
      return;
    }
    this.setStatus(clientStatus("starting", `starting the server with ${found.python}`));
    const client = this.createClient(found.python);
    this.client = client;
    this.starting = client.start().catch((error: unknown) => {
      if (this.client === client && this.restartTimer === undefined) {
        this.setStatus(clientStatus("error", `the server did not start: ${describe(error)}`));
      }
    });
    await this.starting;
  }

  /** Send the server its settings when they changed, or restart it when the interpreter did. */
  async configurationChanged(event: vscode.ConfigurationChangeEvent): Promise<void> {
    if (!event.affectsConfiguration(SECTION)) {
      return;
    }
    if (event.affectsConfiguration(`${SECTION}.interpreterPath`)) {
      await this.restart();
      return;
    }
    const forServer = SERVER_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`));
    if (forServer && this.client?.isRunning()) {
      const settings = { [SECTION]: serverSection(settingsGetter()) };
      await this.client.sendNotification(DidChangeConfigurationNotification.type, { settings });
    }
  }

  /** Run one of the server's commands (workspace/executeCommand). */
  async executeCommand(command: string, args: unknown[]): Promise<unknown> {
    const client = this.client;
    if (client === undefined || !client.isRunning()) {
      throw new NotRunning(`the server is not running (${this.current.state}: ${this.current.message})`);
    }
    return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
  }

  async dispose(): Promise<void> {
    this.generation++;
    this.cancelRestart();
    await this.stopClient();
    this.changed.dispose();
  }

  private createClient(python: string): LanguageClient {
    const serverOptions: ServerOptions = {
      command: python,
      args: ["-m", "tenon", "serve"],
      options: { env: process.env },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      initializationOptions: { [SECTION]: serverSection(settingsGetter()) },
      middleware: middleware(readClientSettings),
      stdioOptions: {
        stdout: (input, channel) => pipeServerLog(input, levels(channel)),
        stderr: (input, channel) => pipeServerLog(input, levels(channel)),
      },
      errorHandler: {
        // logged by the client; a crash is reported once, by closed()
        error: () => ({ action: ErrorAction.Continue, handled: true }),
        closed: () => this.closed(client),
      },
    };
    const client = new LanguageClient("tenon", "Tenon", serverOptions, clientOptions);
    client.onNotification(STATUS_METHOD, (params: unknown) => {
      const status = parseStatus(params);
      if (status !== undefined && this.client === client) {
        this.setStatus(status);
      }
    });
    return client;
  }

  /** The server's connection closed without a stop: restart it after a back-off, or give up. */
  private closed(client: LanguageClient): CloseHandlerResult {
    if (client !== this.client) {
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    const delay = this.policy.next(Date.now());
    if (delay === undefined) {
      const message = "the server kept crashing and was not restarted";
      this.setStatus(clientStatus("stopped", message));
      void reportGaveUp(message, this.output);
      return { action: CloseAction.DoNotRestart, handled: true };
    }
    this.setStatus(clientStatus("stopped", `the server stopped; restarting in ${delay / 1000} s`));
    if (!this.crashReported) {
      this.crashReported = true;
      void reportCrash(this.output);
    }
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      void this.start();
    }, delay);
    return { action: CloseAction.DoNotRestart, handled: true };
  }

  private interpreterMissing(found: Extract<Discovery, { ok: false }>): void {
    const fix = fixFor(found.python, found.result);
    this.setStatus(clientStatus("error", fix.message));
    this.output.info(fix.command ? `${fix.message}\n    ${fix.command}` : fix.message);
    void showFix(fix, this.output);
  }

  private async stopClient(): Promise<void> {
    const client = this.client;
    const starting = this.starting;
    this.client = undefined;
    this.starting = undefined;
    if (client === undefined) {
      return;
    }
    await starting; // a client that is still starting cannot be stopped
    await client.dispose().catch((error: unknown) => {
      this.output.info(`stopping the server: ${describe(error)}`);
    });
  }

  private cancelRestart(): void {
    clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
  }

  private setStatus(status: TenonStatus): void {
    this.current = status;
    this.changed.fire(status);
  }
}

export function settingsGetter(): Getter {
  const config = vscode.workspace.getConfiguration(SECTION);
  return (key) => config.get(key);
}

export function readClientSettings(): ClientSettings {
  return clientSettings(settingsGetter());
}

/** tenon.logLevel already filters on the server: debug and trace show at the channel's default level. */
function levels(channel: vscode.LogOutputChannel): LevelSink {
  return {
    error: (text) => channel.error(text),
    warn: (text) => channel.warn(text),
    info: (text) => channel.info(text),
    debug: (text) => channel.info(`[debug] ${text}`),
    trace: (text) => channel.info(`[trace] ${text}`),
  };
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
