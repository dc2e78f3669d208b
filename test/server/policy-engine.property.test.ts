import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../api/duration.js';
import { ApiError } from '../../server/lib/errors.js';
import {
  applyDecision,
  checkRequestInput,
  currentStage,
  decidersNow,
  extensionHeadroomSeconds,
  membersOf,
  nextReminderAt,
  possibleDeciders,
  type ApprovalProgress,
  type Decision,
  type DecisionResult,
} from '../../server/policy/engine.js';
import { approvalShortfall } from '../../server/policy/feasibility.js';
import type {
  ApprovalRule,
  ApprovalStage,
  Approvers,
  Policy,
  PolicyUser,
  Role,
  ServiceSettings,
} from '../../server/policy/types.js';

/*
 * Property tests of the pure approval engine. Each run builds a small organisation (users with random
 * group memberships), one role whose approval rule is any, quorum or chain with counts the policy loader
 * would accept, then plays a random sequence of decisions, always by someone decidersNow offers.
 */

const GROUPS = ['g0', 'g1', 'g2'] as const;

const SERVICE: ServiceSettings = {
  publicUrl: null,
  tokenTtlSeconds: 8 * 3600,
  idleTimeoutSeconds: 3600,
  reminderLeadsSeconds: [600, 60],
  signingKeyRotationSeconds: 30 * 86_400,
  requireTotpForAdmins: false,
  shutdownTimeoutSeconds: 10,
  loginLimits: {
    perAccount: { attempts: 5, windowSeconds: 900 },
    perAddress: { attempts: 30, windowSeconds: 60 },
  },
};

function makeRole(overrides: Partial<Role> = {}): Role {
  return {
    name: 'role',
    description: '',
    requesterGroups: [...GROUPS],
    minDurationSeconds: 60,
    defaultDurationSeconds: 3600,
    maxDurationSeconds: 4 * 3600,
    reasonRequired: true,
    ticketPattern: null,
    approval: { mode: 'auto', stages: [] },
    seats: null,
    pendingTimeoutSeconds: 3600,
    allowSelfApproval: false,
    credentialTtlSeconds: 300,
    mfaRequired: false,
    freshAuthSeconds: null,
    postgres: null,
    conditions: [],
    otherwise: 'approval',
    ...overrides,
  };
}

function makePolicy(memberships: readonly (readonly string[])[], role: Role): Policy {
  const users = memberships.map((groups, index): PolicyUser => ({
    id: `u${index}`,
    displayName: `User ${index}`,
    passwordHash: 'scrypt:1:1:1:AA==:AA==',
    totpSecret: null,
    groups,
    isAdmin: false,
    isAuditor: false,
  }));
  return {
    service: SERVICE,
    groups: new Map(GROUPS.map((group) => [group, { description: '' }])),
    users: new Map(users.map((user) => [user.id, user])),
    resourceServers: new Map(),
    identity: { password: true, oidc: [], provisioning: 'jit', scimTokenHash: null },
    resources: new Map([
      [
        'res',
        {
          id: 'res',
          name: 'Resource',
          kind: 'database',
          description: '',
          postgres: null,
          roles: new Map([['role', role]]),
        },
      ],
    ]),
  };
}

/** Written independently of the engine: a user is an approver when listed by name or by a group. */
function isApprover(approvers: Approvers, user: PolicyUser): boolean {
  return approvers.users.includes(user.id) || user.groups.some((group) => approvers.groups.includes(group));
}

function approverIds(policy: Policy, approvers: Approvers): string[] {
  return [...policy.users.values()].filter((user) => isApprover(approvers, user)).map((user) => user.id);
}

interface Scenario {
  readonly policy: Policy;
  readonly role: Role;
  readonly requesterId: string;
}

interface StageDraft {
  readonly approvers: Approvers;
  readonly countWish: number;
  readonly escalateTo: Approvers | null;
}

type Mode = 'any' | 'quorum' | 'chain';

/** Turns drafts into a rule the loader would accept (every count at most the stage's approvers), or null. */
function buildScenario(draft: {
  memberships: readonly (readonly string[])[];
  mode: Mode;
  stages: readonly StageDraft[];
  requesterId: string;
  allowSelfApproval: boolean;
}): Scenario | null {
  const people = makePolicy(draft.memberships, makeRole());
  const available = (approvers: Approvers): number => approverIds(people, approvers).length;
  let stages: ApprovalStage[];
  const [first] = draft.stages;
  if (!first) return null;
  switch (draft.mode) {
    case 'any':
      stages = [{ name: 'approval', approvers: first.approvers, count: 1, escalation: null }];
      break;
    case 'quorum':
      stages = [
        {
          name: 'approval',
          approvers: first.approvers,
          count: Math.max(2, Math.min(first.countWish, available(first.approvers))),
          escalation: null,
        },
      ];
      break;
    case 'chain':
      stages = draft.stages.map((stage, index) => ({
        name: `stage ${index}`,
        approvers: stage.approvers,
        count: Math.min(stage.countWish, available(stage.approvers)),
        escalation: stage.escalateTo ? { afterSeconds: 900, to: stage.escalateTo } : null,
      }));
      break;
  }
  if (stages.some((stage) => stage.count < 1 || stage.count > available(stage.approvers))) return null;
  const approval: ApprovalRule = { mode: draft.mode, stages };
  const role = makeRole({ approval, allowSelfApproval: draft.allowSelfApproval });
  return { policy: makePolicy(draft.memberships, role), role, requesterId: draft.requesterId };
}

const approversArb = (userIds: readonly string[]): fc.Arbitrary<Approvers> =>
  fc
    .record({ groups: fc.subarray([...GROUPS]), users: fc.subarray([...userIds]) })
    .filter((approvers) => approvers.groups.length + approvers.users.length > 0);

const scenarioArb: fc.Arbitrary<Scenario> = fc
  .array(fc.subarray([...GROUPS]), { minLength: 2, maxLength: 8 })
  .chain((memberships) => {
    const userIds = memberships.map((_, index) => `u${index}`);
    return fc.record({
      memberships: fc.constant(memberships),
      mode: fc.constantFrom<Mode>('any', 'quorum', 'chain'),
      stages: fc.array(
        fc.record({
          approvers: approversArb(userIds),
          // Often 1, so that chains of several stages can be approved by distinct people.
          countWish: fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 6 })),
          escalateTo: fc.option(approversArb(userIds), { nil: null }),
        }),
        { minLength: 1, maxLength: 4 },
      ),
      requesterId: fc.constantFrom(...userIds),
      allowSelfApproval: fc.boolean(),
    });
  })
  .map(buildScenario)
  .filter((scenario): scenario is Scenario => scenario !== null);

interface Step {
  /** Which of the people decidersNow offers decides (modulo their number). */
  readonly pick: number;
  readonly verdict: 'approve' | 'deny';
  /** Whether the stage's escalation timeout passes before this decision. */
  readonly escalate: boolean;
}

const stepArb = (verdict: fc.Arbitrary<Step['verdict']>): fc.Arbitrary<Step> =>
  fc.record({ pick: fc.nat(), verdict, escalate: fc.boolean() });

/** Mostly approvals, now and then a deny. */
const stepsArb: fc.Arbitrary<Step[]> = fc.array(
  stepArb(
    fc.oneof(
      { arbitrary: fc.constant<'approve'>('approve'), weight: 6 },
      { arbitrary: fc.constant<'deny'>('deny'), weight: 1 },
    ),
  ),
  { maxLength: 16 },
);

/** Only approvals, enough to get through most rules: for the properties about approving. */
const approvalsArb: fc.Arbitrary<Step[]> = fc.array(stepArb(fc.constant<'approve'>('approve')), {
  minLength: 4,
  maxLength: 24,
});

const withMode = (mode: Mode): fc.Arbitrary<Scenario> =>
  scenarioArb.filter((scenario) => scenario.role.approval.mode === mode);

interface Turn {
  /** The progress the decision was made against (escalated already applied). */
  readonly before: ApprovalProgress;
  readonly deciders: readonly string[];
  readonly decision: Decision;
  readonly result: DecisionResult;
}

interface Run {
  readonly turns: readonly Turn[];
  readonly outcome: 'pending' | 'approved' | 'denied';
  readonly final: ApprovalProgress;
}

const START = Date.UTC(2025, 0, 1);

/** Plays the steps as the service would: only someone in decidersNow may decide. */
function play(scenario: Scenario, steps: readonly Step[]): Run {
  let progress: ApprovalProgress = {
    requesterId: scenario.requesterId,
    stageIndex: 0,
    escalated: false,
    decisions: [],
  };
  const turns: Turn[] = [];
  for (const [index, step] of steps.entries()) {
    if (step.escalate && currentStage(scenario.role, progress)?.escalation)
      progress = { ...progress, escalated: true };
    const deciders = decidersNow(scenario.policy, scenario.role, progress);
    if (deciders.length === 0) break;
    const decision: Decision = {
      approverId: deciders[step.pick % deciders.length] ?? '',
      decision: step.verdict,
      comment: '',
      at: new Date(START + index * 60_000).toISOString(),
      stage: progress.stageIndex,
    };
    const result = applyDecision(scenario.role, progress, decision);
    turns.push({ before: progress, deciders, decision, result });
    if (result.status !== 'pending') return { turns, outcome: result.status, final: result.progress };
    progress = result.progress;
  }
  return { turns, outcome: 'pending', final: progress };
}

const approvalsIn = (progress: ApprovalProgress, stage: number): string[] =>
  progress.decisions
    .filter((decision) => decision.stage === stage && decision.decision === 'approve')
    .map((decision) => decision.approverId);

const isSubset = (small: readonly string[], large: readonly string[]): boolean =>
  small.every((item) => large.includes(item));

describe('who is asked to decide', () => {
  it('is exactly the current stage (plus its escalation once escalated), less who decided and the requester', () => {
    fc.assert(
      fc.property(scenarioArb, stepsArb, (scenario, steps) => {
        for (const { before, deciders } of play(scenario, steps).turns) {
          const stage = scenario.role.approval.stages[before.stageIndex];
          if (!stage) throw new Error('a decision was made with no current stage');
          const expected = [...scenario.policy.users.values()]
            .filter(
              (user) =>
                isApprover(stage.approvers, user) ||
                (before.escalated && stage.escalation !== null && isApprover(stage.escalation.to, user)),
            )
            .map((user) => user.id)
            .filter((id) => !before.decisions.some((decision) => decision.approverId === id))
            .filter((id) => scenario.role.allowSelfApproval || id !== before.requesterId)
            .sort();
          expect(deciders).toEqual(expected);
        }
      }),
    );
  });

  it('never includes the requester unless the role allows self-approval', () => {
    fc.assert(
      fc.property(scenarioArb, stepsArb, (scenario, steps) => {
        const { turns, final } = play(scenario, steps);
        const asked = [
          ...turns.map((turn) => turn.deciders),
          decidersNow(scenario.policy, scenario.role, final),
          possibleDeciders(scenario.policy, scenario.role, final),
        ];
        for (const deciders of asked) {
          if (!scenario.role.allowSelfApproval) expect(deciders).not.toContain(scenario.requesterId);
        }
        for (const decision of final.decisions) {
          if (!scenario.role.allowSelfApproval) expect(decision.approverId).not.toBe(scenario.requesterId);
        }
      }),
    );
  });

  it('offers the requester when self-approval is allowed and they approve the current stage', () => {
    fc.assert(
      fc.property(scenarioArb, (scenario) => {
        const progress: ApprovalProgress = {
          requesterId: scenario.requesterId,
          stageIndex: 0,
          escalated: false,
          decisions: [],
        };
        const stage = scenario.role.approval.stages[0];
        const requester = scenario.policy.users.get(scenario.requesterId);
        if (!stage || !requester) throw new Error('scenario without a first stage or requester');
        const asked = decidersNow(scenario.policy, scenario.role, progress).includes(scenario.requesterId);
        expect(asked).toBe(scenario.role.allowSelfApproval && isApprover(stage.approvers, requester));
      }),
    );
  });

  it('never asks again someone who already approved, in this stage or an earlier one', () => {
    fc.assert(
      fc.property(scenarioArb, stepsArb, (scenario, steps) => {
        const { turns, final } = play(scenario, steps);
        for (const { before, deciders } of turns) {
          const approved = before.decisions
            .filter((decision) => decision.decision === 'approve')
            .map((decision) => decision.approverId);
          expect(deciders.filter((id) => approved.includes(id))).toEqual([]);
        }
        const everyone = final.decisions.map((decision) => decision.approverId);
        expect(new Set(everyone).size).toBe(everyone.length);
      }),
    );
  });

  it('only grows when the stage escalates', () => {
    fc.assert(
      fc.property(scenarioArb, stepsArb, (scenario, steps) => {
        const { turns, final } = play(scenario, steps);
        for (const progress of [...turns.map((turn) => turn.before), final]) {
          const calm = decidersNow(scenario.policy, scenario.role, { ...progress, escalated: false });
          const escalated = decidersNow(scenario.policy, scenario.role, { ...progress, escalated: true });
          expect(isSubset(calm, escalated), `${calm.join(',')} ⊆ ${escalated.join(',')}`).toBe(true);
          const possible = possibleDeciders(scenario.policy, scenario.role, progress);
          expect(isSubset(decidersNow(scenario.policy, scenario.role, progress), possible)).toBe(true);
        }
      }),
    );
  });

  it('membersOf lists the named users that exist and every member of the named groups', () => {
    fc.assert(
      fc.property(
        fc.array(fc.subarray([...GROUPS]), { minLength: 1, maxLength: 6 }),
        fc.subarray([...GROUPS]),
        fc.subarray(['u0', 'u1', 'u2', 'u3', 'nobody']),
        (memberships, groups, users) => {
          const policy = makePolicy(memberships, makeRole());
          const approvers: Approvers = { groups, users };
          expect([...membersOf(policy, approvers)].sort()).toEqual(approverIds(policy, approvers).sort());
        },
      ),
    );
  });
});

describe('applying decisions', () => {
  it('follows the stages in order: pending until a stage has its count, then the next, then approved', () => {
    fc.assert(
      fc.property(scenarioArb, stepsArb, (scenario, steps) => {
        const { stages } = scenario.role.approval;
        for (const { before, decision, result } of play(scenario, steps).turns) {
          const stage = stages[before.stageIndex];
          if (!stage) throw new Error('a decision was made with no current stage');
          const approvals = approvalsIn(before, before.stageIndex).length + 1;
          if (decision.decision === 'deny') {
            expect(result.status).toBe('denied');
          } else if (approvals < stage.count) {
            expect(result).toMatchObject({
              status: 'pending',
              stageAdvanced: false,
              progress: { stageIndex: before.stageIndex, escalated: before.escalated },
            });
          } else if (before.stageIndex + 1 < stages.length) {
            expect(result).toMatchObject({
              status: 'pending',
              stageAdvanced: true,
              progress: { stageIndex: before.stageIndex + 1, escalated: false },
            });
          } else {
            expect(result.status).toBe('approved');
          }
          expect(result.progress.decisions).toEqual([...before.decisions, decision]);
        }
      }),
    );
  });

  it('approves a chain only after every stage, in order, reached its count of distinct approvers', () => {
    fc.assert(
      fc.property(withMode('chain'), approvalsArb, (scenario, steps) => {
        const { turns, outcome, final } = play(scenario, steps);
        if (outcome !== 'approved') return;
        const stageOrder = final.decisions.map((decision) => decision.stage);
        expect(stageOrder).toEqual([...stageOrder].sort((a, b) => a - b));
        scenario.role.approval.stages.forEach((stage, index) => {
          const approvers = approvalsIn(final, index);
          expect(new Set(approvers).size).toBe(approvers.length);
          expect(approvers.length).toBe(stage.count);
        });
        // Every accepted decision came from decidersNow at the moment it was made, in the stage it names.
        for (const { before, deciders, decision } of turns) {
          expect(deciders).toContain(decision.approverId);
          expect(decision.stage).toBe(before.stageIndex);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('approves a quorum of N only at the Nth distinct approval', () => {
    fc.assert(
      fc.property(withMode('quorum'), fc.oneof(stepsArb, approvalsArb), (scenario, steps) => {
        const count = scenario.role.approval.stages[0]?.count ?? Number.NaN;
        for (const { result } of play(scenario, steps).turns) {
          const distinct = new Set(approvalsIn(result.progress, 0)).size;
          if (result.status === 'approved') expect(distinct).toBe(count);
          if (result.status === 'pending') expect(distinct).toBeLessThan(count);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('denies on a single deny, however many approvals came before', () => {
    fc.assert(
      fc.property(scenarioArb, stepsArb, fc.nat(), (scenario, steps, pick) => {
        const approving = steps.map((step) => ({ ...step, verdict: 'approve' as const }));
        const { outcome, final } = play(scenario, approving);
        if (outcome !== 'pending') return;
        const deciders = decidersNow(scenario.policy, scenario.role, final);
        const denier = deciders[pick % Math.max(1, deciders.length)];
        if (denier === undefined) return;
        const result = applyDecision(scenario.role, final, {
          approverId: denier,
          decision: 'deny',
          comment: 'no',
          at: new Date(START).toISOString(),
          stage: final.stageIndex,
        });
        expect(result.status).toBe('denied');
      }),
    );
  });
});

describe('extensionHeadroomSeconds', () => {
  it("never lets an extension pass the role's maximum counted from the start, and is never negative", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1, max: 30 * 86_400 }),
        fc.integer({ min: 0, max: 31 * 86_400_000 }),
        (startsAtMs, maxSeconds, lengthMs) => {
          const role = makeRole({ maxDurationSeconds: maxSeconds, minDurationSeconds: 1 });
          const expiresAtMs = startsAtMs + lengthMs;
          const headroom = extensionHeadroomSeconds(role, startsAtMs, expiresAtMs);
          const limit = startsAtMs + maxSeconds * 1000;
          expect(Number.isInteger(headroom)).toBe(true);
          expect(headroom).toBeGreaterThanOrEqual(0);
          if (expiresAtMs >= limit) {
            expect(headroom).toBe(0);
          } else {
            expect(expiresAtMs + headroom * 1000).toBeLessThanOrEqual(limit);
            // ...and it is the whole headroom: one more second would pass the maximum.
            expect(expiresAtMs + (headroom + 1) * 1000).toBeGreaterThan(limit);
          }
        },
      ),
    );
  });

  it('keeps a grant within its maximum however many extensions use the headroom', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 60, max: 8 * 3600 }),
        fc.integer({ min: 0, max: 100_000 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 }),
        (maxSeconds, firstMs, shares) => {
          const role = makeRole({ maxDurationSeconds: maxSeconds, minDurationSeconds: 1 });
          const startsAtMs = START;
          let expiresAtMs = startsAtMs + Math.min(firstMs, maxSeconds * 1000);
          for (const share of shares) {
            const headroom = extensionHeadroomSeconds(role, startsAtMs, expiresAtMs);
            expiresAtMs += Math.round(share * headroom) * 1000;
            expect(expiresAtMs - startsAtMs).toBeLessThanOrEqual(maxSeconds * 1000);
          }
        },
      ),
    );
  });
});

describe('nextReminderAt', () => {
  it('is the next configured lead ahead, after now and before expiry, skipping leads not shorter than the grant', () => {
    fc.assert(
      fc.property(
        // Small numbers, so leads equal to the grant's length and reminders due right now come up often.
        fc.array(fc.integer({ min: 1, max: 40 }), { maxLength: 5 }),
        fc.integer({ min: 0, max: 4_000_000_000_000 }),
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: -40_000, max: 40_000 }),
        (leads, startsAtMs, lengthSeconds, nowOffsetMs) => {
          const lengthMs = lengthSeconds * 1000;
          const expiresAtMs = startsAtMs + lengthMs;
          const nowMs = startsAtMs + nowOffsetMs;
          const at = nextReminderAt(leads, startsAtMs, expiresAtMs, nowMs);
          const qualifying = leads.filter(
            (lead) => lead * 1000 < lengthMs && expiresAtMs - lead * 1000 > nowMs,
          );
          if (qualifying.length === 0) {
            expect(at).toBeNull();
            return;
          }
          if (at === null) throw new Error(`expected a reminder for one of ${qualifying.join(', ')}`);
          const lead = (expiresAtMs - at) / 1000;
          expect(at).toBeGreaterThan(nowMs);
          expect(at).toBeLessThan(expiresAtMs);
          expect(leads).toContain(lead);
          expect(lead).toBeLessThan(lengthSeconds);
          // The next one due is the longest lead still ahead.
          expect(lead).toBe(Math.max(...qualifying));
        },
      ),
    );
  });

  it('skips a lead exactly as long as the grant, and one longer', () => {
    // Asked just before the grant starts, so only the length rule can skip these.
    expect(nextReminderAt([600], START, START + 600_000, START - 1)).toBeNull();
    expect(nextReminderAt([601, 600], START, START + 600_000, START - 1)).toBeNull();
    expect(nextReminderAt([599], START, START + 600_000, START - 1)).toBe(START + 1000);
    expect(nextReminderAt([600, 60], START, START + 600_000, START)).toBe(START + 540_000);
    expect(nextReminderAt([600, 60], START, START + 3_600_000, START + 3_000_000)).toBe(START + 3_540_000);
    expect(nextReminderAt([600, 60], START, START + 3_600_000, START + 3_540_000)).toBeNull();
  });
});

describe('checkRequestInput', () => {
  it('accepts exactly the durations from min to max', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 0, max: 86_400 }),
        fc.oneof(
          fc.record({ near: fc.constantFrom('min', 'max'), offset: fc.integer({ min: -2, max: 2 }) }),
          fc.record({ near: fc.constant('zero'), offset: fc.integer({ min: -10, max: 200_000 }) }),
        ),
        (min, span, choice) => {
          const max = min + span;
          const base = { min, max, zero: 0 }[choice.near];
          const durationSeconds = base + choice.offset;
          const role = makeRole({
            minDurationSeconds: min,
            defaultDurationSeconds: min,
            maxDurationSeconds: max,
          });
          let error: unknown = null;
          try {
            checkRequestInput('res', role, { durationSeconds, reason: 'needed', ticket: null });
          } catch (caught) {
            error = caught;
          }
          const inRange = durationSeconds >= min && durationSeconds <= max;
          expect(error === null).toBe(inRange);
          if (!inRange) {
            expect(error).toBeInstanceOf(ApiError);
            expect(error).toMatchObject({
              status: 400,
              code: 'duration_out_of_range',
              details: { minDurationSeconds: min, maxDurationSeconds: max },
            });
          }
        },
      ),
    );
  });
});

describe('parseDuration and formatDuration', () => {
  const UNITS = { d: 86_400, h: 3600, m: 60, s: 1 } as const;
  type Unit = keyof typeof UNITS;

  it('reads a whole number of one unit', () => {
    fc.assert(
      fc.property(fc.nat({ max: 100_000 }), fc.constantFrom<Unit>('d', 'h', 'm', 's'), (amount, unit) => {
        expect(parseDuration(`${amount}${unit}`)).toBe(amount * UNITS[unit]);
      }),
    );
  });

  it('reads units written in order d, h, m, s, any of them left out', () => {
    fc.assert(
      fc.property(
        fc.record(
          {
            d: fc.nat({ max: 400 }),
            h: fc.nat({ max: 99 }),
            m: fc.nat({ max: 999 }),
            s: fc.nat({ max: 9999 }),
          },
          { requiredKeys: [] },
        ),
        (parts) => {
          const entries = (Object.keys(UNITS) as Unit[]).flatMap((unit) => {
            const amount = parts[unit];
            return amount === undefined ? [] : [[unit, amount] as const];
          });
          fc.pre(entries.length > 0);
          const text = entries.map(([unit, amount]) => `${amount}${unit}`).join('');
          const seconds = entries.reduce((sum, [unit, amount]) => sum + amount * UNITS[unit], 0);
          expect(parseDuration(text)).toBe(seconds);
        },
      ),
    );
  });

  it('takes whole non-negative numbers as seconds, and nothing else', () => {
    fc.assert(
      fc.property(fc.oneof(fc.nat(), fc.integer({ max: -1 }), fc.double()), (value) => {
        const whole = Number.isSafeInteger(value) && value >= 0;
        expect(parseDuration(value)).toBe(whole ? value : null);
      }),
    );
  });

  it('reads back every duration it prints exactly (at most two units)', () => {
    const exactArb = fc
      .record({
        d: fc.nat({ max: 60 }),
        h: fc.nat({ max: 23 }),
        m: fc.nat({ max: 59 }),
        s: fc.nat({ max: 59 }),
        keep: fc.subarray<Unit>(['d', 'h', 'm', 's'], { minLength: 1, maxLength: 2 }),
      })
      .map(({ keep, ...amounts }) => keep.reduce((sum, unit) => sum + amounts[unit] * UNITS[unit], 0));
    fc.assert(
      fc.property(exactArb, (seconds) => {
        const printed = formatDuration(seconds);
        expect(parseDuration(printed), `formatDuration(${seconds}) = "${printed}"`).toBe(seconds);
      }),
    );
  });

  it('prints at most two units, largest first, never more than the value', () => {
    fc.assert(
      fc.property(fc.nat({ max: 400 * 86_400 }), (seconds) => {
        const printed = formatDuration(seconds);
        expect(printed).toMatch(/^\d+[dhms](\d+[dhms])?$/);
        const value = parseDuration(printed);
        expect(value).not.toBeNull();
        expect(value ?? Infinity).toBeLessThanOrEqual(seconds);
        // Dropping the smaller units loses less than the second unit printed (or the first, if alone).
        const units = [...printed.matchAll(/[dhms]/g)].map((match) => UNITS[match[0] as Unit]);
        expect(seconds - (value ?? 0)).toBeLessThan(Math.min(...units));
      }),
    );
  });
});

describe('approvalShortfall: whether the people the policy names can still finish a request', () => {
  /**
   * Written independently of the matching: tries every order of approvals by whoever the engine would ask
   * once escalated, remembering states by stage and who decided (order within a stage does not matter).
   */
  function canFinish(scenario: Scenario, start: ApprovalProgress): boolean {
    const seen = new Map<string, boolean>();
    const search = (progress: ApprovalProgress): boolean => {
      const key = `${progress.stageIndex}:${progress.decisions
        .map((decision) => decision.approverId)
        .sort()
        .join(',')}`;
      const known = seen.get(key);
      if (known !== undefined) return known;
      const escalated = { ...progress, escalated: true };
      let finishes = false;
      for (const approverId of decidersNow(scenario.policy, scenario.role, escalated)) {
        const result = applyDecision(scenario.role, escalated, {
          approverId,
          decision: 'approve',
          comment: '',
          at: new Date(START).toISOString(),
          stage: progress.stageIndex,
        });
        if (result.status === 'approved' || (result.status === 'pending' && search(result.progress))) {
          finishes = true;
          break;
        }
      }
      seen.set(key, finishes);
      return finishes;
    };
    return search(start);
  }

  it('is null exactly when some order of approvals by eligible people approves the request, at every turn', () => {
    fc.assert(
      fc.property(scenarioArb, approvalsArb, (scenario, steps) => {
        const run = play(scenario, steps);
        const start: ApprovalProgress = {
          requesterId: scenario.requesterId,
          stageIndex: 0,
          escalated: false,
          decisions: [],
        };
        const progressions = [start, ...run.turns.map((turn) => turn.before)];
        if (run.outcome === 'pending') progressions.push(run.final);
        for (const progress of progressions) {
          const shortfall = approvalShortfall(scenario.policy, scenario.role, progress);
          expect(shortfall === null).toBe(canFinish(scenario, progress));
          if (shortfall) {
            expect(shortfall.eligible).toBeLessThan(shortfall.needed);
            expect(shortfall.stageIndex).toBeGreaterThanOrEqual(progress.stageIndex);
          }
        }
      }),
    );
  });
});
