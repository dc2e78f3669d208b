import { clockTime } from '../time/format.js';
import type { GrantState } from '../../preload/contract.js';
import { runCommand, type Runtime } from '../state/runtime.js';

/** Grant commands shared by the popover and My access. */
export function copyCredential(runtime: Runtime, grant: GrantState): Promise<unknown> {
  return runCommand(runtime, () => runtime.api.copyCredential({ grantId: grant.id, part: 'secret' }), {
    success: ({ clearsAt }) => {
      const seconds = Math.max(1, Math.round((clearsAt - Date.now()) / 1000));
      return `Credential copied. Timebox clears it from the clipboard in ${seconds} s.`;
    },
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
