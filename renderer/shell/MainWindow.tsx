import { BannerBar } from '../components/BannerBar.js';
import { StatusLine } from '../components/StatusLine.js';
import { useApp, useTimebox } from '../state/hooks.js';
import type { Section } from '../state/store.js';
import { MyAccess } from '../views/access/MyAccess.js';
import { ApprovalsInbox } from '../views/approvals/ApprovalsInbox.js';
import { InsightsView } from '../views/insights/InsightsView.js';
import { SeatPoolsView } from '../views/licences/SeatPoolsView.js';
import { SettingsView } from '../views/settings/SettingsView.js';
import { SignIn } from '../views/sign-in/SignIn.js';
import { DialogHost } from './DialogHost.js';

const SECTIONS: readonly { readonly section: Section; readonly label: string; readonly admin?: true }[] = [
  { section: 'access', label: 'My access' },
  { section: 'approvals', label: 'Approvals' },
  { section: 'licences', label: 'Licences', admin: true },
  { section: 'insights', label: 'Insights', admin: true },
  { section: 'settings', label: 'Settings' },
];

/**
 * The main window: a sidebar (Request access, My access, Approvals, Licences and Insights for administrators,
 * Settings) and the chosen view.
 */
export function MainWindow() {
  const signedIn = useApp((app) => app.session.status === 'signed-in');
  const waiting = useApp((app) => app.approvals.length);
  const user = useApp((app) => app.session.user);
  const section = useTimebox((state) => state.section);
  const openSection = useTimebox((state) => state.openSection);
  const openDialog = useTimebox((state) => state.openDialog);
  const isAdmin = user?.isAdmin === true;
  const sections = SECTIONS.filter((entry) => entry.admin !== true || isAdmin);
  // Someone else signed in (or the section was never this user's): their own access instead.
  const shown = sections.some((entry) => entry.section === section) ? section : 'access';

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
          {sections.map(({ section: target, label }) => (
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
        {shown === 'approvals' ? (
          <ApprovalsInbox />
        ) : shown === 'licences' ? (
          <SeatPoolsView />
        ) : shown === 'insights' ? (
          <InsightsView />
        ) : shown === 'settings' ? (
          <SettingsView />
        ) : (
          <MyAccess />
        )}
      </main>
      <DialogHost />
    </div>
  );
}
