import type { Command } from 'commander';
import { formatDuration } from '../../api/duration.js';
import { signedIn, type CliEnvironment, type GlobalOptions } from '../context.js';
import { printJson, printTable, timeLeft } from '../output.js';

export function catalogCommands(program: Command, environment: CliEnvironment): void {
  program
    .command('resources')
    .description('List what you can ask for: each resource and role, how long, and who approves')
    .action(async (_options: GlobalOptions, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const resources = await (await signedIn(environment, options)).client.resources();
      if (options.json === true) {
        printJson(environment.stdout, resources);
        return;
      }
      const rows = resources.flatMap((resource) =>
        resource.roles.map((role) => [
          `${resource.id}/${role.name}`,
          `${formatDuration(role.minDurationSeconds)}–${formatDuration(role.maxDurationSeconds)}`,
          role.canRequest ? role.approval.summary : 'you may not request this',
        ]),
      );
      printTable(
        environment.stdout,
        ['ROLE', 'DURATION', 'APPROVAL'],
        rows,
        'There is nothing you can see to request.',
      );
    });

  program
    .command('ls')
    .description('List your open requests and active grants, with the time they have left')
    .action(async (_options: GlobalOptions, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const { client, offset } = await signedIn(environment, options);
      const [requests, grants] = await Promise.all([client.myRequests(), client.grants('active')]);
      const open = requests.filter((request) => request.status === 'pending' || request.status === 'queued');
      if (options.json === true) {
        printJson(environment.stdout, { requests: open, grants });
        return;
      }
      const now = Date.now() + offset.offsetMs;
      const rows = [
        ...grants.map((grant) => [
          grant.id,
          `${grant.resourceId}/${grant.role}`,
          'active',
          timeLeft(grant.expiresAt, now),
        ]),
        ...open.map((request) => [
          request.id,
          `${request.resourceId}/${request.role}`,
          request.status === 'queued' ? `queued (#${request.queuePosition ?? '?'})` : 'pending',
          `lapses in ${timeLeft(request.expiresAt, now).replace(' left', '')}`,
        ]),
      ];
      printTable(
        environment.stdout,
        ['ID', 'ROLE', 'STATUS', 'TIME'],
        rows,
        'You have no active grants or open requests.',
      );
    });
}
