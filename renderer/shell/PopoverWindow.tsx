import { BannerBar } from '../components/BannerBar.js';
import { StatusLine } from '../components/StatusLine.js';
import { useApp, useTimebox } from '../state/hooks.js';
import { MyAccess } from '../views/access/MyAccess.js';
import { ApprovalsInbox } from '../views/approvals/ApprovalsInbox.js';
import { Popover } from '../views/popover/Popover.js';
import { SettingsView } from '../views/settings/SettingsView.js';
import { SignIn } from '../views/sign-in/SignIn.js';
import { DialogHost } from './DialogHost.js';

/** The tray popover: its own compact list, and the other views in place with a way back. */
export function PopoverWindow() {
  const signedIn = useApp((app) => app.session.status === 'signed-in');
  const section = useTimebox((state) => state.section);
  const openSection = useTimebox((state) => state.openSection);

  if (!signedIn) {
    return (
      <main className="window window-popover">
        <StatusLine />
        <SignIn />
      </main>
    );
  }
  return (
    <main className="window window-popover">
      {section === 'home' ? (
        <Popover />
      ) : (
        <div className="popover-subview">
          <nav className="popover-back" aria-label="Back">
            <button
              type="button"
              className="link-button"
              onClick={() => {
                openSection('home');
              }}
            >
              ‹ Back
            </button>
          </nav>
          <StatusLine />
          <BannerBar />
          {section === 'approvals' ? (
            <ApprovalsInbox />
          ) : section === 'settings' ? (
            <SettingsView />
          ) : (
            <MyAccess />
          )}
        </div>
      )}
      <DialogHost />
    </main>
  );
}
