import { clockTime } from '../time/format.js';
import type { GrantState } from '../../preload/contract.js';
import { runCommand, type Runtime } from '../state/runtime.js';

/** Grant commands shared by the popover and My access. */
export function copyCredential(runtime: Runtime, grant: GrantState): Promise<unknown> {
  return runCommand(runtime, () => runtime.api.copyCredential({ grantId: grant.id }), {
    success: ({ clearsAt }) => `Credential copied. ${clearedIn(clearsAt)}`,
  });
}

/** A database login's URI: main copies it; the window never sees it. */
export function copyConnectionUri(runtime: Runtime, grant: GrantState): Promise<unknown> {
  return runCommand(runtime, () => runtime.api.copyConnectionUri({ grantId: grant.id }), {
    success: ({ clearsAt }) => `Connection URI copied. ${clearedIn(clearsAt)}`,
  });
}

export function openPsql(runtime: Runtime, grant: GrantState, label: string): Promise<unknown> {
  return runCommand(runtime, () => runtime.api.openPsql({ grantId: grant.id }), {
    success: () => `psql is opening in a terminal window, signed in to ${label}.`,
  });
}

export function relinquish(runtime: Runtime, grant: GrantState, label: string): Promise<unknown> {
  return runCommand(runtime, () => runtime.api.relinquishGrant({ grantId: grant.id }), {
    retry: false,
    success: (ended) => {
      const offset = runtime.store.getState().app?.clockOffsetMs ?? 0;
      return `Access to ${label} ended at ${clockTime(ended.endedAt ?? ended.expiresAt, offset, Date.now())}.`;
    },
  });
}

function clearedIn(clearsAt: number): string {
  const seconds = Math.max(1, Math.round((clearsAt - Date.now()) / 1000));
  return `Timebox clears it from the clipboard in ${seconds} s.`;
}
