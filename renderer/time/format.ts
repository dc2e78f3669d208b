/** How times and durations read in the windows: short, in the user's locale and on the user's clock. */

const UNITS: readonly (readonly [string, number])[] = [
  ['d', 86_400],
  ['h', 3_600],
  ['min', 60],
  ['s', 1],
];

/** "10 s", "5 min", "1 h 30 min", "2 d": the largest two units. */
export function formatDuration(totalSeconds: number): string {
  const parts: string[] = [];
  let rest = Math.max(0, Math.round(totalSeconds));
  for (const [unit, size] of UNITS) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  return parts.length === 0 ? '0 s' : parts.slice(0, 2).join(' ');
}

/** A service-clock instant on the user's clock. */
export function toLocal(serviceIso: string, clockOffsetMs: number): Date {
  return new Date(Date.parse(serviceIso) - clockOffsetMs);
}

// Made once: toLocaleTimeString and friends build a new formatter at every call, which a list of
// hundreds of grants pays for at every countdown tick. (The user's locale does not change while the
// window is open.)
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });
const DAY = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const FULL = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "14:05", or "Tue 14:05" when it is not today. */
export function clockTime(serviceIso: string, clockOffsetMs: number, localNow: number): string {
  const at = toLocal(serviceIso, clockOffsetMs);
  const time = TIME.format(at);
  return sameDay(at, new Date(localNow)) ? time : `${DAY.format(at)} ${time}`;
}

/** Full date and time with seconds, for tooltips and `<time>` titles. */
export function fullTime(serviceIso: string, clockOffsetMs: number): string {
  return FULL.format(toLocal(serviceIso, clockOffsetMs));
}

/** The local calendar day of a local instant, as a number that changes at midnight. */
export function localDay(localNow: number): number {
  const day = new Date(localNow);
  return day.getFullYear() * 10_000 + day.getMonth() * 100 + day.getDate();
}

/** Noon of a `localDay`: an instant of that day that serves `clockTime` to tell today from another day. */
export function noonOf(day: number): number {
  return new Date(Math.floor(day / 10_000), Math.floor(day / 100) % 100, day % 100, 12).getTime();
}

/** "in 3 h 59 min", "2 min ago": relative to now, both on the service's clock. */
export function relative(serviceIso: string, serviceNow: number): string {
  const deltaSeconds = Math.round((Date.parse(serviceIso) - serviceNow) / 1000);
  if (Math.abs(deltaSeconds) < 5) return 'now';
  const seconds = Math.abs(deltaSeconds);
  // Whole minutes once past one: "in 3 h 59 min", not "in 3 h 59 min 12 s".
  const span = formatDuration(seconds >= 60 ? Math.floor(seconds / 60) * 60 : seconds);
  return deltaSeconds > 0 ? `in ${span}` : `${span} ago`;
}

function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate();
}
