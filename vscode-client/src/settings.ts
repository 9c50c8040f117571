// Tenon's settings: the ones the server reads (same names and defaults as
// server/tenon/settings.py, kept equal by tests) and the ones only the extension reads.

export const SECTION = "tenon";

/** Settings sent to the server, as keys under `tenon.`. */
export const SERVER_KEYS = [
  "enable",
  "bundlePath",
  "device",
  "threads",
  "maxTokens.line",
  "maxTokens.block",
  "maxTokens.body",
  "temperature",
  "topP",
  "prefixTokens",
  "suffixTokens",
  "contextTokens",
  "typingPrefixTokens",
  "typingSuffixTokens",
  "candidates",
  "draftTokens",
  "logLevel",
] as const;

/** Settings only the extension reads (`trace.server` is read by the language client). */
export const CLIENT_KEYS = [
  "languages",
  "interpreterPath",
  "debounceDelay",
  "completionList",
  "trace.server",
] as const;

/** Reads one setting under `tenon.`; undefined when it has no value. */
export type Getter = (key: string) => unknown;

export interface ClientSettings {
  languages: Record<string, boolean>;
  interpreterPath: string;
  debounceDelay: number;
  completionList: boolean;
}

export const CLIENT_DEFAULTS: ClientSettings = {
  languages: { python: true },
  interpreterPath: "",
  debounceDelay: 150,
  completionList: false,
};

/** The server's section: `maxTokens.line` becomes `{maxTokens: {line}}`; unset keys are left out. */
export function serverSection(get: Getter): Record<string, unknown> {
  const section: Record<string, unknown> = {};
  for (const key of SERVER_KEYS) {
    const value = get(key);
    if (value === undefined) {
      continue;
    }
    const [head, tail] = key.split(".");
    if (tail === undefined) {
      section[head] = value;
    } else {
      const group = section[head];
      section[head] = { ...(isRecord(group) ? group : {}), [tail]: value };
    }
  }
  return section;
}

/** The extension's own settings; a value of the wrong type falls back to its default. */
export function clientSettings(get: Getter): ClientSettings {
  const languages = get("languages");
  const path = get("interpreterPath");
  const delay = get("debounceDelay");
  const list = get("completionList");
  return {
    languages: isRecord(languages) ? booleans(languages) : CLIENT_DEFAULTS.languages,
    interpreterPath: typeof path === "string" ? path.trim() : CLIENT_DEFAULTS.interpreterPath,
    debounceDelay:
      typeof delay === "number" && Number.isFinite(delay) && delay >= 0 ? delay : CLIENT_DEFAULTS.debounceDelay,
    completionList: typeof list === "boolean" ? list : CLIENT_DEFAULTS.completionList,
  };
}

/** Completions are on for a language unless `tenon.languages` turns it off. */
export function languageEnabled(settings: ClientSettings, languageId: string): boolean {
  return settings.languages[languageId] !== false;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function booleans(record: Record<string, unknown>): Record<string, boolean> {
  const result: Record<string, boolean> = {};
  for (const [key, value] of Object.entries(record)) {
    if (typeof value === "boolean") {
      result[key] = value;
    }
  }
  return result;
}
