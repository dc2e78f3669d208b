import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';
import { REPO_ROOT } from './build.js';
import type { World } from './world.js';

export const SCREENSHOTS = join(REPO_ROOT, 'test-results', 'screenshots');

export interface Violation {
  readonly id: string;
  readonly impact: string;
  readonly help: string;
  readonly targets: string[];
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

/** Every view the tests looked at, with what axe found in each theme: the suite's summary reads it. */
export const looked: { view: string; theme: string; violations: Violation[] }[] = [];

/**
 * Looks at a view in both themes: a screenshot of each to test-results/screenshots/<view>-<theme>.png,
 * and axe in each (contrast differs by theme). Returns the serious and critical violations found.
 */
export async function captureView(world: World, page: Page, view: string): Promise<Violation[]> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const found: Violation[] = [];
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: join(SCREENSHOTS, `${view}-${colorScheme}.png`), fullPage: true });
    const violations = await world.withRealTime(page, () => seriousViolations(page));
    looked.push({ view, theme: colorScheme, violations });
    found.push(...violations);
  }
  await page.emulateMedia({ colorScheme: 'light' });
  return found;
}
