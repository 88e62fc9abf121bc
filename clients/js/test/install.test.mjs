// The README's "Install" as a user runs it: `npm pack` the library, install the tarball into a
// scratch app, import every entry point from there (dependencies resolved from the app), and
// install again with a plain `npm install` (it keeps the tarball). Packages come from npm's
// cache (`npm ci` here filled it); the network is used only if they are missing.

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "node:test";

const LIBRARY = join(dirname(fileURLToPath(import.meta.url)), "..");
const QUIET = ["--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"];

function run(command, args, cwd) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8" });
  assert.equal(result.status, 0, `${command} ${args.join(" ")}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout.trim();
}

const IMPORTS = `
import { createClient } from "@studygroups/client";
import { createRest } from "@studygroups/client/rest";
import { msgpack } from "@studygroups/client/msgpack";
const client = createClient({ baseUrl: "http://127.0.0.1:9", getToken: () => "t", socketOptions: { autoConnect: false } });
client.close();
console.log(typeof createRest, msgpack.path, client.state);
`;

test("the packed tarball installs into an app, imports from there, and survives a later npm install", () => {
  const dir = mkdtempSync(join(tmpdir(), "studygroups-install-"));
  try {
    const tarball = run("npm", ["pack", "--pack-destination", dir, "--loglevel=error", LIBRARY], dir)
      .split("\n")
      .pop();
    writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "app", version: "1.0.0", private: true, type: "module" }));
    run("npm", ["install", ...QUIET, `./${tarball}`], dir);
    writeFileSync(join(dir, "app.mjs"), IMPORTS);
    assert.equal(run(process.execPath, ["app.mjs"], dir), "function /socket.io-msgpack/ offline");

    const manifest = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    assert.equal(manifest.dependencies["@studygroups/client"], `file:${tarball}`);
    run("npm", ["install", ...QUIET], dir); // what the app's next install does
    assert.equal(run(process.execPath, ["app.mjs"], dir), "function /socket.io-msgpack/ offline");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
