// Builds the console into the Python package (src/studygroups/console/static), byte for byte
// the same on every machine: `node build.mjs` (scripts/check runs it and fails on a diff).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "..", "src", "studygroups", "console", "static");
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [join(here, "src", "main.js")],
  outfile: join(out, "console.js"),
  bundle: true,
  minify: true,
  format: "esm",
  target: ["chrome100", "firefox100", "safari15"],
  legalComments: "eof",
  logLevel: "warning",
});
await build({
  entryPoints: [join(here, "src", "style.css")],
  outfile: join(out, "console.css"),
  bundle: true,
  minify: true,
  logLevel: "warning",
});
for (const name of ["index.html", "icon.svg"]) copyFileSync(join(here, "src", name), join(out, name));

// The budget is 150 KB of JavaScript gzipped (reported, not enforced: see README.md).
const js = readFileSync(join(out, "console.js"));
const kb = (bytes) => (bytes / 1024).toFixed(1);
console.log(`console.js: ${kb(js.length)} KB, ${kb(gzipSync(js).length)} KB gzipped (all of the console's JavaScript; budget 150 KB)`);
