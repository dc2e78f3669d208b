import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import type { GrantView, RequestView } from '../../api/schemas.js';
import { signedIn, type CliEnvironment, type GlobalOptions } from '../context.js';
import { printJson } from '../output.js';
import { progressOn } from '../progress.js';
import { createRequest, grantOf } from '../requesting.js';
import { stepUpAtTerminal } from '../step-up.js';
import { parseDurationOption, parseTarget } from '../target.js';
import { statusLine } from '../wait.js';

interface RequestOptions extends GlobalOptions {
  readonly for?: string;
  readonly reason?: string;
  readonly ticket?: string;
  readonly wait?: boolean;
  readonly keep?: boolean;
}

export function requestCommands(program: Command, environment: CliEnvironment): void {
  const { stdout } = environment;
  const describeRequest = (request: RequestView): string =>
    `Request ${request.id} for ${request.resourceId}/${request.role}: ${statusLine(request)}${request.grantId ? ` (grant ${request.grantId})` : ''}.\n`;
  const describeGrant = (grant: GrantView): string =>
    `Grant ${grant.id}: ${grant.resourceId}/${grant.role} until ${grant.expiresAt}.\n`;

  program
    .command('request')
    .description('Ask for access to a resource/role')
    .argument('<resource/role>', 'what to ask for, e.g. prod-db/read')
    .option('--for <duration>', "how long, e.g. 30m or 2h (the role's default when not given)")
    .option('--reason <text>', 'why you need it (some roles require one)')
    .option('--ticket <id>', 'the ticket this work belongs to')
    .option('--wait', 'wait for the decision, showing where it stands')
    .option(
      '--keep',
      'with --wait: Ctrl-C stops waiting but leaves the request open (it is cancelled otherwise)',
    )
    .action(async (targetText: string, _options: RequestOptions, command: Command) => {
      const options = command.optsWithGlobals<RequestOptions>();
      const target = parseTarget(targetText);
      const durationSeconds =
        options.for === undefined ? undefined : parseDurationOption(options.for, '--for');
      const session = await signedIn(environment, options);
      const { client } = session;
      const request = await createRequest(
        client,
        target,
        {
          ...(durationSeconds === undefined ? {} : { durationSeconds }),
          ...(options.reason === undefined ? {} : { reason: options.reason }),
          ...(options.ticket === undefined ? {} : { ticket: options.ticket }),
        },
        stepUpAtTerminal(environment, session),
      );
      if (options.wait !== true) {
        if (options.json === true) printJson(stdout, request);
        else stdout.write(describeRequest(request));
        return;
      }
      const grant = await grantOf(client, request, progressOn(environment.stderr), options.keep === true);
      if (options.json === true) printJson(stdout, grant);
      else stdout.write(describeGrant(grant));
    });

  program
    .command('approve')
    .description('Approve a request you may decide')
    .argument('<request-id>')
    .option('--comment <text>', 'a note for the requester and the audit log')
    .action(async (id: string, _options: GlobalOptions & { comment?: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { comment?: string }>();
      const request = await (await signedIn(environment, options)).client.approve(id, options.comment);
      if (options.json === true) printJson(stdout, request);
      else stdout.write(describeRequest(request));
    });

  program
    .command('deny')
    .description('Deny a request you may decide')
    .argument('<request-id>')
    .requiredOption('--comment <text>', 'why: the requester reads it')
    .action(async (id: string, _options: GlobalOptions & { comment: string }, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions & { comment: string }>();
      const request = await (await signedIn(environment, options)).client.deny(id, options.comment);
      if (options.json === true) printJson(stdout, request);
      else stdout.write(describeRequest(request));
    });

  program
    .command('extend')
    .description('Ask for more time on an active grant')
    .argument('<grant-id>')
    .requiredOption('--for <duration>', 'how much more time, e.g. 30m')
    .option('--reason <text>', 'why you need more time')
    .action(async (id: string, _options: RequestOptions, command: Command) => {
      const options = command.optsWithGlobals<RequestOptions & { for: string }>();
      const seconds = parseDurationOption(options.for, '--for');
      const { client } = await signedIn(environment, options);
      const outcome = await client.extend(id, seconds, options.reason ?? '', randomUUID());
      if (options.json === true)
        printJson(stdout, outcome.kind === 'extended' ? outcome.grant : outcome.request);
      else if (outcome.kind === 'extended') stdout.write(describeGrant(outcome.grant));
      else stdout.write(describeRequest(outcome.request));
    });

  program
    .command('relinquish')
    .description('End an active grant of yours now')
    .argument('<grant-id>')
    .action(async (id: string, _options: GlobalOptions, command: Command) => {
      const options = command.optsWithGlobals<GlobalOptions>();
      const grant = await (await signedIn(environment, options)).client.relinquish(id);
      if (options.json === true) printJson(stdout, grant);
      else stdout.write(`Grant ${grant.id} (${grant.resourceId}/${grant.role}) has ended.\n`);
    });
}
