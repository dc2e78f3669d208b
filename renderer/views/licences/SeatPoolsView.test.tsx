// @vitest-environment happy-dom
import { act, cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { IpcResult, SeatPoolUtilization } from '../../../preload/contract.js';
import type { SeatPoolReportView } from '../../../api/admin-schemas.js';
import { MainWindow } from '../../shell/MainWindow.js';
import { appState, NOW } from '../../test-support/fixtures.js';
import type { FakeMain } from '../../test-support/fake-api.js';
import { renderConnected } from '../../test-support/render.js';
import { SeatPoolsView } from './SeatPoolsView.js';

const iso = (ms: number): string => new Date(ms).toISOString();
const admin = appState({
  session: {
    status: 'signed-in',
    user: { id: 'admin', username: 'admin', displayName: 'Timebox Admin', groups: ['admins'], isAdmin: true },
    message: null,
  },
});

function pool(overrides: Partial<SeatPoolReportView> = {}): SeatPoolReportView {
  return {
    resourceId: 'design-suite',
    role: 'seat',
    seats: 2,
    peakInUse: 2,
    averageInUse: 0.0744,
    seatHoursUsed: 12.5,
    grants: 7,
    people: 5,
    queue: { requests: 3, totalWaitSeconds: 7800, averageWaitSeconds: 2600, longestWaitSeconds: 3900 },
    alwaysAssigned: { seats: 5, seatHours: 840, idleSeatHours: 827.5 },
    ...overrides,
  };
}

/** Answers every report request with `result`. */
const answering =
  (result: IpcResult<SeatPoolUtilization>) =>
  (main: FakeMain): void => {
    main.answer('seatPoolUtilization', () => result);
  };

function report(items: SeatPoolReportView[]): IpcResult<SeatPoolUtilization> {
  return { ok: true, value: { from: iso(NOW - 7 * 86_400_000), to: iso(NOW), items } };
}

describe('Licences', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('shows each pool: the named-seat headline, its use and the time queued, for the last 7 days', async () => {
    const { main } = renderConnected(<SeatPoolsView />, admin, { answers: answering(report([pool()])) });
    // Asked at once; the answer has not arrived yet.
    expect(main.callsOf('seatPoolUtilization')).toEqual([{ period: '7d' }]);
    expect(screen.getByText('Reading seat use…')).toBeTruthy();
    expect(screen.getByRole('region', { name: 'Licences' }).getAttribute('aria-busy')).toBe('true');
    await screen.findByRole('article', { name: 'CAD Studio' });
    expect(screen.getByRole('region', { name: 'Licences' }).getAttribute('aria-busy')).toBe('false');
    expect(screen.getByText(/^The last 7 days, since .+\.$/)).toBeTruthy();
    expect(screen.getByRole('button', { name: '7 days' }).getAttribute('aria-pressed')).toBe('true');
    expect(screen.getByRole('button', { name: '24 hours' }).getAttribute('aria-pressed')).toBe('false');
    const card = screen.getByRole('article', { name: 'CAD Studio' });
    expect(card.textContent).toContain('Named seats would have held 827.5 seat-hours idle');
    expect(card.textContent).toContain(
      'One seat for each of the 5 people who used it, held the whole period, is 840 seat-hours for 12.5 used; the pool shared 2 seats instead.',
    );
    const stat = (name: string) => within(card).getByText(name).nextElementSibling?.textContent;
    expect(stat('Peak in use')).toBe('2 of 2');
    expect(stat('Average in use')).toBe('0.1');
    expect(stat('Seat-hours used')).toBe('12.5');
    expect(stat('Grants')).toBe('7 by 5 people');
    expect(stat('Requests queued')).toBe('3');
    expect(stat('Total')).toBe('2 h 10 min');
    expect(stat('Average')).toBe('43 min 20 s');
    expect(stat('Longest')).toBe('1 h 5 min');
    expect(within(card).getByRole('img').getAttribute('aria-label')).toBe(
      'On average 0.1 of 2 seats in use, at peak 2',
    );
  });

  it('asks again for another period, and on Refresh', async () => {
    const { user, main } = renderConnected(<SeatPoolsView />, admin, {
      answers: answering(report([pool()])),
    });
    await screen.findByRole('article', { name: 'CAD Studio' });
    await user.click(screen.getByRole('button', { name: '24 hours' }));
    await screen.findByRole('article', { name: 'CAD Studio' });
    expect(screen.getByRole('button', { name: '24 hours' }).getAttribute('aria-pressed')).toBe('true');
    await user.click(screen.getByRole('button', { name: '30 days' }));
    await user.click(await screen.findByRole('button', { name: 'Refresh' }));
    await vi.waitFor(() => {
      expect(main.callsOf('seatPoolUtilization')).toEqual([
        { period: '7d' },
        { period: '24h' },
        { period: '30d' },
        { period: '30d' },
      ]);
    });
  });

  it('says what the service refused, in its words, with Try again', async () => {
    const refused = {
      code: 'admin_only',
      message: 'Only administrators may read seat-pool utilisation.',
    };
    const { user, main } = renderConnected(<SeatPoolsView />, admin, {
      answers: answering({ ok: false, error: refused }),
    });
    await screen.findByText('Seat use could not be read');
    expect(screen.getByText(refused.message)).toBeTruthy();
    main.answer('seatPoolUtilization', () => report([]));
    await user.click(screen.getByRole('button', { name: 'Try again' }));
    await screen.findByText('No seat pools');
    expect(screen.getByText(/No role in the policy limits its seats/)).toBeTruthy();
  });

  it('says plainly when nobody used a pool, or nobody waited', async () => {
    const { main } = renderConnected(<SeatPoolsView />, admin, {
      answers: answering(
        report([
          pool({
            resourceId: 'unknown-tool',
            role: 'seat',
            peakInUse: 0,
            averageInUse: 0,
            seatHoursUsed: 0,
            grants: 0,
            people: 0,
            queue: { requests: 0, totalWaitSeconds: 0, averageWaitSeconds: 0, longestWaitSeconds: 0 },
            alwaysAssigned: { seats: 0, seatHours: 0, idleSeatHours: 0 },
          }),
        ]),
      ),
    });
    expect(main.callsOf('seatPoolUtilization')).toEqual([{ period: '7d' }]);
    // A resource the catalog does not name is shown by its id.
    const card = await screen.findByRole('article', { name: 'unknown-tool' });
    expect(card.textContent).toContain('Nobody used it in this period.');
    expect(card.textContent).toContain('Nobody waited for a seat.');
    expect(card.textContent).not.toContain('Named seats would have held');
  });
});

describe('the Licences section', () => {
  afterEach(() => {
    cleanup();
  });

  it('is in the navigation for administrators only', async () => {
    const { user } = renderConnected(<MainWindow />, admin, { answers: answering(report([pool()])) });
    const navigation = screen.getByRole('navigation', { name: 'Timebox' });
    await user.click(within(navigation).getByRole('button', { name: 'Licences' }));
    expect(screen.getByRole('heading', { level: 1, name: 'Licences' })).toBeTruthy();
    await screen.findByRole('article', { name: 'CAD Studio' });
    cleanup();

    const engineer = renderConnected(<MainWindow />, appState());
    expect(
      within(screen.getByRole('navigation', { name: 'Timebox' })).queryByRole('button', { name: 'Licences' }),
    ).toBeNull();
    // Even asked for (a section left over from an administrator's session), it shows My access instead.
    act(() => {
      engineer.runtime.store.getState().openSection('licences');
    });
    expect(screen.getByRole('heading', { level: 1, name: 'My access' })).toBeTruthy();
    expect(engineer.main.callsOf('seatPoolUtilization')).toEqual([]);
  });
});
