import { useWindowVirtualizer } from '@tanstack/react-virtual';
import { memo, useEffect, useLayoutEffect, useRef, useState, type Ref } from 'react';
import type { GrantState } from '../../../preload/contract.js';
import { GrantActions } from '../../components/GrantActions.js';
import { GrantSummary } from '../../components/GrantSummary.js';
import { EVERY_CARD_UP_TO } from './grant-list-size.js';

/** The `.grant-list` gap (`--space-2`), for the virtual list's arithmetic. */
const CARD_GAP_PX = 8;
/** A card with one line of actions; each card is measured once it is drawn. */
const ESTIMATED_CARD_PX = 130;
/** Cards drawn beyond each edge of the view, so a scroll shows drawn cards before it measures new ones. */
const OVERSCAN = 4;

interface LiveGrantListProps {
  /** The live grants, the nearest expiry first. */
  readonly grants: readonly GrantState[];
  readonly labelOf: (grant: GrantState) => string;
  readonly onRelinquish: (grant: GrantState) => void;
  /** The grant a notification pointed at: it is scrolled to (drawn first if it was not) and marked. */
  readonly highlightId: string | null;
  readonly highlightRef: Ref<HTMLLIElement>;
}

/** The active grants of My access, each with its countdown and actions. */
export function LiveGrantList(props: LiveGrantListProps) {
  return props.grants.length > EVERY_CARD_UP_TO ? (
    <VirtualGrantList {...props} />
  ) : (
    <EveryGrantList {...props} />
  );
}

function EveryGrantList({ grants, labelOf, onRelinquish, highlightId, highlightRef }: LiveGrantListProps) {
  return (
    <ul className="grant-list">
      {grants.map((grant) => (
        <li
          key={grant.id}
          ref={grant.id === highlightId ? highlightRef : undefined}
          className={grant.id === highlightId ? 'highlighted' : undefined}
        >
          <LiveGrantCard grant={grant} label={labelOf(grant)} onRelinquish={onRelinquish} />
        </li>
      ))}
    </ul>
  );
}

/**
 * The page itself scrolls (the window has no inner scroller), so the list follows the window's scroll;
 * what is above the list (a notice, the heading) is its scroll margin.
 */
function VirtualGrantList({ grants, labelOf, onRelinquish, highlightId, highlightRef }: LiveGrantListProps) {
  const list = useRef<HTMLUListElement>(null);
  const [listTop, setListTop] = useState(0);
  useLayoutEffect(() => {
    const element = list.current;
    if (!element) return undefined;
    const measure = () => {
      setListTop(element.getBoundingClientRect().top + window.scrollY);
    };
    measure();
    // Whatever moves the list (a notice above it, a narrower window) changes the page's height too.
    const observer = new ResizeObserver(measure);
    observer.observe(document.body);
    return () => {
      observer.disconnect();
    };
  }, []);
  const virtualizer = useWindowVirtualizer({
    count: grants.length,
    estimateSize: () => ESTIMATED_CARD_PX,
    gap: CARD_GAP_PX,
    overscan: OVERSCAN,
    scrollMargin: listTop,
    getItemKey: (index) => grants[index]?.id ?? index,
  });
  const highlightIndex = highlightId === null ? -1 : grants.findIndex((grant) => grant.id === highlightId);
  useEffect(() => {
    if (highlightIndex >= 0) virtualizer.scrollToIndex(highlightIndex, { align: 'center' });
  }, [highlightIndex, virtualizer]);

  const drawn = virtualizer.getVirtualItems();
  const first = drawn[0];
  const last = drawn[drawn.length - 1];
  // Space for the cards not drawn, above and below the drawn ones.
  const above = first ? first.start - listTop : 0;
  const below = last ? virtualizer.getTotalSize() - (last.end - listTop) : 0;
  return (
    <ul ref={list} className="grant-list" style={{ paddingTop: above, paddingBottom: below }}>
      {drawn.map((item) => {
        const grant = grants[item.index];
        if (!grant) return null;
        const highlighted = grant.id === highlightId;
        return (
          <li
            key={item.key}
            data-index={item.index}
            ref={(element) => {
              virtualizer.measureElement(element);
              if (highlighted) assignRef(highlightRef, element);
            }}
            className={highlighted ? 'highlighted' : undefined}
            aria-setsize={grants.length}
            aria-posinset={item.index + 1}
          >
            <LiveGrantCard grant={grant} label={labelOf(grant)} onRelinquish={onRelinquish} />
          </li>
        );
      })}
    </ul>
  );
}

function assignRef<T>(ref: Ref<T>, value: T | null): void {
  if (typeof ref === 'function') ref(value);
  else if (ref) ref.current = value;
}

/** One card; it re-renders when its grant or label does, not when the list around it changes. */
const LiveGrantCard = memo(function LiveGrantCard({
  grant,
  label,
  onRelinquish,
}: {
  readonly grant: GrantState;
  readonly label: string;
  readonly onRelinquish: (grant: GrantState) => void;
}) {
  return (
    <GrantSummary grant={grant}>
      <GrantActions grant={grant} label={label} offerExtend>
        <button
          type="button"
          className="button button-small button-quiet-danger"
          aria-label={`Relinquish ${label}`}
          onClick={() => {
            onRelinquish(grant);
          }}
        >
          Relinquish…
        </button>
      </GrantActions>
    </GrantSummary>
  );
});
