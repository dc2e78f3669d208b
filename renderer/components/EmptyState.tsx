import type { ReactNode } from 'react';

/** A designed blank: what is (not) here, why, and the one thing to do about it. */
export function EmptyState({
  title,
  children,
  action,
  tone = 'neutral',
}: {
  readonly title: string;
  readonly children?: ReactNode;
  readonly action?: ReactNode;
  readonly tone?: 'neutral' | 'warning' | 'loading';
}) {
  return (
    <div className={`empty-state empty-${tone}`}>
      {tone === 'loading' ? <span className="spinner" aria-hidden="true" /> : null}
      <p className="empty-title">{title}</p>
      {children ? <p className="empty-text">{children}</p> : null}
      {action ? <div className="empty-action">{action}</div> : null}
    </div>
  );
}
