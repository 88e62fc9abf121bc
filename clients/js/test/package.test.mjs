// The package without a server: the wire format option, the REST errors' shape, and what the
// library weighs in a browser bundle.

import assert from "node:assert/strict";
import { test } from "node:test";

import msgpackParser from "socket.io-msgpack-parser";

import { createClient, tokenExpiry } from "../dist/index.js";
import { msgpack } from "../dist/msgpack.js";
import { ApiError, createRest } from "../dist/rest.js";
import { bundledSize, ENTRIES } from "../scripts/size.mjs";

const offline = { autoConnect: false };

test("the default wire format is JSON on /socket.io/", () => {
  const client = createClient({ baseUrl: "http://127.0.0.1:9", getToken: () => "t", socketOptions: offline });
  assert.equal(client.socket.io.opts.path, "/socket.io"); // socket.io-client drops the slash
  assert.equal(client.socket.nsp, "/study-groups");
  client.close();
  assert.equal(client.state, "offline");
});

test("the msgpack wire format speaks the msgpack endpoint with the msgpack parser", () => {
  const client = createClient({
    baseUrl: "http://127.0.0.1:9/",
    getToken: () => "t",
    parser: msgpack,
    socketOptions: offline,
  });
  assert.equal(client.socket.io.opts.path, "/socket.io-msgpack/");
  assert.equal(client.socket.io.opts.parser, msgpackParser);
  client.close();
});

test("parser given as a string other than json is refused, saying where msgpack is", () => {
  assert.throws(
    () => createClient({ baseUrl: "http://127.0.0.1:9", getToken: () => "t", parser: "msgpack" }),
    /@studygroups\/client\/msgpack/,
  );
});

test("a REST error carries the API's statusCode, error and message, and the bearer token is sent", async () => {
  const seen = [];
  const fakeFetch = async (url, init) => {
    seen.push([url, init.headers.authorization, init.headers["idempotency-key"]]);
    return new Response(
      JSON.stringify({ statusCode: 409, error: "Conflict", message: "gate", required: 3, current: 1, missing: ["cy"] }),
      { status: 409, headers: { "content-type": "application/json" } },
    );
  };
  const rest = createRest({ baseUrl: "http://h/", getToken: async () => "tok", fetch: fakeFetch });
  const failure = await rest.advance("s 1", 1, "DISCUSSING", false, { idempotencyKey: "k1" }).catch((e) => e);
  assert.ok(failure instanceof ApiError);
  assert.equal(failure.status, 409);
  assert.deepEqual(failure.body.missing, ["cy"]);
  assert.equal(failure.message, "409 Conflict: gate");
  assert.deepEqual(seen, [["http://h/group-sessions/s%201/rounds/1/advance", "Bearer tok", "k1"]]);
});

test("the group administration methods send the role and the playlist's content id to their routes", async () => {
  const seen = [];
  const fakeFetch = async (url, init) => {
    seen.push([init.method, url, init.body]);
    if (init.method === "DELETE") return new Response(null, { status: 204 });
    return new Response(JSON.stringify({ ok: true }), { status: 200 });
  };
  const rest = createRest({ baseUrl: "http://h", getToken: async () => "tok", fetch: fakeFetch });
  await rest.setRole("g 1", "u/2", "MOD");
  await rest.addContent("g 1", "unit 2/a");
  assert.equal(await rest.removeContent("g 1", "unit 2/a"), undefined);
  assert.deepEqual(seen, [
    ["PATCH", "http://h/groups/g%201/members/u%2F2", '{"role":"MOD"}'],
    ["POST", "http://h/groups/g%201/contents", '{"content_id":"unit 2/a"}'],
    ["DELETE", "http://h/groups/g%201/contents/unit%202%2Fa", undefined],
  ]);
});

test("a token's exp is read without verifying it; a token without one has none", () => {
  const claims = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  assert.equal(tokenExpiry(`h.${claims({ sub: "a", exp: 1_900_000_000 })}.s`), 1_900_000_000_000);
  assert.equal(tokenExpiry(`Bearer h.${claims({ sub: "a", exp: 5 })}.s`), 5_000);
  assert.equal(tokenExpiry(`h.${claims({ sub: "a" })}.s`), null);
  assert.equal(tokenExpiry("not a jwt"), null);
});

test("the library adds under 5 KB gzipped to socket.io-client in a browser bundle", async () => {
  const client = await bundledSize(ENTRIES["socket.io-client alone"]);
  const library = await bundledSize(ENTRIES["realtime + rest"]);
  assert.ok(library.gzipped - client.gzipped < 5_000, `${library.gzipped} - ${client.gzipped} bytes`);
  assert.ok(library.gzipped < 25_000, `${library.gzipped} bytes`);
});
