import type { Command } from 'commander';
import { formatDuration } from '../../api/duration.js';
import type { GrantClient } from '../../api/grant-client.js';
import type { GrantView } from '../../api/schemas.js';
import { signedIn, type CliEnvironment, type GlobalOptions } from '../context.js';
import { runChild } from '../exec/child.js';
import { serveCredential, type CredentialEndpoint } from '../exec/credential-endpoint.js';
import { credentialEnvironment } from '../exec/credential-environment.js';
import { CredentialRenewer } from '../exec/credential-renewer.js';
import { GrantWatch } from '../exec/grant-watch.js';
import { CommandExited, usageError } from '../exit-codes.js';
import { progressOn } from '../progress.js';
import { createRequest, grantOf } from '../requesting.js';
import { stepUpAtTerminal } from '../step-up.js';
import { parseDurationOption, parseTarget, type Target } from '../target.js';

interface ExecOptions extends GlobalOptions {
  readonly for?: string;
  readonly reason?: string;
  readonly ticket?: string;
  readonly keep?: boolean;
}

export function execCommand(program: Command, environment: CliEnvironment): void {
  program
    .command('exec')
    .description(
      'Run a command with access: reuse your active grant or ask for one, then run it with the credential',
    )
    .argument('<resource/role>', 'what to use, e.g. prod-db/read')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--for <duration>', "how long to ask for when there is no active grant (the role's default)")
    .option('--reason <text>', 'why, when a new request is needed')
    .option('--ticket <id>', 'the ticket this work belongs to')
    .option('--keep', 'Ctrl-C while waiting for approval leaves the request open (it is cancelled otherwise)')
    .usage('[options] <resource/role> -- <command> [args...]')
    .action(async (targetText: string, commandLine: string[], _options: ExecOptions, command: Command) => {
      const options = command.optsWithGlobals<ExecOptions>();
      const target = parseTarget(targetText);
      const durationSeconds =
        options.for === undefined ? undefined : parseDurationOption(options.for, '--for');
      const [file, ...args] = commandLine;
      if (file === undefined)
        throw usageError('Give the command to run after --, e.g. -- psql -c "select 1".');
      const session = await signedIn(environment, options);
      const { client, offset } = session;
      const say = (line: string): void => {
        environment.stderr.write(`timebox: ${line}\n`);
      };

      const grant = await activeGrant(client, target, say, async () => {
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
        return grantOf(client, request, progressOn(environment.stderr), options.keep === true);
      });
      let renewer: CredentialRenewer | null = null;
      let endpoint: CredentialEndpoint | null = null;
      const watch = new GrantWatch(client, grant.id, {
        expiring: (secondsLeft) => {
          say(
            `${grant.resourceId}/${grant.role} ends in ${formatDuration(secondsLeft)}; to keep it: timebox extend ${grant.id} --for 30m`,
          );
        },
        extended: (extended) => {
          renewer?.grantExtended(Date.parse(extended.expiresAt));
          say(`${grant.resourceId}/${grant.role} now lasts until ${extended.expiresAt}.`);
        },
        ended: (ended) => {
          renewer?.stop();
          say(
            `${grant.resourceId}/${grant.role} has ended (${ended.endReason ?? ended.status}); its credential no longer works.`,
          );
        },
      });
      try {
        // The event stream opens while the credential is fetched: the two round trips overlap.
        const [credential] = await Promise.all([client.credential(grant.id), watch.start()]);
        const current = new CredentialRenewer(client, offset, credential, Date.parse(grant.expiresAt), say);
        renewer = current;
        if (current.renews) {
          endpoint = await serveCredential(() => current.current());
          current.start();
        }
        const env: NodeJS.ProcessEnv = { ...environment.env };
        // The session's own token is not the command's: inside, TIMEBOX_TOKEN is the grant's credential.
        delete env.TIMEBOX_TOKEN;
        const exitCode = await runChild(file, args, {
          ...env,
          ...credentialEnvironment(grant, credential, endpoint?.url ?? null),
        });
        if (exitCode !== 0) throw new CommandExited(exitCode);
      } finally {
        watch.stop();
        renewer?.stop();
        await endpoint?.close();
      }
    });
}

/** The caller's active grant of this role, reused; otherwise `ask()` gets a new one. */
async function activeGrant(
  client: GrantClient,
  target: Target,
  say: (line: string) => void,
  ask: () => Promise<GrantView>,
): Promise<GrantView> {
  const active = (await client.grants('active'))
    .filter((grant) => grant.resourceId === target.resourceId && grant.role === target.role)
    .sort((a, b) => Date.parse(b.expiresAt) - Date.parse(a.expiresAt))[0];
  if (active) {
    say(`using grant ${active.id} (${target.resourceId}/${target.role}, until ${active.expiresAt}).`);
    return active;
  }
  const grant = await ask();
  say(`granted ${grant.id} (${target.resourceId}/${target.role}, until ${grant.expiresAt}).`);
  return grant;
}
