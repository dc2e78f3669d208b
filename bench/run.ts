import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_USAGE, parseBenchArguments } from './lib/arguments.js';
import { writeBenchPolicy } from './lib/policy.js';
import type { ScenarioResult } from './lib/results.js';
import { expiryScenario } from './scenarios/expiry.js';
import { lifecycleScenario } from './scenarios/lifecycle.js';
import { notificationScenario } from './scenarios/notification.js';
import { desktopScaleScenario } from './scenarios/desktop-scale.js';
import { crashScenario } from './scenarios/crash.js';
import { hostileScenario } from './scenarios/hostile.js';
import { postgresAccessScenario } from './scenarios/postgres-access.js';
import { memoryScenario } from './scenarios/memory.js';
import { insightsScenario } from './scenarios/insights.js';
import { cliExecScenario } from './scenarios/cli-exec.js';
import { webhooksScenario } from './scenarios/webhooks.js';

/**
 * `npm run bench` (or `-- --quick`, the same) or `npm run bench -- --full`: runs each scenario over loopback on this machine,
 * prints every figure next to its target, and writes bench/results/latest.json and latest.md. A missed
 * target is reported, never fatal. `--only <word>` (repeatable) runs the scenarios whose title has it.
 */
const SCENARIOS = [
  ['lifecycle throughput', lifecycleScenario],
  ['expiry precision', expiryScenario],
  ['approval to notification', notificationScenario],
  ['webhooks', webhooksScenario],
  ['crash and restart', crashScenario],
  ['desktop at scale', desktopScaleScenario],
  ['hostile input', hostileScenario],
  ['postgres access', postgresAccessScenario],
  ['memory and start-up', memoryScenario],
  ['insights at scale', insightsScenario],
  ['cli exec', cliExecScenario],
] as const;

let parsed;
try {
  parsed = parseBenchArguments(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
if (parsed.help) {
  process.stdout.write(`${BENCH_USAGE}\n`);
  process.exit(0);
}
const values = parsed;
const full = values.full;
const chosen = SCENARIOS.filter(
  ([title]) => values.only.length === 0 || values.only.some((word) => title.includes(word)),
);
if (chosen.length === 0)
  throw new Error(`--only matched no scenario; they are: ${SCENARIOS.map(([title]) => title).join(', ')}`);
const scratch = mkdtempSync(join(tmpdir(), 'timebox-bench-policy-'));
const results: ScenarioResult[] = [];
try {
  const policyFile = await writeBenchPolicy(scratch);
  for (const [title, scenario] of chosen) {
    process.stdout.write(`running ${title}…\n`);
    try {
      results.push(...(await scenario(policyFile, full)));
    } catch (error) {
      results.push({
        name: title,
        metric: 'run',
        unit: '',
        value: Number.NaN,
        target: null,
        better: 'lower',
        pass: false,
        note: `failed: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

const format = (value: number): string => (Number.isNaN(value) ? '—' : String(value));
const rows = results.map((row) => {
  const target =
    row.target === null ? '' : `${{ higher: '≥', lower: '<', exact: '=' }[row.better]} ${row.target}`;
  return `| ${row.name} | ${row.metric} | ${format(row.value)} ${row.unit} | ${target} | ${row.target === null && !row.note?.startsWith('not run') && !row.note?.startsWith('failed') ? 'info' : row.pass ? 'pass' : 'MISS'} | ${row.note ?? ''} |`;
});
const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version };
const markdown = [
  `# Timebox bench (${full ? 'full' : 'quick'}), ${new Date().toISOString()}`,
  '',
  `${machine.cpus} × ${machine.cpuModel}, Node ${machine.node}`,
  '',
  '| scenario | metric | value | target | result | notes |',
  '|---|---|---|---|---|---|',
  ...rows,
  '',
].join('\n');
process.stdout.write(`\n${markdown}`);
// A run of some scenarios (--only) must not pass for the record of a whole run.
const folder = new URL('./results/', import.meta.url);
const stem = values.only.length === 0 ? 'latest' : 'partial';
mkdirSync(folder, { recursive: true });
writeFileSync(
  new URL(`${stem}.json`, folder),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), mode: full ? 'full' : 'quick', ...(values.only.length === 0 ? {} : { only: values.only }), machine, scenarios: results }, null, 2)}\n`,
);
writeFileSync(new URL(`${stem}.md`, folder), markdown);
process.stdout.write(`\nwritten to bench/results/${stem}.json and ${stem}.md\n`);
