import { useState } from 'react';
import type { RoleInsightView } from '../../../api/insights-schemas.js';
import { formatDuration } from '../../time/format.js';

/** A column of the table: its heading, how a row reads in it, and the value it sorts by. */
interface Column {
  readonly key: string;
  readonly label: string;
  readonly value: (row: RoleInsightView) => number | string | null;
  readonly show: (row: RoleInsightView) => string;
}

const seconds = (value: number | null): string => (value === null ? '—' : formatDuration(value));
const count = (value: number | null): string => (value === null ? '—' : String(value));

const COLUMNS: readonly Column[] = [
  {
    key: 'role',
    label: 'Role',
    value: (row) => `${row.resourceId}/${row.role}`,
    show: (row) => `${row.resourceId}/${row.role}`,
  },
  { key: 'requests', label: 'Requests', value: (row) => row.requests, show: (row) => count(row.requests) },
  {
    key: 'approved',
    label: 'Approved (at once)',
    value: (row) => row.approved,
    show: (row) => `${row.approved} (${row.auto})`,
  },
  { key: 'denied', label: 'Denied', value: (row) => row.denied, show: (row) => count(row.denied) },
  { key: 'lapsed', label: 'Lapsed', value: (row) => row.lapsed, show: (row) => count(row.lapsed) },
  {
    key: 'decision',
    label: 'Decision p50 / p90',
    value: (row) => row.decisionSeconds.p50,
    show: (row) => `${seconds(row.decisionSeconds.p50)} / ${seconds(row.decisionSeconds.p90)}`,
  },
  {
    key: 'requested',
    label: 'Asked for (p50)',
    value: (row) => row.requestedSeconds.p50,
    show: (row) => seconds(row.requestedSeconds.p50),
  },
  {
    key: 'used',
    label: 'Used (p50)',
    value: (row) => row.usedSeconds.p50,
    show: (row) => seconds(row.usedSeconds.p50),
  },
  {
    key: 'early',
    label: 'Ended early',
    value: (row) => row.endedEarly,
    show: (row) => `${row.endedEarly} of ${row.endedGrants}`,
  },
  {
    key: 'fetched',
    label: 'Never fetched',
    value: (row) => row.credentialNeverFetched,
    show: (row) => count(row.credentialNeverFetched),
  },
  {
    key: 'login',
    label: 'Login unused',
    value: (row) => row.loginNeverUsed,
    show: (row) => count(row.loginNeverUsed),
  },
];

type Direction = 'ascending' | 'descending';

/** Nulls last whichever the direction: "nothing measured" is never the most or the least. */
function compare(a: number | string | null, b: number | string | null, direction: Direction): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  const order = typeof a === 'number' && typeof b === 'number' ? a - b : String(a).localeCompare(String(b));
  return direction === 'ascending' ? order : -order;
}

/** The id of a role's row, so a recommendation can link to the figures it rests on. */
export const roleRowId = (resourceId: string, role: string): string => `insight-${resourceId}-${role}`;

/** Every role's figures over the period, sorted by the column whose heading was pressed last. */
export function RoleTable({ rows }: { readonly rows: readonly RoleInsightView[] }) {
  const [sort, setSort] = useState<{ key: string; direction: Direction }>({
    key: 'requests',
    direction: 'descending',
  });
  const column = COLUMNS.find((candidate) => candidate.key === sort.key) ?? COLUMNS[0];
  const sorted = column
    ? [...rows].sort((a, b) => compare(column.value(a), column.value(b), sort.direction))
    : [...rows];
  return (
    <div className="insight-table-scroll">
      <table className="insight-table">
        <caption>Each role’s requests in the period, and how the grants were used</caption>
        <thead>
          <tr>
            {COLUMNS.map((each) => (
              <th key={each.key} scope="col" aria-sort={each.key === sort.key ? sort.direction : 'none'}>
                <button
                  type="button"
                  className="sort-button"
                  onClick={() => {
                    setSort((current) => ({
                      key: each.key,
                      direction:
                        current.key === each.key && current.direction === 'descending'
                          ? 'ascending'
                          : 'descending',
                    }));
                  }}
                >
                  {each.label}
                </button>
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {sorted.map((row) => (
            <tr key={`${row.resourceId}/${row.role}`} id={roleRowId(row.resourceId, row.role)} tabIndex={-1}>
              {COLUMNS.map((each, index) =>
                index === 0 ? (
                  <th key={each.key} scope="row">
                    {each.show(row)}
                  </th>
                ) : (
                  <td key={each.key}>{each.show(row)}</td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
