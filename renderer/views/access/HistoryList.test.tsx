// @vitest-environment happy-dom
import { cleanup, screen, within } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AppState, CredentialState } from '../../../preload/contract.js';
import { history } from '../../state/selectors.js';
import { isLive } from '../../time/countdown.js';
import { appState, grant, NOW, request } from '../../test-support/fixtures.js';
import { renderConnected } from '../../test-support/render.js';
import { HistoryList } from './HistoryList.js';

const iso = (ms: number): string => new Date(ms).toISOString();

/** A grant of 30 minutes that ended `minutesAgo` before now, with its credential as given. */
function ended(
  id: string,
  minutesAgo: number,
  credential: CredentialState,
  endReason: 'expired' | 'relinquished' | 'revoked' = 'expired',
) {
  const end = NOW - minutesAgo * 60_000;
  return grant({
    id,
    status: endReason === 'expired' ? 'expired' : 'revoked',
    startsAt: iso(end - 30 * 60_000),
    expiresAt: iso(endReason === 'expired' ? end : end + 10 * 60_000),
    endedAt: iso(end),
    endReason,
    credential,
  });
}

function renderHistory(state: AppState) {
  return renderConnected(<HistoryList entries={history(state, (grant) => !isLive(grant, NOW))} />, state);
}

const rows = () => screen.getAllByRole('listitem').map((row) => row.textContent);

describe('the history list', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: NOW, toFake: ['Date'] });
  });
  afterEach(() => {
    cleanup();
    vi.useRealTimers();
  });

  it('says what became of each ended grant’s credential, and “removed” only when it was wiped', () => {
    renderHistory(
      appState({
        grants: [
          ended('grt_0000000000000000001a', 1, 'wiped'),
          ended('grt_0000000000000000002a', 2, 'stored'),
          ended('grt_0000000000000000003a', 3, 'none'),
          ended('grt_0000000000000000004a', 4, 'failed'),
          ended('grt_0000000000000000005a', 5, 'fetching'),
        ],
      }),
    );
    expect(rows()).toEqual([
      expect.stringContaining('after 30 min; credential removed from your keychain'),
      expect.stringContaining('after 30 min; removing the credential…'),
      expect.stringContaining('after 30 min; no credential was stored'),
      expect.stringContaining('after 30 min; the credential never reached your keychain'),
      expect.stringContaining('after 30 min; removing the credential…'),
    ]);
    expect(rows().filter((row) => row.includes('removed'))).toHaveLength(1);
  });

  it('names how each grant ended, newest first, with when', () => {
    renderHistory(
      appState({
        grants: [
          ended('grt_0000000000000000001a', 5, 'wiped', 'revoked'),
          ended('grt_0000000000000000002a', 1, 'wiped', 'relinquished'),
          ended('grt_0000000000000000003a', 3, 'wiped'),
        ],
      }),
    );
    const items = screen.getAllByRole('listitem');
    expect(items.map((item) => item.querySelector('.status-pill')?.textContent)).toEqual([
      'Relinquished',
      'Expired',
      'Revoked',
    ]);
    expect(items[0]?.querySelector('time')?.getAttribute('datetime')).toBe(iso(NOW - 60_000));
    expect(within(items[0] as HTMLElement).getByText('operator')).toBeTruthy();
    expect(items[0]?.textContent).toContain('Sandbox cluster');
  });

  it('tells requests that never became a grant: denied with the comment, cancelled, lapsed', () => {
    renderHistory(
      appState({
        requests: [
          request({
            id: 'req_0000000000000000001b',
            requesterId: 'alice',
            status: 'denied',
            updatedAt: iso(NOW - 60_000),
            decisions: [
              {
                approverId: 'bob',
                decision: 'deny',
                comment: 'Use the read role.',
                at: iso(NOW - 60_000),
                stage: 0,
              },
            ],
          }),
          request({ id: 'req_0000000000000000002b', status: 'cancelled', updatedAt: iso(NOW - 120_000) }),
          request({ id: 'req_0000000000000000003b', status: 'lapsed', updatedAt: iso(NOW - 180_000) }),
          // Still open, or told by its grant: not history.
          request({ id: 'req_0000000000000000004b', status: 'pending' }),
          request({ id: 'req_0000000000000000005b', status: 'approved' }),
        ],
      }),
    );
    expect(rows()).toEqual([
      expect.stringMatching(/^Denied.*by bob: “Use the read role\.”/),
      expect.stringMatching(/^Cancelled/),
      expect.stringMatching(/^Lapsed.*nobody decided in time/),
    ]);
  });

  it('says an extension lapsed because its grant was revoked first, not that nobody decided in time', () => {
    const revoked = grant({ id: 'grt_0000000000000000009b', status: 'revoked', endReason: 'revoked' });
    renderHistory(
      appState({
        grants: [revoked],
        requests: [
          request({
            id: 'req_0000000000000000006b',
            kind: 'extension',
            extendsGrantId: revoked.id,
            status: 'lapsed',
            updatedAt: iso(NOW - 60_000),
          }),
        ],
      }),
    );
    expect(rows()).toContainEqual(expect.stringMatching(/^Lapsed.*its grant was revoked first/));
  });

  it('shows the latest twenty', () => {
    renderHistory(
      appState({
        grants: Array.from({ length: 25 }, (_, index) =>
          ended(`grt_${String(index).padStart(20, '0')}a`, index + 1, 'wiped'),
        ),
      }),
    );
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(20);
    expect(items.at(-1)?.querySelector('time')?.getAttribute('datetime')).toBe(iso(NOW - 20 * 60_000));
  });
});
