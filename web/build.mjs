// Builds the candidate page into dist/ (served by the interview server at `/`).
// One bundle (esbuild) for the script, the HTML and CSS copied beside it.
// Run by scripts/setup.sh after `npm ci`; dist/ is never committed.
import { build } from "esbuild";
import { copyFile, mkdir, rm } from "node:fs/promises";

const out = new URL("./dist/", import.meta.url);
await rm(out, { recursive: true, force: true });
await mkdir(new URL("./assets/", out), { recursive: true });
await build({
  entryPoints: [new URL("./src/main.js", import.meta.url).pathname],
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["es2020"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  outfile: new URL("./assets/app.js", out).pathname,
  logLevel: "warning",
});
await copyFile(new URL("./src/index.html", import.meta.url), new URL("./index.html", out));
await copyFile(new URL("./src/style.css", import.meta.url), new URL("./assets/style.css", out));
console.log("web: built dist/ (index.html, assets/app.js, assets/style.css)");
