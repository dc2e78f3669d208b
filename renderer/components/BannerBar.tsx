import { useTimebox } from '../state/hooks.js';

/** The latest message: an error with its way out, or a quiet confirmation, in a region that stays put. */
export function BannerBar() {
  const banner = useTimebox((state) => state.banner);
  const dismiss = useTimebox((state) => state.dismissBanner);
  return (
    <div className="banner-region" aria-live="polite">
      {banner ? (
        <div
          key={banner.id}
          className={`banner banner-${banner.tone}`}
          role={banner.tone === 'error' ? 'alert' : undefined}
        >
          <span className="banner-text">{banner.text}</span>
          {banner.action ? (
            <button
              type="button"
              className="button button-small"
              onClick={() => {
                dismiss();
                banner.action?.run();
              }}
            >
              {banner.action.label}
            </button>
          ) : null}
          <button type="button" className="icon-button" aria-label="Dismiss message" onClick={dismiss}>
            <span aria-hidden="true">×</span>
          </button>
        </div>
      ) : null}
    </div>
  );
}
