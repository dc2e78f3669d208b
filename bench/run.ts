import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { writeBenchPolicy } from './lib/policy.js';
import type { ScenarioResult } from './lib/results.js';
import { expiryScenario } from './scenarios/expiry.js';
import { lifecycleScenario } from './scenarios/lifecycle.js';

/**
 * `npm run bench` (quick) or `npm run bench -- --full`: runs each scenario over loopback on this machine,
 * prints every figure next to its target, and writes bench/results/latest.json and latest.md. A missed
 * target is reported, never fatal.
 */
const { values } = parseArgs({ options: { full: { type: 'boolean', default: false } } });
const full = values.full;
const scratch = mkdtempSync(join(tmpdir(), 'timebox-bench-policy-'));
const results: ScenarioResult[] = [];
try {
  const policyFile = await writeBenchPolicy(scratch);
  for (const [title, scenario] of [
    ['lifecycle throughput', lifecycleScenario],
    ['expiry precision', expiryScenario],
  ] as const) {
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
  const target = row.target === null ? '' : `${row.better === 'higher' ? '≥' : '<'} ${row.target}`;
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
const folder = new URL('./results/', import.meta.url);
mkdirSync(folder, { recursive: true });
writeFileSync(
  new URL('latest.json', folder),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), mode: full ? 'full' : 'quick', machine, scenarios: results }, null, 2)}\n`,
);
writeFileSync(new URL('latest.md', folder), markdown);
