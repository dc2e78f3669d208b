// Runs the built main process against the stub, plays a renderer and a user, and prints one JSON report.
const { app } = await import('electron');
const stub = globalThis.electronStub;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const until = async (check, what, ms = 60_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await wait(50)) if (check()) return;
  throw new Error(`timed out waiting for ${what}`);
};

await import(process.argv[2]);
await until(() => stub.windows.length > 0, 'the main window');
const main = stub.windows[0];
const ours = {
  sender: main.webContents,
  senderFrame: { url: 'app://timebox/index.html?window=main', parent: null },
};
const call = (method, args, event = ours) => stub.handlers.get(`timebox:invoke:${method}`)(event, args);
const signedIn = () =>
  stub.sent.some(({ payload }) => (payload.changes ?? payload.state)?.session?.status === 'signed-in');

const report = {
  channels: [...stub.handlers.keys()].sort(),
  schemes: stub.schemes,
  window: { url: main.url, visible: main.visible, webPreferences: main.options.webPreferences },
};
report.rendererReady = await call('rendererReady', {});
report.firstPush = stub.sent[0]?.payload.kind;
await until(signedIn, 'the demo sign-in');
report.signedIn = true;
// Activation is announced on the live event stream: request once it is open, as a person would.
const live = () =>
  stub.sent.some(({ payload }) => (payload.changes ?? payload.state)?.connection?.status === 'live');
await until(live, 'the live event stream');
report.badArguments = await call('approve', { requestId: 'nope' });
report.foreignSender = await call(
  'refresh',
  {},
  { sender: { id: 999 }, senderFrame: { url: 'https://evil.example/', parent: null } },
);
// Messages outside any call (ipcRenderer.send, sendSync), as a page that found a way to send them would.
main.webContents.emit('ipc-message', {}, 'timebox:stray', 'STRAY-ARGUMENT');
const syncMessage = { returnValue: undefined };
main.webContents.emit('ipc-message-sync', syncMessage, 'electron-store-get-data');
report.strayAnswer = syncMessage.returnValue;
report.requested = (
  await call('requestAccess', {
    resourceId: 'sandbox',
    role: 'operator',
    durationSeconds: 60,
    reason: 'main-process test',
    idempotencyKey: crypto.randomUUID(),
  })
).ok;
await until(
  () => stub.tray.image.endsWith('attention.png') || stub.tray.image.endsWith('active.png'),
  'the grant in the tray',
);
report.trayImage = stub.tray.image.split('/').pop();
report.trayTooltip = stub.tray.tooltip;
// Not just the first notification: under load another (a reminder: this grant starts inside the demo's
// one-minute reminder) can come before the grant's own notice. If it never comes, the error lists what did.
await until(
  () => stub.notifications.some((title) => title.startsWith('Access granted')),
  'the access-granted notification',
  30_000,
).catch((error) => {
  // The notice waits for the credential's fetch to settle: say where that stood.
  const grants = stub.sent
    .map(({ payload }) => (payload.changes ?? payload.state)?.grants)
    .filter(Boolean)
    .at(-1)
    ?.map(({ status, credential, credentialError }) => ({ status, credential, credentialError }));
  throw new Error(
    `${error.message}; the notifications shown: ${JSON.stringify(stub.notifications)}; the grants last pushed: ${JSON.stringify(grants ?? [])}`,
  );
});
report.notifications = stub.notifications;
const page = await stub.protocolHandler.handler(new Request('app://timebox/index.html?window=main'));
report.page = {
  scheme: stub.protocolHandler.scheme,
  status: page.status,
  csp: page.headers.get('content-security-policy'),
};
let prevented = false;
main.webContents.listeners('will-navigate')[0]({
  url: 'https://evil.example/',
  preventDefault: () => (prevented = true),
});
report.navigationPrevented = prevented;
let deferred = false;
app.emit('will-quit', { preventDefault: () => (deferred = true) });
await until(() => stub.quits > 0, 'the quit after shutdown', 20_000);
report.quit = { deferred, quits: stub.quits };
process.stdout.write(`REPORT ${JSON.stringify(report)}\n`);
process.exit(0);
