import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Session } from '../../auth/sessions.js';
import type { ApprovalLink, ApprovalLinks } from '../../channels/approval-links.js';
import { decisionPage, messagePage, signInPage } from '../../channels/approval-html.js';
import { ApiError } from '../../lib/errors.js';
import type { RouteContext } from '../context.js';

const COOKIE = 'timebox_approval';

const tokenParams = z.object({ token: z.string().max(1000) });
const pageQuery = z.object({ decision: z.enum(['approve', 'deny']).optional() });
const signInForm = z.object({
  password: z.string().max(1000).default(''),
  otp: z.string().max(20).optional(),
});
const decisionForm = z.object({
  decision: z.string().max(20).optional(),
  comment: z.string().max(500).default(''),
  csrf: z.string().max(200).optional(),
});

/** Answered as a page: a refusal a person reads in their browser, never JSON. */
class PageRefusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The approval page the email channel's links open: `GET /approve/:token` signs the link's approver in
 * (password, and their second factor if they have one), then shows the request with Approve and Deny;
 * `POST /approve/:token` decides, once, as that approver, with the form's CSRF token (bound to the
 * session and the link). Server-rendered HTML without script; the links never leave in a Referer.
 */
export const approvalPageRoutes =
  (context: RouteContext, links: ApprovalLinks, secureCookies: boolean): FastifyPluginAsyncZod =>
  async (app) => {
    await app.register(fastifyFormbody);
    await app.register(fastifyCookie);

    app.addHook('onSend', async (_request, reply) => {
      void reply
        .header(
          'content-security-policy',
          "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
        )
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY')
        .header('cache-control', 'no-store');
    });

    const page = (reply: FastifyReply, status: number, html: string): FastifyReply =>
      reply.code(status).type('text/html; charset=utf-8').send(html);

    app.setErrorHandler((error, request, reply) => {
      if (error instanceof PageRefusal)
        return page(reply, error.status, messagePage(error.title, error.message));
      if (error instanceof ApiError)
        return page(reply, error.status, messagePage('Nothing was decided', error.message));
      if (typeof error === 'object' && error !== null && 'validation' in error) {
        return page(
          reply,
          400,
          messagePage(
            'Nothing was decided',
            'The form could not be read; open the link from your mail again.',
          ),
        );
      }
      request.log.error({ err: error }, 'the approval page failed');
      return page(reply, 500, messagePage('Nothing was decided', 'Something went wrong; try again.'));
    });

    /** The link a token stands for, if it is ours and has not lapsed. */
    const linkOf = (token: string): ApprovalLink => {
      const link = links.read(token);
      if (!link)
        throw new PageRefusal(
          404,
          'This link is not valid',
          'This is not a link Timebox sent. Open the link from your mail again.',
        );
      if (link.expiresAt <= context.clock.now())
        throw new PageRefusal(
          410,
          'This link has lapsed',
          'The request lapsed, and its link with it. The requester can ask again.',
        );
      return link;
    };

    /** The approver signed in on this browser for this link, if any. */
    const signedIn = async (
      request: FastifyRequest,
      link: ApprovalLink,
    ): Promise<{ session: Session; token: string } | null> => {
      const token = request.cookies[COOKIE];
      if (!token) return null;
      try {
        const session = await context.sessions.authenticate(`Bearer ${token}`, request.ip);
        if (session.user.id !== link.approverId) return null;
        return { session, token };
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    };

    const approverOf = (link: ApprovalLink) => {
      const user = context.policy.users.get(link.approverId);
      if (!user)
        throw new PageRefusal(
          410,
          'This link has lapsed',
          'The person it was sent to is no longer in the policy.',
        );
      return user;
    };

    app.get(
      '/approve/:token',
      { schema: { hide: true, params: tokenParams, querystring: pageQuery } },
      async (request, reply) => {
        const link = linkOf(request.params.token);
        const approver = approverOf(link);
        const action = `/approve/${request.params.token}`;
        const current = await signedIn(request, link);
        if (!current)
          return page(
            reply,
            200,
            signInPage(`${action}/sign-in`, approver, approver.totpSecret !== null, null),
          );
        const view = await context.requests.get(current.session.user, link.requestId);
        if (view.status !== 'pending')
          throw new PageRefusal(
            409,
            'Already decided',
            `This request ${view.status === 'lapsed' ? 'lapsed' : `was ${view.status}`}; there is nothing left to decide.`,
          );
        const requester = context.policy.users.get(view.requesterId)?.displayName ?? view.requesterId;
        return page(
          reply,
          200,
          decisionPage(
            action,
            view,
            requester,
            links.csrf(current.token, link),
            request.query.decision ?? 'approve',
          ),
        );
      },
    );

    app.post(
      '/approve/:token/sign-in',
      { schema: { hide: true, params: tokenParams, body: signInForm } },
      async (request, reply) => {
        const link = linkOf(request.params.token);
        const approver = approverOf(link);
        const action = `/approve/${request.params.token}`;
        try {
          const result = await context.signIn.login(approver.id, request.body.password, request.body.otp, {
            device: request.headers['user-agent'] ?? '',
            address: request.ip,
          });
          void reply.setCookie(COOKIE, result.token, {
            path: '/approve',
            httpOnly: true,
            sameSite: 'lax',
            secure: secureCookies,
            expires: new Date(result.expiresAt),
          });
          return await reply.redirect(action, 303);
        } catch (error) {
          if (!(error instanceof ApiError) || error.status !== 401) throw error;
          return page(
            reply,
            401,
            signInPage(`${action}/sign-in`, approver, approver.totpSecret !== null, error.message),
          );
        }
      },
    );

    app.post(
      '/approve/:token',
      { schema: { hide: true, params: tokenParams, body: decisionForm } },
      async (request, reply) => {
        const link = linkOf(request.params.token);
        const current = await signedIn(request, link);
        if (!current)
          throw new PageRefusal(
            401,
            'Sign in first',
            `This link was sent to ${approverOf(link).displayName}: open it again and sign in as them.`,
          );
        const { decision, comment, csrf } = request.body;
        if (csrf === undefined || !links.checkCsrf(csrf, current.token, link))
          throw new PageRefusal(
            403,
            'Nothing was decided',
            'The form came without its security token; open the link from your mail again.',
          );
        if (decision !== 'approve' && decision !== 'deny')
          throw new PageRefusal(400, 'Nothing was decided', 'Choose Approve or Deny.');
        if (decision === 'deny' && comment.trim() === '')
          throw new PageRefusal(400, 'Nothing was decided', 'Say why you deny it: a comment is required.');
        const decided = await context.requests.decide(
          current.session.user,
          link.requestId,
          decision,
          comment.trim(),
          async (work) => {
            const [claimed] = await work.sql.query<{ link_id: string }>(
              `INSERT INTO approval_links_used (link_id, request_id, used_at) VALUES ($1, $2, $3)
             ON CONFLICT (link_id) DO NOTHING RETURNING link_id`,
              [link.id, link.requestId, new Date(work.now)],
            );
            if (!claimed)
              throw new PageRefusal(
                410,
                'This link was used',
                'This link already decided once; each link works only once.',
              );
          },
        );
        const outcome =
          decided.status === 'pending'
            ? 'Your approval is recorded; the request waits for its other approvers.'
            : `The request is ${decided.status}.`;
        return page(reply, 200, messagePage(decision === 'approve' ? 'Approved' : 'Denied', outcome, true));
      },
    );
  };
