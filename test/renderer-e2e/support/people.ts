import type { Page } from 'playwright-core';
import type { Person } from './world.js';

/** Signs in through the window's own form, as a person would. */
export async function signIn(person: Person, username: string): Promise<void> {
  const { page } = person;
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('demo');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page
    .getByRole('navigation', { name: 'Timebox' })
    .or(page.getByRole('heading', { name: 'Active access' }))
    .waitFor();
}

/** Opens the request dialog and picks a role with the keyboard: type to filter, arrows, Enter. */
export async function pickRole(page: Page, search: string, optionName: RegExp): Promise<void> {
  const picker = page.getByRole('combobox', { name: 'Resource and role' });
  await picker.fill(search);
  const options = page.getByRole('option');
  const names = await options.allInnerTexts();
  const index = names.findIndex((name) => optionName.test(name.replace(/\s+/g, ' ')));
  if (index < 0) throw new Error(`no option matches ${String(optionName)} among ${JSON.stringify(names)}`);
  for (let step = 0; step < index; step += 1) await picker.press('ArrowDown');
  await picker.press('Enter');
}

/** The countdown text of the grant card with this accessible name. */
export function countdownOf(page: Page, grantName: string) {
  return page.getByRole('article', { name: grantName }).locator('.countdown-text');
}
