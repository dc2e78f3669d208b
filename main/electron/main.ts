import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  app,
  BrowserWindow,
  clipboard,
  dialog,
  ipcMain,
  Menu,
  nativeImage,
  Notification,
  powerMonitor,
  protocol,
  screen,
  session,
  shell,
  Tray,
} from 'electron';
import { keytarKeychain } from '../../keychain/keytar-keychain.js';
import { secretServiceUnlocker } from '../adapters/secret-service-unlock.js';
import { systemDesktopClock } from '../core/clock.js';
import { toIpcError } from '../core/errors.js';
import { createHandlers } from '../core/ipc-handlers.js';
import { TimeboxCore } from '../core/timebox.js';
import { APP_SCHEME, appScheme, serveAppFiles } from './app-protocol.js';
import { DeepLinkInbox } from './deep-links.js';
import { demoPassword, signInAsDemoEngineer, startEmbeddedService } from './embedded-service.js';
import { refuseStrayMessages, registerIpc } from './ipc.js';
import { consoleLogger } from './log.js';
import { followLaunchAtLogin, HIDDEN_ARGUMENT } from './login-item.js';
import { ElectronNotifier } from './notifier.js';
import { psqlTerminal, systemLauncherFiles } from './psql-terminal.js';
import { RendererPushes, type RendererContents } from './renderer-pushes.js';
import { CONTENT_SECURITY_POLICY, lockDownContents, lockDownSession } from './security.js';
import { electronSettingsStore } from './settings-store.js';
import { followSystemEvents } from './system-events.js';
import { loadTrayIcons, trayCommands, TrayView } from './tray.js';
import { Windows } from './windows.js';

// The entry point: wires the core to Electron. Everything with logic lives in the modules it imports.

const HERE = dirname(fileURLToPath(import.meta.url)); // out/main, inside app.asar once packaged
const RENDERER_DIR = join(HERE, '../renderer');
const PRELOAD = join(HERE, '../preload/index.cjs');
const RESOURCES = join(HERE, '../../resources');
const APP_ICON = join(RESOURCES, 'icon.png');
/**
 * Sites openExternal may open besides the service's own https host, which the core always allows. None:
 * Timebox links nowhere else today.
 */
const EXTERNAL_LINK_HOSTS: readonly string[] = [];

const log = consoleLogger();
// Test hooks, for a development build under NODE_ENV=test only (never a packaged app): each end-to-end
// run gets its own profile (and with it its own single-instance lock) and its own keychain service name.
const testing = !app.isPackaged && process.env.NODE_ENV === 'test';
const testUserData = testing ? process.env.TIMEBOX_USER_DATA_DIR : undefined;
if (testUserData) app.setPath('userData', testUserData);
const keychainService = testing ? process.env.TIMEBOX_KEYCHAIN_SERVICE : undefined;

protocol.registerSchemesAsPrivileged([appScheme]);

if (!app.requestSingleInstanceLock()) {
  // The running instance gets our command line (and any timebox:// link in it) as 'second-instance'.
  app.quit();
} else {
  const links = new DeepLinkInbox(log);
  links.listen(app, { argv: process.argv, defaultApp: process.defaultApp, execPath: process.execPath });
  // Windows ties notifications (and their clicks) to this id: https://www.electronjs.org/docs/latest/tutorial/notifications#windows
  if (process.platform === 'win32') app.setAppUserModelId('dev.timebox.app');
  app.on('web-contents-created', (_event, contents) => {
    lockDownContents(contents, log);
    refuseStrayMessages(contents, log);
  });
  // A tray app keeps running with no window open.
  app.on('window-all-closed', () => undefined);
  app
    .whenReady()
    .then(() => launch(links))
    .catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      log.error({ error: message }, 'Timebox could not start');
      dialog.showErrorBox('Timebox could not start', message);
      app.exit(1);
    });
}

async function launch(links: DeepLinkInbox): Promise<void> {
  const userData = app.getPath('userData');
  const clock = systemDesktopClock;
  const settings = electronSettingsStore({ directory: userData, log });
  const password = demoPassword(process.env);
  const embedded =
    settings.read().serviceUrl === null
      ? await startEmbeddedService({ userDataDir: userData, password, env: process.env })
      : null;
  if (embedded)
    log.info({ url: embedded.url }, 'no service configured: running the demo service inside the app');

  const notifier = new ElectronNotifier({
    api: { isSupported: () => Notification.isSupported(), create: (options) => new Notification(options) },
    platform: process.platform,
    icon: APP_ICON,
    log,
  });
  const core = new TimeboxCore({
    clock,
    fetch,
    keychain: keytarKeychain(keychainService),
    // macOS and Windows ask for the keychain's password themselves when it is used.
    ...(process.platform === 'linux' ? { unlocker: secretServiceUnlocker() } : {}),
    settings,
    notifier,
    log,
    psql: psqlTerminal({
      platform: process.platform,
      env: process.env,
      spawn,
      files: systemLauncherFiles,
      clock,
    }),
    // Single sign-on opens the system browser (RFC 8252), never a window of ours: the person's IdP
    // session, passkeys and password manager are there.
    openBrowser: (url) => shell.openExternal(url),
    embeddedServiceUrl: embedded?.url ?? null,
  });

  lockDownSession(session.defaultSession, log);
  session.defaultSession.protocol.handle(
    APP_SCHEME,
    serveAppFiles({ rootDir: RENDERER_DIR, contentSecurityPolicy: CONTENT_SECURITY_POLICY }),
  );
  // macOS needs the Edit menu for copy and paste in text fields; elsewhere no menu at all.
  Menu.setApplicationMenu(
    process.platform === 'darwin'
      ? Menu.buildFromTemplate([{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }])
      : null,
  );

  const icons = loadTrayIcons(process.platform, join(RESOURCES, 'tray'), (path) =>
    nativeImage.createFromPath(path),
  );
  const tray = new Tray(icons.idle);
  const windows = new Windows({
    createWindow: (options) => new BrowserWindow(options),
    screen,
    trayBounds: () => tray.getBounds(),
    clock,
    preload: PRELOAD,
    devTools: !app.isPackaged,
    icon: APP_ICON,
    log,
  });
  const pushes = new RendererPushes(core.store);
  // The tray calls the same handlers as the windows; it is no window, so its calls carry no caller.
  const handlers = createHandlers<RendererContents | null>({
    core,
    clipboard,
    clock,
    log,
    openExternal: (url) => shell.openExternal(url),
    externalHosts: EXTERNAL_LINK_HOSTS,
    rendererReady: (contents) => {
      if (contents) pushes.rendererReady(contents);
    },
  });
  registerIpc({ ipcMain, handlers, isOurContents: (contents) => windows.owns(contents), log });
  // Every way of asking for a view (tray, notification, deep link) ends here: show its window, then say.
  core.onNavigate((target) => {
    pushes.navigate(windows.showFor(target).webContents, target);
  });

  const trayView = new TrayView({
    tray,
    icons,
    buildMenu: (template) => Menu.buildFromTemplate(template),
    store: core.store,
    clock,
    platform: process.platform,
    run: trayCommands({
      navigate: (target) => {
        core.navigate(target);
      },
      copyCredential: (grantId) => handlers.copyCredential({ grantId }, null),
      copyConnectionUri: (grantId) => handlers.copyConnectionUri({ grantId }, null),
      openPsql: (grantId) => handlers.openPsql({ grantId }, null),
      relinquishGrant: (grantId) => handlers.relinquishGrant({ grantId }, null),
      unlockKeychain: () => handlers.unlockKeychain({}, null),
      quit: () => {
        app.quit();
      },
      report: (title, error) => {
        const { code, message } = toIpcError(error);
        log.warn({ code }, title);
        notifier.alert(`tray:${code}:${clock.now()}`, title, message, () => {
          core.navigate({ view: 'access' });
        });
      },
    }),
    onClick: () => {
      windows.togglePopover();
    },
  });
  trayView.start();

  followSystemEvents(powerMonitor, core);
  followLaunchAtLogin(core.store, {
    app,
    platform: process.platform,
    executable: process.env.APPIMAGE ?? process.execPath,
    autostartDir: join(app.getPath('appData'), 'autostart'),
    log,
  });
  links.deliverTo({
    navigate: (target) => {
      core.navigate(target);
    },
    activate: () => windows.showMain(),
  });
  // macOS: a click on the Dock icon.
  app.on('activate', () => windows.showMain());

  // Quitting waits for the core to stop (timers, the event stream) and the embedded service to drain.
  let shutdown: 'running' | 'stopping' | 'stopped' = 'running';
  app.on('will-quit', (event) => {
    if (shutdown === 'stopped') return;
    event.preventDefault();
    if (shutdown === 'stopping') return;
    shutdown = 'stopping';
    void (async () => {
      trayView.stop();
      await core.stop();
      await embedded?.close();
    })()
      .catch((error: unknown) => {
        log.warn({ error: error instanceof Error ? error.message : String(error) }, 'unclean shutdown');
      })
      .finally(() => {
        shutdown = 'stopped';
        app.quit();
      });
  });

  const openedAtLogin =
    process.argv.includes(HIDDEN_ARGUMENT) ||
    (process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin);
  if (!openedAtLogin) windows.showMain();
  await core.start();
  await signInAsDemoEngineer(core, password, log);
}
