import type { RecommendationView } from '../../../api/insights-schemas.js';
import { roleRowId } from './RoleTable.js';

const TITLES: Readonly<Record<RecommendationView['kind'], string>> = {
  shorten_duration: 'Shorten the default',
  auto_approve_candidate: 'Approve at once',
  slow_approvals: 'Speed up approvals',
  never_used: 'Asked for, never used',
  fewer_seats: 'Drop seats',
};

/** "usedSecondsP50" → "used seconds p50": the evidence's keys, read aloud. */
const words = (key: string): string => key.replace(/([a-z])([A-Z0-9])/g, '$1 $2').toLowerCase();

/**
 * The advice, each with the figures it rests on and a link to its role's row in the table (or its seat
 * pool's chart), where the same figures stand among the others.
 */
export function RecommendationList({ items }: { readonly items: readonly RecommendationView[] }) {
  if (items.length === 0) {
    return (
      <p className="insight-none">
        Nothing to change: no role or seat pool crossed a threshold in this period.
      </p>
    );
  }
  return (
    <ul className="recommendations">
      {items.map((item) => {
        const target =
          item.kind === 'fewer_seats'
            ? `seats-${item.resourceId}-${item.role}`
            : roleRowId(item.resourceId, item.role);
        const figures = Object.entries(item.evidence).filter(([key]) => key !== 'from' && key !== 'to');
        return (
          <li key={`${item.kind}/${item.resourceId}/${item.role}`} className="recommendation">
            <p className="recommendation-title">
              <span className="role-tag">{TITLES[item.kind]}</span> {item.resourceId}/{item.role}
            </p>
            <p>{item.message}</p>
            <dl className="evidence">
              {figures.map(([key, value]) => (
                <div key={key}>
                  <dt>{words(key)}</dt>
                  <dd>{value === null ? '—' : String(value)}</dd>
                </div>
              ))}
            </dl>
            <a
              className="link-button"
              href={`#${target}`}
              onClick={(event) => {
                event.preventDefault();
                const element = document.getElementById(target);
                element?.scrollIntoView({ block: 'center' });
                element?.focus();
              }}
            >
              See the evidence
            </a>
          </li>
        );
      })}
    </ul>
  );
}
