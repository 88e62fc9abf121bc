'use strict';
// A fresh PostgreSQL database per cluster run of ours, dropped afterwards: through psql, as the
// superuser of the local server (trust auth). BENCH_PG_HOST / BENCH_PG_PORT / BENCH_PG_USER
// point elsewhere. Every database created is also listed in $BENCH_DBFILE, so that bench/run's
// exit trap drops what a killed generator left behind.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');

const HOST = process.env.BENCH_PG_HOST || '127.0.0.1';
const PORT = process.env.BENCH_PG_PORT || '5432';
const USER = process.env.BENCH_PG_USER || 'postgres';
const created = new Set();

function psql(sql) {
  execFileSync('psql', ['-h', HOST, '-p', PORT, '-U', USER, '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

function writeDbfile() {
  const f = process.env.BENCH_DBFILE;
  if (!f) return;
  try {
    fs.writeFileSync(f, [...created].map((d) => `${d}\n`).join(''));
  } catch { /* best effort */ }
}

/** CREATE DATABASE name -> name (lower-case letters, digits and _ only). */
function createDatabase(name) {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
  try {
    psql(`CREATE DATABASE ${name}`);
  } catch (e) {
    throw new Error(`cannot create the PostgreSQL database ${name} on ${USER}@${HOST}:${PORT} (psql): ${String(e.stderr || e.message).trim()}`);
  }
  created.add(name);
  writeDbfile();
  return name;
}

/** DROP DATABASE … WITH (FORCE): ends the sessions a killed server left behind. */
function dropDatabase(name) {
  try {
    psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    created.delete(name);
    writeDbfile();
  } catch (e) {
    console.error(`bench: could not drop database ${name}: ${String(e.stderr || e.message).trim()}`);
  }
}

function dropAll() {
  for (const name of [...created]) dropDatabase(name);
}

const sqlalchemyUrl = (name) => `postgresql+asyncpg://${USER}@${HOST}:${PORT}/${name}`;

module.exports = { createDatabase, dropDatabase, dropAll, sqlalchemyUrl };
