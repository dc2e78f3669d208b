// A stand-in for Electron's main-process API, enough to run out/main/main.js in Node. It records what
// the app does in `globalThis.electronStub` for drive.mjs to look at.
import { EventEmitter } from 'node:events';

const record = {
  windows: [],
  sent: [],
  handlers: new Map(),
  protocolHandler: null,
  tray: null,
  notifications: [],
  quits: 0,
};
globalThis.electronStub = record;

let nextId = 1;
class WebContents extends EventEmitter {
  id = nextId++;
  send(channel, payload) {
    record.sent.push({ id: this.id, channel, payload });
  }
  isDestroyed() {
    return false;
  }
  setWindowOpenHandler(handler) {
    this.windowOpenHandler = handler;
  }
}

const appEmitter = new EventEmitter();
export const app = Object.assign(appEmitter, {
  isPackaged: false,
  getPath: (name) =>
    name === 'userData' ? process.env.STUB_USER_DATA : `${process.env.STUB_USER_DATA}/${name}`,
  setPath: () => undefined,
  getVersion: () => '0.0.0',
  requestSingleInstanceLock: () => true,
  quit: () => {
    record.quits++;
  },
  exit: (code) => {
    record.exitCode = code;
  },
  whenReady: () => Promise.resolve(),
  setAsDefaultProtocolClient: () => true,
  setLoginItemSettings: () => undefined,
  getLoginItemSettings: () => ({ openAtLogin: false, wasOpenedAtLogin: false }),
  setAppUserModelId: () => undefined,
});

export class BrowserWindow extends EventEmitter {
  constructor(options) {
    super();
    this.options = options;
    this.webContents = new WebContents();
    this.visible = false;
    record.windows.push(this);
    appEmitter.emit('web-contents-created', {}, this.webContents);
  }
  loadURL(url) {
    this.url = url;
    return Promise.resolve();
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {}
  destroy() {}
  isVisible() {
    return this.visible;
  }
  isDestroyed() {
    return false;
  }
  setPosition() {}
}

export const ipcMain = Object.assign(new EventEmitter(), {
  handle: (channel, handler) => record.handlers.set(channel, handler),
  removeHandler: (channel) => record.handlers.delete(channel),
});

export const protocol = { registerSchemesAsPrivileged: (schemes) => (record.schemes = schemes) };
export const session = {
  defaultSession: {
    protocol: { handle: (scheme, handler) => (record.protocolHandler = { scheme, handler }) },
    setPermissionRequestHandler: (handler) => (record.permissionRequest = handler),
    setPermissionCheckHandler: (handler) => (record.permissionCheck = handler),
    webRequest: { onHeadersReceived: (listener) => (record.headersListener = listener) },
  },
};
export const clipboard = {
  text: '',
  readText() {
    return Promise.resolve(this.text);
  },
  writeText(text) {
    this.text = text;
    return Promise.resolve();
  },
};
export const dialog = { showErrorBox: (title, message) => (record.error = `${title}: ${message}`) };
export const Menu = { buildFromTemplate: (template) => template, setApplicationMenu: () => undefined };
export const nativeImage = { createFromPath: (path) => ({ path, setTemplateImage() {} }) };
export class Notification extends EventEmitter {
  static isSupported() {
    return true;
  }
  constructor(options) {
    super();
    this.options = options;
  }
  show() {
    record.notifications.push(this.options.title);
  }
}
export const powerMonitor = new EventEmitter();
export const screen = {
  getDisplayNearestPoint: () => ({ workArea: { x: 0, y: 0, width: 1440, height: 900 } }),
  getCursorScreenPoint: () => ({ x: 0, y: 0 }),
};
export const shell = { openExternal: () => Promise.resolve() };
export class Tray extends EventEmitter {
  constructor(image) {
    super();
    record.tray = this;
    this.image = image.path;
  }
  setImage(image) {
    this.image = image.path;
  }
  setToolTip(tooltip) {
    this.tooltip = tooltip;
  }
  setContextMenu(menu) {
    this.menu = menu;
  }
  popUpContextMenu() {}
  getBounds() {
    return { x: 1200, y: 0, width: 22, height: 22 };
  }
  destroy() {}
}

const electron = {
  app,
  BrowserWindow,
  ipcMain,
  protocol,
  session,
  clipboard,
  dialog,
  Menu,
  nativeImage,
  Notification,
  powerMonitor,
  screen,
  shell,
  Tray,
};
export default electron;
