import { describe, expect, it } from 'vitest';
import { CATALOG } from '../../test-support/fixtures.js';
import { durationPresets, durationProblem, outcomeSentence, ticketProblem, type RoleView } from './policy.js';

function roleOf(resourceId: string, name: string): RoleView {
  const found = CATALOG.find((resource) => resource.id === resourceId)?.roles.find(
    (role) => role.name === name,
  );
  if (!found) throw new Error(`no ${resourceId}/${name}`);
  return found;
}

describe('what the request dialog offers and checks', () => {
  it('offers only presets within the policy, with its default', () => {
    expect(durationPresets(roleOf('sandbox', 'operator'))).toEqual([300, 900, 1800, 3600]);
    expect(
      durationPresets({ minDurationSeconds: 60, maxDurationSeconds: 600, defaultDurationSeconds: 120 }),
    ).toEqual([120, 300]);
    // Nothing usual fits: the minimum is offered.
    expect(
      durationPresets({ minDurationSeconds: 10, maxDurationSeconds: 30, defaultDurationSeconds: 20 }),
    ).toEqual([20]);
    const many = durationPresets({
      minDurationSeconds: 60,
      maxDurationSeconds: 8 * 3600,
      defaultDurationSeconds: 3600,
    });
    expect(many.length).toBeLessThanOrEqual(6);
    expect(many).toContain(3600);
  });

  it('refuses durations outside the policy', () => {
    expect(durationProblem(300, 60, 3600)).toBeNull();
    expect(durationProblem(30, 60, 3600)).toBe('Choose between 1 min and 1 h.');
    expect(durationProblem(7200, 60, 3600)).toBe('Choose between 1 min and 1 h.');
    expect(durationProblem(Number.NaN, 60, 3600)).toBe('Enter how long you need it.');
    expect(durationProblem(0, 60, 3600)).toBe('Enter how long you need it.');
  });

  it('checks the whole ticket against the pattern', () => {
    expect(ticketProblem('OPS-12', 'OPS-[0-9]+')).toBeNull();
    expect(ticketProblem(' OPS-12 ', 'OPS-[0-9]+')).toBeNull();
    expect(ticketProblem('OPS-', 'OPS-[0-9]+')).toBe('That does not match the format OPS-[0-9]+.');
    expect(ticketProblem('xOPS-12', 'OPS-[0-9]+')).toBe('That does not match the format OPS-[0-9]+.');
    expect(ticketProblem('', 'OPS-[0-9]+')).toBe('A ticket is required (format OPS-[0-9]+).');
    expect(ticketProblem('INC-7', '(INC|CHG)-[0-9]+')).toBeNull();
    expect(ticketProblem('anything', null)).toBeNull();
  });

  it('says what will happen, for each kind of approval', () => {
    expect(outcomeSentence(roleOf('sandbox', 'operator'), 'alice')).toBe('Granted at once.');
    expect(outcomeSentence(roleOf('prod-db', 'read'), 'alice')).toBe('Needs approval from bob.');
    expect(outcomeSentence(roleOf('prod-db', 'owner'), 'alice')).toBe(
      'Needs approval from both bob and carol.',
    );
    expect(outcomeSentence(roleOf('cloud-admin', 'administrator'), 'alice')).toBe(
      '2 stages: Team lead (bob), then Security (carol).',
    );
    expect(outcomeSentence(roleOf('design-suite', 'seat'), 'alice')).toBe(
      'All 2 seats in use: you will be queued (position 3).',
    );
  });

  it('counts free seats, quorums short of everyone, and leaves the requester out of the approvers', () => {
    const seat = roleOf('design-suite', 'seat');
    expect(outcomeSentence({ ...seat, seats: { total: 2, inUse: 1, queued: 0 } }, 'alice')).toBe(
      'Granted at once (1 of 2 seats free).',
    );
    const quorum = roleOf('prod-db', 'owner');
    const three = {
      ...quorum.approval,
      stages: [{ name: 'Approval', count: 2, approvers: ['bob', 'carol', 'erin'], escalation: null }],
    };
    expect(outcomeSentence({ approval: three, seats: null }, 'alice')).toBe(
      'Needs 2 approvals from bob, carol or erin.',
    );
    expect(outcomeSentence({ approval: three, seats: { total: 1, inUse: 1, queued: 0 } }, 'alice')).toBe(
      'Needs 2 approvals from bob, carol or erin; then all 1 seat in use: you will be queued (position 1).',
    );
    const read = roleOf('prod-db', 'read');
    const withMe = {
      ...read.approval,
      stages: [{ name: 'Approval', count: 1, approvers: ['alice', 'bob'], escalation: null }],
    };
    expect(outcomeSentence({ approval: withMe, seats: null }, 'alice')).toBe('Needs approval from bob.');
    expect(outcomeSentence({ approval: { ...withMe, allowSelfApproval: true }, seats: null }, 'alice')).toBe(
      'Needs approval from alice or bob.',
    );
    expect(outcomeSentence(roleOf('sandbox', 'operator'), 'alice', 'extension')).toBe('Extended at once.');
  });

  it('says what the service will answer when nobody could finish the request (409 no_approver_available)', () => {
    const quorum = roleOf('prod-db', 'owner');
    const unseal = {
      ...quorum.approval,
      mode: 'quorum' as const,
      stages: [{ name: 'approval', count: 3, approvers: ['bob', 'lena', 'quinn'], escalation: null }],
    };
    expect(outcomeSentence({ approval: unseal, seats: null }, 'quinn')).toBe(
      'Nobody can approve this: it needs 3 approvals from distinct people and 2 are eligible (you cannot approve your own request). Ask a Timebox administrator to add approvers.',
    );
    expect(outcomeSentence({ approval: unseal, seats: null }, 'max')).toBe(
      'Needs approval from all of bob, lena and quinn.',
    );
    const twice = {
      ...quorum.approval,
      mode: 'chain' as const,
      stages: [
        { name: 'Team lead', count: 1, approvers: ['lena'], escalation: null },
        { name: 'Security', count: 1, approvers: ['lena'], escalation: null },
      ],
    };
    expect(outcomeSentence({ approval: twice, seats: null }, 'max')).toBe(
      'Nobody can approve this: its stage “Security” needs 1 approval from distinct people and 0 are eligible. Ask a Timebox administrator to add approvers.',
    );
  });
});
