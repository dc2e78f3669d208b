import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parsePolicy, PolicyError } from '../../server/config/load.js';

const hash = `scrypt:32768:8:1:${Buffer.from('salt').toString('base64')}:${Buffer.from('key').toString('base64')}`;

/** A small organisation with the `channels` section given. */
const policyWith = (channels: string): string => `version: 1
groups:
  eng: {}
users:
  alice: { displayName: Alice, passwordHash: "${hash}", groups: [eng] }
resources:
  sandbox:
    name: Sandbox
    kind: cloud-role
    roles:
      operator:
        requesters: [eng]
        duration: { min: 1m, default: 5m, max: 1h }
        approval: auto
${channels}`;

const SECRET = `whsec_${randomBytes(32).toString('base64')}`;

function problemsOf(text: string, env: NodeJS.ProcessEnv): { path: string; message: string }[] {
  try {
    parsePolicy({ file: '/etc/timebox/policy.yaml', text, env });
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map(({ path, message }) => ({ path, message }));
    throw error;
  }
  throw new Error('the policy was accepted');
}

describe('channels in the policy file', () => {
  it('reads webhooks with their secrets from the environment, every event type when none is named', () => {
    const policy = parsePolicy({
      file: '/etc/timebox/policy.yaml',
      text: policyWith(`channels:
  retryFor: 2h
  webhooks:
    - { id: siem, url: "https://siem.example/timebox", secretEnv: HOOK_SIEM, events: [request.created, grant.activated] }
    - { id: chat, url: "http://chat.example/hook", secretEnv: HOOK_CHAT }
`),
      env: { HOOK_SIEM: SECRET, HOOK_CHAT: SECRET },
    });
    expect(policy.channels).toEqual({
      email: null,
      webhooks: [
        {
          id: 'siem',
          url: 'https://siem.example/timebox',
          secret: SECRET,
          events: new Set(['request.created', 'grant.activated']),
        },
        { id: 'chat', url: 'http://chat.example/hook', secret: SECRET, events: null },
      ],
      retryForSeconds: 7200,
      timeoutSeconds: 10,
    });
  });

  it('has no webhooks, retried for a day, when the section is left out', () => {
    const policy = parsePolicy({ file: '/etc/timebox/policy.yaml', text: policyWith(''), env: {} });
    expect(policy.channels).toEqual({
      webhooks: [],
      email: null,
      retryForSeconds: 86_400,
      timeoutSeconds: 10,
    });
  });

  it.each([
    {
      name: 'a secret that is not set',
      hook: '{ id: siem, url: "https://siem.example", secretEnv: HOOK }',
      env: {},
      path: 'channels.webhooks.0.secretEnv',
      expected: /environment variable HOOK is not set/,
    },
    {
      name: 'a secret that is not a Standard Webhooks secret',
      hook: '{ id: siem, url: "https://siem.example", secretEnv: HOOK }',
      env: { HOOK: 'hunter2-hunter2-hunter2-hunter2' },
      path: 'channels.webhooks.0.secretEnv',
      expected: /expected HOOK to hold a Standard Webhooks secret: whsec_/,
    },
    {
      name: 'a secret of too few bytes',
      hook: '{ id: siem, url: "https://siem.example", secretEnv: HOOK }',
      env: { HOOK: `whsec_${randomBytes(8).toString('base64')}` },
      path: 'channels.webhooks.0.secretEnv',
      expected: /24 to 64 random bytes/,
    },
    {
      name: 'a URL that is not http',
      hook: '{ id: siem, url: "ftp://siem.example", secretEnv: HOOK }',
      env: { HOOK: SECRET },
      path: 'channels.webhooks.0.url',
      expected: /expected an http or https URL/,
    },
    {
      name: 'an event type the service does not have',
      hook: '{ id: siem, url: "https://siem.example", secretEnv: HOOK, events: [grant.stolen] }',
      env: { HOOK: SECRET },
      path: 'channels.webhooks.0.events.0',
      expected: /request\.created/,
    },
    {
      name: 'a secret written into the policy',
      hook: `{ id: siem, url: "https://siem.example", secret: "${SECRET}", secretEnv: HOOK }`,
      env: { HOOK: SECRET },
      path: 'channels.webhooks.0.secret',
      expected: /unknown field "secret"/,
    },
  ])('refuses $name, saying where and what is expected', ({ hook, env, path, expected }) => {
    const problems = problemsOf(policyWith(`channels:\n  webhooks:\n    - ${hook}\n`), env);
    const problem = problems.find((candidate) => candidate.path === path);
    expect(problem?.message, JSON.stringify(problems)).toMatch(expected);
    // The message never repeats a secret's value.
    for (const { message } of problems) expect(message).not.toContain(SECRET.slice(6));
  });

  it('refuses two webhooks with one id', () => {
    const hook = '{ id: siem, url: "https://siem.example", secretEnv: HOOK }';
    const problems = problemsOf(policyWith(`channels:\n  webhooks:\n    - ${hook}\n    - ${hook}\n`), {
      HOOK: SECRET,
    });
    expect(problems).toContainEqual({
      path: 'channels.webhooks',
      message: 'expected each webhook to have an id of its own',
    });
  });
});

describe('the email channel in the policy file', () => {
  const LINK_KEY = randomBytes(32).toString('base64');

  it('reads the SMTP server, the sender and the link key', () => {
    const policy = parsePolicy({
      file: '/etc/timebox/policy.yaml',
      text: policyWith(`channels:
  email: { smtpUrl: "smtp://mailer@mail.example:587", from: "Timebox <timebox@example.test>", passwordEnv: SMTP_PASSWORD, linkSecretEnv: LINK_KEY }
`),
      env: { LINK_KEY, SMTP_PASSWORD: 'mail-password' },
    });
    expect(policy.channels?.email).toEqual({
      smtpUrl: 'smtp://mailer@mail.example:587',
      smtpPassword: 'mail-password',
      from: 'Timebox <timebox@example.test>',
      linkSecret: LINK_KEY,
    });
  });

  it.each([
    {
      name: 'a password in the SMTP URL',
      email:
        '{ smtpUrl: "smtp://mailer:hunter2@mail.example", from: "x@example.test", linkSecretEnv: LINK_KEY }',
      env: { LINK_KEY },
      path: 'channels.email.smtpUrl',
      expected: /expected no password in the URL: name it with passwordEnv/,
    },
    {
      name: 'a link key that is too short',
      email: '{ smtpUrl: "smtp://mail.example", from: "x@example.test", linkSecretEnv: LINK_KEY }',
      env: { LINK_KEY: 'short' },
      path: 'channels.email.linkSecretEnv',
      expected: /expected a key of at least 32 characters/,
    },
    {
      name: 'a link key that is not set',
      email: '{ smtpUrl: "smtp://mail.example", from: "x@example.test", linkSecretEnv: LINK_KEY }',
      env: {},
      path: 'channels.email.linkSecretEnv',
      expected: /environment variable LINK_KEY is not set/,
    },
  ])('refuses $name', ({ email, env, path, expected }) => {
    const problems = problemsOf(policyWith(`channels:\n  email: ${email}\n`), env);
    expect(problems.find((problem) => problem.path === path)?.message, JSON.stringify(problems)).toMatch(
      expected,
    );
    for (const { message } of problems) expect(message).not.toContain('hunter2');
  });

  it('refuses a user email that is not an address', () => {
    const text = policyWith('').replace('groups: [eng] }', 'groups: [eng], email: "not an address" }');
    expect(problemsOf(text, {})).toContainEqual({
      path: 'users.alice.email',
      message: 'expected an email address',
    });
  });
});
