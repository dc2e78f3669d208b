import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AppState, NavigationTarget, StateUpdate } from '../../preload/contract.js';

/** Which window this page is: the compact tray popover or the main window. */
export type WindowKind = 'popover' | 'main';

/**
 * What fills the window: the popover's own list (popover only) or one of the dashboard's sections
 * (`licences`, the seat-pool report, for administrators only).
 */
export type Section = 'home' | 'access' | 'approvals' | 'licences' | 'insights' | 'settings';

export type DialogState =
  | { readonly kind: 'request'; readonly resourceId?: string; readonly role?: string }
  | { readonly kind: 'extend'; readonly grantId: string };

/** A message across the top of the window: what failed and what to do, or what just happened. */
export interface Banner {
  readonly id: number;
  readonly tone: 'error' | 'success';
  readonly text: string;
  readonly action?: { readonly label: string; readonly run: () => void };
}

export interface TimeboxState {
  /** The mirror of main's state: null until the first snapshot arrives. */
  readonly app: AppState | null;
  readonly windowKind: WindowKind;
  readonly section: Section;
  readonly dialog: DialogState | null;
  /** The request or grant a navigation pointed at, to scroll to and focus. */
  readonly highlight: { readonly requestId?: string; readonly grantId?: string };
  readonly banner: Banner | null;

  /** Takes main's snapshot, then its changes (whole top-level keys). */
  readonly applyUpdate: (update: StateUpdate) => void;
  /** Shows what main asked for (a tray item, a notification or a deep link was clicked). */
  readonly navigate: (target: NavigationTarget) => void;
  readonly openSection: (section: Section) => void;
  readonly openDialog: (dialog: DialogState) => void;
  readonly closeDialog: () => void;
  readonly showBanner: (banner: Omit<Banner, 'id'>) => void;
  readonly dismissBanner: () => void;
}

export type TimeboxStore = StoreApi<TimeboxState>;

/** A confirmation goes by itself after this long; an error stays until it is dealt with. */
export const SUCCESS_SHOWN_MS = 8000;

export function createTimeboxStore(windowKind: WindowKind): TimeboxStore {
  let bannerCount = 0;
  const home: Section = windowKind === 'popover' ? 'home' : 'access';
  return createStore<TimeboxState>()((set) => ({
    app: null,
    windowKind,
    section: home,
    dialog: null,
    highlight: {},
    banner: null,

    applyUpdate(update) {
      if (update.kind === 'snapshot') {
        set({ app: update.state });
        return;
      }
      // A change before the snapshot has nothing to apply to; the snapshot that follows includes it.
      set((current) => (current.app ? { app: { ...current.app, ...update.changes } } : {}));
    },

    navigate(target) {
      switch (target.view) {
        case 'popover':
          set({ section: home, dialog: null, highlight: {} });
          return;
        case 'request':
          set({
            dialog: {
              kind: 'request',
              ...(target.resourceId === undefined ? {} : { resourceId: target.resourceId }),
              ...(target.role === undefined ? {} : { role: target.role }),
            },
          });
          return;
        case 'approvals':
          set({
            section: 'approvals',
            dialog: null,
            highlight: target.requestId === undefined ? {} : { requestId: target.requestId },
          });
          return;
        case 'access':
          set({
            section: 'access',
            dialog: null,
            highlight: {
              ...(target.grantId === undefined ? {} : { grantId: target.grantId }),
              ...(target.requestId === undefined ? {} : { requestId: target.requestId }),
            },
          });
          return;
        case 'extend':
          // The popover keeps its place under the dialog; the main window shows the grant beneath it.
          set((current) => ({
            section: current.windowKind === 'popover' ? current.section : 'access',
            dialog: { kind: 'extend', grantId: target.grantId },
            highlight: { grantId: target.grantId },
          }));
          return;
        case 'settings':
          set({ section: 'settings', dialog: null, highlight: {} });
          return;
        case 'sign-in':
          // The sign-in form shows by itself whenever the session is not signed in.
          set({ dialog: null });
          return;
      }
    },

    openSection(section) {
      set({ section, highlight: {} });
    },
    openDialog(dialog) {
      set({ dialog });
    },
    closeDialog() {
      set({ dialog: null });
    },
    showBanner(banner) {
      bannerCount += 1;
      const id = bannerCount;
      set({ banner: { ...banner, id } });
      if (banner.tone === 'success') {
        setTimeout(() => {
          set((current) => (current.banner?.id === id ? { banner: null } : {}));
        }, SUCCESS_SHOWN_MS);
      }
    },
    dismissBanner() {
      set({ banner: null });
    },
  }));
}
