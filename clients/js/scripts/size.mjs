// What the library adds to a browser bundle: each entry bundled with its dependencies
// (socket.io-client included), minified, gzipped. `npm run size` prints the figures; the test
// suite holds them under a budget (the console's JavaScript must stay within 150 KB gzipped).

import { gzipSync } from "node:zlib";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

import { build } from "esbuild";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Gzipped bytes of `code` bundled for browsers, minified. */
export async function bundledSize(code) {
  const result = await build({
    stdin: { contents: code, resolveDir: ROOT, loader: "js" },
    bundle: true,
    minify: true,
    format: "esm",
    platform: "browser",
    write: false,
    logLevel: "silent",
  });
  const bytes = result.outputFiles[0].contents;
  return { minified: bytes.length, gzipped: gzipSync(bytes, { level: 9 }).length };
}

export const ENTRIES = {
  "socket.io-client alone": 'import { io } from "socket.io-client"; globalThis.x = io;',
  "realtime (createClient)": 'import { createClient } from "./dist/index.js"; globalThis.x = createClient;',
  "realtime + rest": 'import { createClient } from "./dist/index.js"; import { createRest } from "./dist/rest.js"; globalThis.x = [createClient, createRest];',
  "realtime + rest + msgpack": 'import { createClient } from "./dist/index.js"; import { createRest } from "./dist/rest.js"; import { msgpack } from "./dist/msgpack.js"; globalThis.x = [createClient, createRest, msgpack];',
  "rest alone": 'import { createRest } from "./dist/rest.js"; globalThis.x = createRest;',
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [name, code] of Object.entries(ENTRIES)) {
    const { minified, gzipped } = await bundledSize(code);
    console.log(`${name.padEnd(28)} ${String(minified).padStart(7)} B minified ${String(gzipped).padStart(7)} B gzipped`);
  }
}
