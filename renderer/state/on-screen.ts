import { useCallback, useEffect, useState } from 'react';

type Watcher = (onScreen: boolean) => void;

const watchers = new WeakMap<Element, Watcher>();
let observer: IntersectionObserver | null = null;

function sharedObserver(): IntersectionObserver | null {
  if (typeof IntersectionObserver === 'undefined') return null;
  // One observer for every card; a margin so a countdown is current before it scrolls into view.
  observer ??= new IntersectionObserver(
    (entries) => {
      for (const entry of entries) watchers.get(entry.target)?.(entry.isIntersecting);
    },
    { rootMargin: '200px 0px' },
  );
  return observer;
}

/**
 * Whether an element is on screen (or close to it), for work that only matters while it is seen: with
 * hundreds of grants, only the visible countdowns redraw at each tick. Without IntersectionObserver,
 * everything counts as on screen.
 */
export function useOnScreen(): [(element: Element | null) => void, boolean] {
  const [element, setElement] = useState<Element | null>(null);
  const [onScreen, setOnScreen] = useState(true);
  useEffect(() => {
    const shared = sharedObserver();
    if (!element || !shared) return undefined;
    watchers.set(element, setOnScreen);
    shared.observe(element);
    return () => {
      shared.unobserve(element);
      watchers.delete(element);
    };
  }, [element]);
  const ref = useCallback((next: Element | null) => {
    setElement(next);
  }, []);
  return [ref, onScreen];
}
