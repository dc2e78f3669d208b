import { appendFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './build.js';
import type { World } from './world.js';

const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'screenshots');
/** Each view and theme looked at in this run, with what axe found: one table row per capture. */
const SCREENSHOT_INDEX = join(SCREENSHOTS, 'index.md');

/**
 * Every test file of one `vitest run` is a child of the same Vitest process; the first of them to make
 * this folder clears what earlier runs left, so the screenshots are this run's and no other's.
 */
const RUN_MARK = join(SCREENSHOTS, `.run-${process.ppid}`);
const RUN_READY = join(RUN_MARK, 'ready');
const RUN_WAIT_MS = 30_000;

export interface Violation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
}

/** Clears test-results/screenshots once per run, before any file of the run captures into it. */
export async function startScreenshotRun(): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  try {
    mkdirSync(RUN_MARK); // atomic: exactly one file of the run gets to clear
  } catch {
    const deadline = Date.now() + RUN_WAIT_MS;
    while (!existsSync(RUN_READY)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${RUN_READY}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return;
  }
  for (const entry of readdirSync(SCREENSHOTS)) {
    const path = join(SCREENSHOTS, entry);
    if (path !== RUN_MARK) rmSync(path, { recursive: true, force: true });
  }
  writeFileSync(
    SCREENSHOT_INDEX,
    '# Screenshots of this run\n\naxe-core: serious and critical findings (WCAG 2.x A and AA, best practice).\n\n| View | Theme | Screenshot | axe-core |\n| --- | --- | --- | --- |\n',
  );
  writeFileSync(RUN_READY, '');
}

/** axe-core's serious and critical findings on the page as it is now (WCAG 2.x A and AA, and best practice). */
async function seriousViolations(page: Page): Promise<Violation[]> {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze();
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => ({
      id: violation.id,
      impact: violation.impact ?? 'unknown',
      help: violation.help,
      targets: violation.nodes.map((node) => node.target.join(' ')),
    }));
}

/**
 * Clears a confirmation left from an earlier step (success banners go by themselves after a few seconds,
 * which the paused page clock has not let pass): a view's picture should not carry old news. The click
 * is dispatched rather than performed: an open dialog's backdrop covers the banner, and a real click
 * would also move focus, which later steps check.
 */
async function dismissSuccessBanners(page: Page): Promise<void> {
  const dismiss = page.locator('.banner-success').getByRole('button', { name: 'Dismiss message' });
  while ((await dismiss.count()) > 0) await dismiss.first().dispatchEvent('click');
}

/**
 * Looks at a view in both themes: a screenshot of each to test-results/screenshots/<view>-<theme>.png,
 * then axe in each (contrast differs by theme), each listed in index.md. Both pictures are taken before
 * axe runs (it needs the page's clock running, which moves countdowns), so they show the same moment.
 * Returns the serious and critical violations found. A success banner from an earlier step is dismissed
 * first, unless `keepBanner`. `windowOnly` takes the window as the user sees it rather than the whole
 * page: a long list draws only the cards near the view, so the rest of the page is empty space.
 */
export async function captureView(
  world: World,
  page: Page,
  view: string,
  options: { readonly keepBanner?: boolean; readonly windowOnly?: boolean } = {},
): Promise<Violation[]> {
  if (options.keepBanner !== true) await dismissSuccessBanners(page);
  const themes = ['light', 'dark'] as const;
  for (const colorScheme of themes) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({
      path: join(SCREENSHOTS, `${view}-${colorScheme}.png`),
      fullPage: options.windowOnly !== true,
    });
  }
  const found: Violation[] = [];
  for (const colorScheme of themes) {
    await page.emulateMedia({ colorScheme });
    const violations = await world.withRealTime(page, () => seriousViolations(page));
    const verdict =
      violations.length === 0
        ? 'no serious findings'
        : violations.map((violation) => `${violation.id} (${violation.targets.join(', ')})`).join('; ');
    const file = `${view}-${colorScheme}.png`;
    appendFileSync(SCREENSHOT_INDEX, `| ${view} | ${colorScheme} | [${file}](${file}) | ${verdict} |\n`);
    found.push(...violations);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}
