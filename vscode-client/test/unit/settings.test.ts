import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { test } from "node:test";
import {
  CLIENT_DEFAULTS,
  CLIENT_KEYS,
  clientSettings,
  languageEnabled,
  SERVER_KEYS,
  serverSection,
} from "../../src/settings";

// out/unit/ after bundling, test/unit/ in the sources: the manifest is two folders up
const manifest = JSON.parse(readFileSync(resolve(__dirname, "../../package.json"), "utf8"));
const properties: Record<string, { default: unknown }> = manifest.contributes.configuration.properties;

test("package.json declares exactly the server's and the extension's settings", () => {
  const declared = Object.keys(properties).sort();
  const known = [...SERVER_KEYS, ...CLIENT_KEYS].map((key) => `tenon.${key}`).sort();
  assert.deepEqual(declared, known);
});

test("the extension's defaults are package.json's defaults", () => {
  for (const [key, value] of Object.entries(CLIENT_DEFAULTS)) {
    assert.deepEqual(properties[`tenon.${key}`].default, value, key);
  }
});

test("the server section nests dotted keys and leaves out unset ones", () => {
  const values: Record<string, unknown> = { enable: false, "maxTokens.line": 10, "maxTokens.body": 99, logLevel: "debug" };
  assert.deepEqual(serverSection((key) => values[key]), {
    enable: false,
    maxTokens: { line: 10, body: 99 },
    logLevel: "debug",
  });
});

test("the server section built from package.json's defaults holds only server keys", () => {
  const section = serverSection((key) => properties[`tenon.${key}`]?.default);
  assert.equal(Object.keys(section).length, SERVER_KEYS.length - 2); // maxTokens.* are one object
  assert.deepEqual(section.maxTokens, { line: 48, block: 128, body: 256 });
  for (const key of CLIENT_KEYS) {
    assert.equal(key in section, false, key);
  }
});

test("client settings of the wrong type fall back to their defaults", () => {
  const bad: Record<string, unknown> = { languages: ["python"], interpreterPath: 3, debounceDelay: -5, completionList: "yes" };
  assert.deepEqual(clientSettings((key) => bad[key]), CLIENT_DEFAULTS);
  const good: Record<string, unknown> = {
    languages: { python: false, other: "x" },
    interpreterPath: " /usr/bin/python3 ",
    debounceDelay: 0,
    completionList: true,
  };
  assert.deepEqual(clientSettings((key) => good[key]), {
    languages: { python: false },
    interpreterPath: "/usr/bin/python3",
    debounceDelay: 0,
    completionList: true,
  });
});

test("a language is on unless tenon.languages turns it off", () => {
  const settings = { ...CLIENT_DEFAULTS, languages: { python: false } };
  assert.equal(languageEnabled(settings, "python"), false);
  assert.equal(languageEnabled(CLIENT_DEFAULTS, "python"), true);
  assert.equal(languageEnabled(CLIENT_DEFAULTS, "cython"), true);
});
