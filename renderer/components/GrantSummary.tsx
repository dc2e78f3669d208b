import { useCallback, useMemo, useRef, type ReactNode } from 'react';
import type { GrantState } from '../../preload/contract.js';
import { grantLabel } from '../../main/core/tray-model.js';
import {
  setAttributeIfChanged,
  setText,
  useApp,
  useFromServiceNow,
  useLocalToday,
  useTickerDrawing,
} from '../state/hooks.js';
import { useOnScreen } from '../state/on-screen.js';
import { countdownText, countdownWords, fractionLeft, isLive, remainingMs } from '../time/countdown.js';
import { clockTime, fullTime } from '../time/format.js';
import { CredentialLine } from './CredentialLine.js';

const URGENT_MS = 60_000;
const SOON_MS = 10 * 60_000;

/**
 * How loudly a live grant's countdown speaks: red in its last minute; amber in its last ten minutes, or
 * its second half when it is shorter than that (a five-minute grant does not start out amber); calm
 * otherwise.
 */
export function urgencyOf(
  grant: Pick<GrantState, 'startsAt' | 'expiresAt'>,
  left: number,
): 'urgent' | 'soon' | 'calm' {
  const length = Date.parse(grant.expiresAt) - Date.parse(grant.startsAt);
  if (left <= URGENT_MS) return 'urgent';
  return left <= Math.min(SOON_MS, length / 2) ? 'soon' : 'calm';
}

/** How a grant's card looks at `serviceNow`: its urgency while it lasts, or ended. */
function phaseOf(grant: GrantState, serviceNow: number): 'urgent' | 'soon' | 'calm' | 'ended' {
  return isLive(grant, serviceNow) ? urgencyOf(grant, remainingMs(grant.expiresAt, serviceNow)) : 'ended';
}

/**
 * A grant with its countdown (text and bar) and exact end time, all read from the shared ticker: it reads
 * as ended the moment its expiry passes on the service's clock. The card itself re-renders only when its
 * phase changes; the countdown, which changes at every tick, is a small component of its own.
 */
export function GrantSummary({
  grant,
  headingLevel = 3,
  children,
}: {
  readonly grant: GrantState;
  readonly headingLevel?: 2 | 3;
  readonly children?: ReactNode;
}) {
  const phase = useFromServiceNow((serviceNow) => phaseOf(grant, serviceNow));
  const [watch, onScreen] = useOnScreen();
  const resourceName = useApp(
    (app) => app.catalog.find((resource) => resource.id === grant.resourceId)?.name ?? grant.resourceId,
  );
  const label = useApp((app) => grantLabel(app, grant));
  const live = phase !== 'ended';
  const Heading = headingLevel === 2 ? 'h2' : 'h3';

  return (
    <article
      ref={watch}
      className={`grant ${live ? `grant-live grant-${phase}` : 'grant-ended'}`}
      aria-label={label}
    >
      <div className="grant-head">
        <div className="grant-title">
          <Heading className="grant-name">{resourceName}</Heading>
          <p className="grant-meta">
            <span className="role-tag">{grant.role}</span>
            <span>
              {live ? 'until ' : endedWords(grant)}
              <EndTime iso={grant.endedAt ?? grant.expiresAt} />
            </span>
          </p>
        </div>
        {live ? (
          <CountdownText grant={grant} following={onScreen} />
        ) : (
          <span className="status-pill status-ended">Ended</span>
        )}
      </div>
      {live ? <CountdownBar grant={grant} label={label} following={onScreen} /> : null}
      <CredentialLine grant={grant} live={live} />
      {children}
    </article>
  );
}

/** The end time on the user's clock; it changes only with the offset or at midnight ("Tue 14:05"). */
function EndTime({ iso }: { readonly iso: string }) {
  const offset = useApp((app) => app.clockOffsetMs);
  const today = useLocalToday();
  const shown = useMemo(
    () => ({ short: clockTime(iso, offset, today), full: fullTime(iso, offset) }),
    [iso, offset, today],
  );
  return (
    <time dateTime={iso} title={shown.full}>
      {shown.short}
    </time>
  );
}

// The bar moves in steps of half a percent (about a pixel and a half of a popover-wide bar): a long grant's
// bar then redraws every few ticks, not at every one.
const BAR_STEPS = 200;

interface CountdownProps {
  readonly grant: GrantState;
  /** Whether to follow the ticker: off screen, the countdown waits until it is seen again. */
  readonly following: boolean;
}

/** "42 min", then "9:59" in the last ten minutes; a screen reader hears words ("9 min 59 s left"). */
function CountdownText({ grant, following }: CountdownProps) {
  const { expiresAt } = grant;
  const draw = useCallback(
    (element: HTMLSpanElement, serviceNow: number) => {
      const left = remainingMs(expiresAt, serviceNow);
      setText(element, countdownText(left));
      setAttributeIfChanged(element, 'aria-label', countdownWords(left));
    },
    [expiresAt],
  );
  return <span ref={useTickerDrawing(draw, following)} className="countdown-text" />;
}

function CountdownBar({ grant, label, following }: CountdownProps & { readonly label: string }) {
  const { startsAt, expiresAt } = grant;
  const fill = useRef<HTMLDivElement>(null);
  const draw = useCallback(
    (bar: HTMLDivElement, serviceNow: number) => {
      const fraction = Math.round(fractionLeft({ startsAt, expiresAt }, serviceNow) * BAR_STEPS) / BAR_STEPS;
      setAttributeIfChanged(bar, 'aria-valuenow', String(Math.round(fraction * 100)));
      setAttributeIfChanged(bar, 'aria-valuetext', countdownWords(remainingMs(expiresAt, serviceNow)));
      const transform = `scaleX(${fraction})`;
      if (fill.current && fill.current.style.transform !== transform)
        fill.current.style.transform = transform;
    },
    [startsAt, expiresAt],
  );
  return (
    <div
      ref={useTickerDrawing(draw, following)}
      className="countdown-bar"
      role="progressbar"
      aria-label={`Time left on ${label}`}
      aria-valuemin={0}
      aria-valuemax={100}
    >
      <div ref={fill} className="countdown-fill" />
    </div>
  );
}

function endedWords(grant: GrantState): string {
  switch (grant.endReason) {
    case 'relinquished':
      return 'relinquished at ';
    case 'revoked':
      return 'revoked at ';
    default:
      return 'expired at ';
  }
}
