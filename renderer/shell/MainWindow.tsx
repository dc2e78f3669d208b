import { BannerBar } from '../components/BannerBar.js';
import { StatusLine } from '../components/StatusLine.js';
import { useApp, useTimebox } from '../state/hooks.js';
import type { Section } from '../state/store.js';
import { MyAccess } from '../views/access/MyAccess.js';
import { ApprovalsInbox } from '../views/approvals/ApprovalsInbox.js';
import { SettingsView } from '../views/settings/SettingsView.js';
import { SignIn } from '../views/sign-in/SignIn.js';
import { DialogHost } from './DialogHost.js';

const SECTIONS: readonly { readonly section: Section; readonly label: string }[] = [
  { section: 'access', label: 'My access' },
  { section: 'approvals', label: 'Approvals' },
  { section: 'settings', label: 'Settings' },
];

/** The main window: a sidebar (Request access, My access, Approvals, Settings) and the chosen view. */
export function MainWindow() {
  const signedIn = useApp((app) => app.session.status === 'signed-in');
  const waiting = useApp((app) => app.approvals.length);
  const user = useApp((app) => app.session.user);
  const section = useTimebox((state) => state.section);
  const openSection = useTimebox((state) => state.openSection);
  const openDialog = useTimebox((state) => state.openDialog);
  const shown = section === 'home' ? 'access' : section;

  if (!signedIn) {
    return (
      <main className="window window-main window-signed-out">
        <StatusLine />
        <SignIn />
      </main>
    );
  }
  return (
    <div className="window window-main">
      <nav className="sidebar" aria-label="Timebox">
        <p className="app-title sidebar-title">Timebox</p>
        <button
          type="button"
          className="button button-primary button-wide"
          onClick={() => {
            openDialog({ kind: 'request' });
          }}
        >
          Request access
        </button>
        <ul className="nav-list">
          {SECTIONS.map(({ section: target, label }) => (
            <li key={target}>
              <button
                type="button"
                className="nav-item"
                aria-current={shown === target ? 'page' : undefined}
                onClick={() => {
                  openSection(target);
                }}
              >
                <span>{label}</span>
                {target === 'approvals' && waiting > 0 ? (
                  <span className="badge" aria-label={`${waiting} waiting`}>
                    {waiting}
                  </span>
                ) : null}
              </button>
            </li>
          ))}
        </ul>
        <p className="sidebar-user">{user?.displayName}</p>
      </nav>
      <main className="content">
        <StatusLine />
        <BannerBar />
        {shown === 'approvals' ? <ApprovalsInbox /> : shown === 'settings' ? <SettingsView /> : <MyAccess />}
      </main>
      <DialogHost />
    </div>
  );
}
