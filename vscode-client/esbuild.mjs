// Bundles the extension into out/extension.js (what the .vsix ships); with --tests, also the
// Node unit tests (out/unit/) and the suite that runs inside VS Code (out/vscode/suite.js).
import { build } from "esbuild";
import { readdirSync } from "node:fs";

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  external: ["vscode"],
  sourcemap: "linked",
  logLevel: "warning",
};

await build({ ...common, entryPoints: ["src/extension.ts"], outfile: "out/extension.js", sourcemap: false, minify: true, keepNames: true });

if (process.argv.includes("--tests")) {
  const units = readdirSync("test/unit").filter((name) => name.endsWith(".test.ts"));
  await build({ ...common, entryPoints: units.map((name) => `test/unit/${name}`), outdir: "out/unit" });
  await build({ ...common, entryPoints: ["test/vscode/suite.ts"], outfile: "out/vscode/suite.js" });
}
