import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import type { NavigationTarget } from '../../preload/contract.js';
import { DeepLinkInbox } from '../../main/electron/deep-links.js';
import { recordingLog, REQUEST_ID } from './support.js';

vi.mock('electron', () => import('./mocks/electron.js').then((mock) => mock.electronModule()));

class FakeApp extends EventEmitter {
  readonly setAsDefaultProtocolClient = vi.fn<(protocol: string, path?: string, args?: string[]) => boolean>(
    () => true,
  );

  openUrl(url: string): { preventDefault: ReturnType<typeof vi.fn> } {
    const event = { preventDefault: vi.fn() };
    this.emit('open-url', event, url);
    return event;
  }
}

const PACKAGED = { argv: ['/opt/Timebox/timebox'], defaultApp: false, execPath: '/opt/Timebox/timebox' };

function setUp(argv: readonly string[] = PACKAGED.argv) {
  const app = new FakeApp();
  const log = recordingLog();
  const inbox = new DeepLinkInbox(log);
  inbox.listen(app, { ...PACKAGED, argv });
  const navigations: NavigationTarget[] = [];
  const activate = vi.fn();
  const deliver = (): void => {
    inbox.deliverTo({ navigate: (target) => navigations.push(target), activate });
  };
  return { app, log, navigations, activate, deliver };
}

describe('timebox:// links', () => {
  it('register Timebox for the scheme; a development run registers Electron with our app path', () => {
    expect(setUp().app.setAsDefaultProtocolClient).toHaveBeenCalledWith('timebox');
    const app = new FakeApp();
    new DeepLinkInbox(recordingLog()).listen(app, {
      argv: ['/usr/lib/electron/electron', '.'],
      defaultApp: true,
      execPath: '/usr/lib/electron/electron',
    });
    expect(app.setAsDefaultProtocolClient).toHaveBeenCalledWith('timebox', '/usr/lib/electron/electron', [
      process.cwd(),
    ]);
  });

  it('macOS open-url: handled by us, and held until the app can show it', () => {
    const world = setUp();
    const event = world.app.openUrl(`timebox://approve/${REQUEST_ID}`);
    expect(event.preventDefault).toHaveBeenCalled();
    expect(world.navigations).toEqual([]);
    world.deliver();
    expect(world.navigations).toEqual([{ view: 'approvals', requestId: REQUEST_ID }]);
    world.app.openUrl('timebox://request?resource=prod-db&role=read');
    expect(world.navigations.at(-1)).toEqual({ view: 'request', resourceId: 'prod-db', role: 'read' });
  });

  it('Windows and Linux: a link on the first instance’s command line', () => {
    const world = setUp([...PACKAGED.argv, '--no-sandbox-never', 'timebox://request?resource=sandbox']);
    world.deliver();
    expect(world.navigations).toEqual([{ view: 'request', resourceId: 'sandbox' }]);
  });

  it('Windows and Linux: a second instance hands its link over', () => {
    const world = setUp();
    world.deliver();
    world.app.emit('second-instance', {}, [
      'C:\\Program Files\\Timebox\\Timebox.exe',
      '--allow-file-access-from-files',
      `TIMEBOX://approve/${REQUEST_ID}`,
    ]);
    expect(world.navigations).toEqual([{ view: 'approvals', requestId: REQUEST_ID }]);
    expect(world.activate).not.toHaveBeenCalled();
  });

  it('a second instance without a link brings the app forward', () => {
    const world = setUp();
    world.deliver();
    world.app.emit('second-instance', {}, ['/opt/Timebox/timebox']);
    expect(world.activate).toHaveBeenCalledTimes(1);
    expect(world.navigations).toEqual([]);
  });

  describe('malformed links are refused and logged, and nothing navigates:', () => {
    const malformed: readonly [string, string][] = [
      ['wrong scheme', `https://approve/${REQUEST_ID}`],
      ['scheme only almost ours', `timeboxx://approve/${REQUEST_ID}`],
      ['extra path', `timebox://approve/${REQUEST_ID}/now`],
      ['unknown host', 'timebox://revoke/everything'],
      ['bad request id', 'timebox://approve/req_../../etc'],
      ['no request id', 'timebox://approve/'],
      ['parameters on approve', `timebox://approve/${REQUEST_ID}?auto=1`],
      ['extra parameter', 'timebox://request?resource=prod-db&role=read&duration=99999'],
      ['repeated parameter', 'timebox://request?resource=prod-db&resource=sandbox'],
      ['bad resource name', 'timebox://request?resource=Prod%20DB'],
      ['path on request', 'timebox://request/prod-db?resource=prod-db'],
      ['credentials', `timebox://alice:hunter2@approve/${REQUEST_ID}`],
      ['port', `timebox://approve:443/${REQUEST_ID}`],
      ['fragment', `timebox://approve/${REQUEST_ID}#x`],
      ['too long', `timebox://request?resource=${'a'.repeat(600)}`],
      ['not a URL', 'timebox:'],
    ];
    for (const [name, link] of malformed) {
      it(name, () => {
        const world = setUp();
        world.deliver();
        world.app.openUrl(link);
        world.app.emit('second-instance', {}, ['/opt/Timebox/timebox', link]);
        expect(world.navigations).toEqual([]);
        // On a command line only timebox: arguments are links; anything else there is not ours to read.
        const refusals = link.startsWith('timebox:') ? 2 : 1;
        expect(world.log.warnings()).toEqual(Array(refusals).fill('refused a timebox:// link'));
        // The reason is logged, never the link (it may carry credentials).
        expect(JSON.stringify(world.log.entries)).not.toContain('hunter2');
      });
    }
  });
});
