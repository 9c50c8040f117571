// The server's `tenon/status` notification, checked, and how the status bar shows it.

import { isRecord } from "./settings";

export const STATUS_METHOD = "tenon/status";

/** The server's states, and `stopped` for a server that is not running. */
export const STATES = ["starting", "loading", "ready", "error", "disabled", "stopped"] as const;
export type State = (typeof STATES)[number];

export interface ModelInfo {
  name: string;
  path: string;
  quantization: string;
  providerNote: string;
  loadMs: number | null;
}

export interface TenonStatus {
  state: State;
  message: string;
  provider: string;
  lastLatencyMs: number | null;
  model: ModelInfo | null;
}

export function clientStatus(state: State, message: string): TenonStatus {
  return { state, message, provider: "", lastLatencyMs: null, model: null };
}

/** The notification's params as a TenonStatus, or undefined when they are not one. */
export function parseStatus(raw: unknown): TenonStatus | undefined {
  if (!isRecord(raw) || !isState(raw.state)) {
    return undefined;
  }
  return {
    state: raw.state,
    message: text(raw.message),
    provider: text(raw.provider),
    lastLatencyMs: number(raw.lastLatencyMs),
    model: isRecord(raw.model) && typeof raw.model.name === "string" ? parseModel(raw.model) : null,
  };
}

function parseModel(raw: Record<string, unknown>): ModelInfo {
  return {
    name: text(raw.name),
    path: text(raw.path),
    quantization: text(raw.quantization),
    providerNote: text(raw.providerNote),
    loadMs: number(raw.loadMs),
  };
}

export interface StatusView {
  text: string;
  tooltip: string;
  error: boolean;
}

/** What the status bar item shows; `busy` while a command the user started runs. */
export function render(status: TenonStatus, busy = false): StatusView {
  const message = status.message ? `\n\n${status.message}` : "";
  const action = "\n\nClick for Tenon's menu.";
  switch (status.state) {
    case "starting":
      return view("$(loading~spin) Tenon", `Tenon: starting the server${message}`);
    case "loading":
      return view("$(loading~spin) Tenon: loading model", `Tenon: loading the model${message}`);
    case "ready":
      return view(readyText(status, busy), readyTooltip(status) + action);
    case "disabled":
      return view("$(circle-slash) Tenon", `Tenon is disabled${message}${action}`);
    case "error":
      return { ...view("$(error) Tenon", `Tenon: error${message}${action}`), error: true };
    case "stopped":
      return { ...view("$(debug-stop) Tenon", `Tenon: the server is not running${message}${action}`), error: true };
  }
}

function readyText(status: TenonStatus, busy: boolean): string {
  const icon = busy ? "$(loading~spin)" : "$(sparkle)";
  const parts = [`${icon} Tenon`, shortProvider(status.provider), formatLatency(status.lastLatencyMs)];
  return parts.filter((part) => part !== "").join(" · ");
}

function readyTooltip(status: TenonStatus): string {
  const lines = ["Tenon: ready"];
  if (status.message) {
    lines.push(status.message);
  }
  const model = status.model;
  if (model) {
    const quantization = model.quantization ? ` (${model.quantization})` : "";
    const loaded = model.loadMs !== null ? `, loaded in ${formatLatency(model.loadMs)}` : "";
    lines.push(`Model: ${model.name}${quantization}${loaded}`);
  }
  if (status.lastLatencyMs !== null) {
    lines.push(`Last completion: ${formatLatency(status.lastLatencyMs)}`);
  }
  return lines.join("\n");
}

/** `CUDAExecutionProvider` → `CUDA`, `CPUExecutionProvider` → `CPU`. */
export function shortProvider(provider: string): string {
  return provider.replace(/ExecutionProvider$/, "");
}

/** `850 ms`, `1.2 s`; empty when unknown. */
export function formatLatency(ms: number | null): string {
  if (ms === null) {
    return "";
  }
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

function view(text: string, tooltip: string): StatusView {
  return { text, tooltip, error: false };
}

function isState(value: unknown): value is State {
  return typeof value === "string" && (STATES as readonly string[]).includes(value);
}

function text(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function number(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}
