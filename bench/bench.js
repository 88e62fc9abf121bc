'use strict';
// The load generator and orchestrator: starts each server pinned to its core, runs a scenario
// against ours and the peer alternately (A B A B ...), and prints medians and ours/peer ratios.
//   node bench.js <fanout|chat|burst|connections|recover|soak|all> [--rounds N] [--only ours|peer] [...]
// Normally started through bench/run, which pins this process to core 0.
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const servers = require('./lib/servers');
const { median, NoiseMeter } = require('./lib/stats');

const SCENARIOS = {
  fanout: require('./scenarios/fanout'),
  chat: require('./scenarios/chat'),
  burst: require('./scenarios/burst'),
  connections: require('./scenarios/connections'),
  recover: require('./scenarios/recover'),
  storm: require('./scenarios/storm'), // cluster by default; not part of `all`
  soak: require('./scenarios/soak'), // ours only, 1 round, not part of `all` (10 minutes)
};
const GENERAL = {
  rounds: 3,
  only: null,
  'ours-cmd': process.env.STUDYGROUPS_CMD || path.resolve(__dirname, '..', '.venv', 'bin', 'studygroups'),
  'server-core': 1,
  topology: 'single',
  parser: 'json',
  'redis-url': null,
  'setup-concurrency': 20,
  json: null,
  quiet: false,
};
const USAGE = `usage: bench/run <${Object.keys(SCENARIOS).join('|')}|all> [options]
general:   --rounds N (3)  --only ours|peer  --ours-cmd PATH  --server-core N|LIST (1; also --server-cores)
           --topology single|cluster (single)  --parser json|msgpack (json)  --redis-url URL (cluster:
           a private redis-server per run unless given)  --json FILE  --quiet
fanout:    --rooms 35 --members 50 --speakers 25 --rate 2 --duration 20 --warmup 2 --drain 10
chat:      --rooms 20 --members 10 --rate 10 --duration 20 --warmup 2 --drain 10
burst:     --members 300 --repeats 10 --pause 500 --timeout 15
connections: --clients 2000 --members 50 --concurrency 50 --settle 3 --idle 25
recover:   --clients 200 --members 50 --events 50
storm:     --clients 5000 --sessions 100 --chat 50 --signal TERM|KILL --settle 60 --warmup 3 --pause 3
           --peer-recovers   (cluster unless --topology single; not in all)
soak:      --clients 2000 --minutes 10 --sessions 40 --chat 75 --typing 100 --leaves 10 --reconnects 5
           --flaky 0.25 --away 10 --sample 10 --warmup 60 --settle 30   (ours only, 1 round; not in all)`;

function parseArgs(argv) {
  const positional = [];
  const opts = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-h' || a === '--help') return { help: true };
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    let key;
    let value;
    if (eq > 0) {
      key = a.slice(2, eq);
      value = a.slice(eq + 1);
    } else {
      key = a.slice(2);
      const next = argv[i + 1];
      if (next === undefined || next.startsWith('--')) value = 'true';
      else {
        value = next;
        i++;
      }
    }
    opts[key] = value === 'true' ? true : value === 'false' ? false : /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value;
  }
  return { positional, opts };
}

function fmt(v, digits) {
  if (v === undefined || v === null || Number.isNaN(v)) return '-';
  if (typeof v !== 'number') return String(v);
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  return [line(headers), `|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`, ...rows.map(line)].join('\n');
}

async function runScenario(scenario, general, opts, secret, logDir, log) {
  const kinds = (scenario.servers || ['ours', 'peer']).filter((k) => !general.only || general.only === k);
  if (kinds.includes('ours') && !fs.existsSync(general['ours-cmd'])) {
    log(`! ${general['ours-cmd']} not found: running the peer only`);
    kinds.splice(kinds.indexOf('ours'), 1);
  }
  if (kinds.length === 0) throw new Error(scenario.servers ? `${scenario.name} runs against ${scenario.servers.join(' and ')} only` : 'no server to run');
  if (scenario.topologies && !scenario.topologies.includes(general.topology)) throw new Error(`${scenario.name} runs in the ${scenario.topologies.join(' or ')} topology only`);
  scenario = { ...scenario, columns: [...scenario.columns, ['otherCpuPct', 'other CPU % (noise)', 0]] };
  const results = Object.fromEntries(kinds.map((k) => [k, []]));
  const errors = Object.fromEntries(kinds.map((k) => [k, []]));
  console.log(`\n== ${scenario.name}: ${scenario.describe(opts)}; ${general.topology}, ${general.parser}; ${general.rounds} round(s), order ${kinds.join(' ')} per round`);
  for (let round = 1; round <= general.rounds; round++) {
    for (const kind of kinds) {
      let server = null;
      let rest = null;
      let rssTimer = null;
      try {
        server = await servers.start(kind, { secret, core: general['server-core'], logDir, oursCmd: general['ours-cmd'], topology: general.topology, parser: general.parser, redisUrl: general['redis-url'], peerRedis: Boolean(scenario.peerRedis) });
        rest = server.rest({ maxSockets: general['setup-concurrency'] + 4 });
        log(`round ${round}/${general.rounds} ${kind} (${server.procs.map((p) => `pid ${p.pid} port ${p.port}`).join(', ')}${server.database ? `, database ${server.database}` : ''}${server.redis ? `, redis-server port ${server.redis.port}` : ''})`);
        const noise = new NoiseMeter(server).start();
        const redis0 = server.redisCpuSeconds();
        const t0 = Date.now();
        const rssPeak = server.rssPerProcKiB();
        rssTimer = setInterval(() => server.rssPerProcKiB().forEach((v, i) => (rssPeak[i] = Math.max(rssPeak[i], v))), 1000);
        const r = await scenario.run({ server, rest, opts, secret, log });
        if (r.otherCpuPct === undefined) r.otherCpuPct = noise.stop(); // whole run, setup included
        if (server.procs.length > 1) {
          // per process: the peak resident memory over the run (setup included), and Redis's CPU
          r.extra = { ...(r.extra || {}), rssPeakMiBPerProcess: rssPeak.map((k) => Math.round(k / 1024)), redisCpuPctWholeRun: (100 * (server.redisCpuSeconds() - redis0)) / ((Date.now() - t0) / 1000) };
        }
        results[kind].push(r);
        const summary = scenario.columns.map(([k, label, d]) => `${label}=${fmt(r[k], d)}`).join('  ');
        console.log(`  round ${round} ${kind.padEnd(4)} ${summary}`);
        if (r.extra) console.log(`             ${JSON.stringify(r.extra, (k, v) => (typeof v === 'number' && !Number.isInteger(v) ? Math.round(v * 10) / 10 : v))}`);
      } catch (e) {
        errors[kind].push(String(e && e.stack ? e.stack : e));
        console.log(`  round ${round} ${kind.padEnd(4)} FAILED: ${e && e.message ? e.message : e}`);
        if (server) console.log(`             server log: ${server.logFiles.join(' ')}`);
      } finally {
        if (rssTimer) clearInterval(rssTimer);
        if (rest) rest.close();
        if (server) await server.stop();
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }
  const med = {};
  for (const k of kinds) {
    med[k] = {};
    for (const [key] of scenario.columns) med[k][key] = median(results[k].map((r) => r[key]));
  }
  const headers = ['server', ...scenario.columns.map(([, label]) => label)];
  const rows = kinds.map((k) => [`${k} (n=${results[k].length})`, ...scenario.columns.map(([key, , d]) => fmt(med[k][key], d))]);
  if (kinds.length === 2) {
    rows.push(['ours/peer', ...scenario.columns.map(([key]) => {
      const a = med.ours[key];
      const b = med.peer[key];
      if (!(typeof a === 'number' && typeof b === 'number') || Number.isNaN(a) || Number.isNaN(b) || b === 0) return '-';
      return `${fmt(a / b, 2)}x`;
    })]);
  }
  console.log(`\n${scenario.name} (medians over rounds):\n${table(headers, rows)}`);
  return { scenario: scenario.name, description: scenario.describe(opts), options: { ...scenario.defaults, ...opts }, rounds: general.rounds, medians: med, results, errors };
}

async function main() {
  const parsed = parseArgs(process.argv.slice(2));
  if (parsed.help || parsed.positional.length !== 1 || !(parsed.positional[0] in SCENARIOS || parsed.positional[0] === 'all')) {
    console.log(USAGE);
    process.exit(parsed.help ? 0 : 2);
  }
  const general = { ...GENERAL };
  const opts = {};
  for (const [k, v] of Object.entries(parsed.opts)) {
    if (k === 'server-cores') general['server-core'] = v;
    else if (k in general) general[k] = v;
    else opts[k] = v;
  }
  if (general.only && !['ours', 'peer'].includes(general.only)) throw new Error('--only takes ours or peer');
  if (!['single', 'cluster'].includes(general.topology)) throw new Error('--topology takes single or cluster');
  if (!['json', 'msgpack'].includes(general.parser)) throw new Error('--parser takes json or msgpack');
  if (!/^\d+([,-]\d+)*$/.test(String(general['server-core']))) throw new Error('--server-core takes a CPU number or a taskset list (1 or 1,2 or 1-3)');
  const names = parsed.positional[0] === 'all' ? Object.keys(SCENARIOS).filter((n) => !SCENARIOS[n].explicitOnly) : [parsed.positional[0]];
  // A scenario may run fewer rounds by default (soak: one long round) unless --rounds is given.
  if (names.length === 1 && SCENARIOS[names[0]].rounds && parsed.opts.rounds === undefined) general.rounds = SCENARIOS[names[0]].rounds;
  // ... and another topology (storm: the cluster) unless --topology is given.
  if (names.length === 1 && SCENARIOS[names[0]].topology && parsed.opts.topology === undefined) general.topology = SCENARIOS[names[0]].topology;
  for (const k of Object.keys(opts)) {
    if (!names.some((n) => k in SCENARIOS[n].defaults)) throw new Error(`unknown option --${k} for ${names.join(', ')}\n${USAGE}`);
  }
  const secret = process.env.JWT_SECRET || crypto.randomBytes(24).toString('hex');
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const resultsDir = path.join(__dirname, 'results');
  const logDir = path.join(resultsDir, 'logs', stamp);
  const log = general.quiet ? () => {} : (m) => console.log(m);
  const affinity = (() => {
    try {
      return require('node:child_process').execFileSync('taskset', ['-cp', String(process.pid)]).toString().trim().split(': ')[1];
    } catch {
      return '?';
    }
  })();
  console.log(`studygroups bench: node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0].model}), generator pid ${process.pid} on CPU(s) ${affinity}, servers on CPU ${general['server-core']} (every process of a cluster on the same)`);
  const out = [];
  for (const n of names) out.push(await runScenario(SCENARIOS[n], general, opts, secret, logDir, log));
  fs.mkdirSync(resultsDir, { recursive: true });
  const file = general.json || path.join(resultsDir, `${stamp}-${names.length > 1 ? 'all' : names[0]}.json`);
  fs.writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: os.cpus().length, general, scenarios: out }, null, 2));
  console.log(`\nresults: ${file}`);
  const failed = out.some((s) => Object.values(s.results).every((r) => r.length === 0));
  process.exitCode = failed ? 1 : 0;
}

process.on('exit', servers.killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    servers.killAll();
    process.exit(130);
  });
}
main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  servers.killAll();
  process.exit(1);
});
