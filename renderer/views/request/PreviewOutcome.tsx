import type { RequestPreviewView } from '../../../api/schemas.js';
import { outcomeSentence, type RoleView } from './policy.js';

/** Problems the form already shows at the field, checked by the same rules: not repeated below it. */
const FIELDS_THE_FORM_CHECKS = new Set(['durationSeconds', 'reason', 'ticket']);

/**
 * What the preview refuses that the form does not show by itself (an open request for the role…). A
 * failing condition is not repeated: the list of conditions below says it.
 */
export function refusalsOf(preview: RequestPreviewView | null): RequestPreviewView['problems'] {
  return (
    preview?.problems.filter(
      (problem) => !FIELDS_THE_FORM_CHECKS.has(problem.field) && problem.field !== 'conditions',
    ) ?? []
  );
}

const refusedByConditions = (preview: RequestPreviewView | null): boolean =>
  preview?.problems.some((problem) => problem.field === 'conditions') ?? false;

/**
 * The sentence for what will happen: the service's preview when it routes the request differently from
 * the catalog's rule (a condition sends an automatic role to people), else the catalog's own sentence,
 * which also tells of seats and queues.
 */
export function previewSentence(
  preview: RequestPreviewView | null,
  role: Pick<RoleView, 'approval' | 'seats'>,
  me: string | null,
): string {
  if (refusalsOf(preview).length > 0) return 'It would be refused:';
  if (refusedByConditions(preview)) return 'It would be refused: the role’s conditions are not all met.';
  const approval = preview?.decision === 'approval' ? preview.approval : null;
  if (approval && role.approval.mode === 'auto') {
    const stages = approval.stages.map(
      (stage) =>
        `${stage.name} (${stage.approvers.map((person) => person.displayName).join(' or ') || 'nobody'})`,
    );
    return `Needs approval: ${stages.join(', then ')}.`;
  }
  return outcomeSentence(role, me);
}

/** "What happens" in the request dialog, with the service's reasons and the role's conditions. */
export function PreviewOutcome({
  preview,
  role,
  me,
}: {
  readonly preview: RequestPreviewView | null;
  readonly role: Pick<RoleView, 'approval' | 'seats'>;
  readonly me: string | null;
}) {
  const refusals = refusalsOf(preview);
  const conditions = preview?.conditions ?? [];
  const refused = refusals.length > 0 || refusedByConditions(preview);
  return (
    <div className={refused ? 'outcome outcome-refused' : 'outcome'} role="status">
      <span className="outcome-label">What happens:</span> {previewSentence(preview, role, me)}
      {refusals.length > 0 ? (
        <ul className="outcome-list">
          {refusals.map((problem) => (
            <li key={problem.code}>{problem.message}</li>
          ))}
        </ul>
      ) : null}
      {conditions.length > 0 ? (
        <ul className="outcome-list" aria-label="Conditions">
          {conditions.map((condition) => (
            <li key={condition.name} className={condition.met ? 'condition-met' : 'condition-unmet'}>
              <span aria-hidden="true">{condition.met ? '✓ ' : '✗ '}</span>
              {condition.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
