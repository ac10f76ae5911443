/** Long poll: `timeoutMs` bounds the wait, an event ends it at once, nothing is pushed meanwhile, and `nextPollMs` after a wait. */
import { DRAFT, type PollResult, type Rule, type Scenario, headCursor, poll, show, sleep } from '../suite.js';

/** Wall-clock bounds are generous upper bounds only: a loaded machine must not fail a check. */
const SLACK_MS = 5000;
/** The long poll an event must end early: it must come well before this. */
const WAKE_TIMEOUT_MS = 20_000;

const timeout: Rule = {
  id: 'long-poll-timeout',
  level: 'must',
  quote: 'The server MUST respond no later than `timeoutMs` after receiving the request, with `events: []` if nothing occurred in that window.',
  source: DRAFT,
};
const wakes: Rule = {
  id: 'long-poll-event-ends-wait',
  level: 'must',
  quote: 'The server MUST respond as soon as a new event is available rather than waiting out the full timeout, and MAY return multiple events accumulated during the wait.',
  source: DRAFT,
};
const responseOnly: Rule = {
  id: 'long-poll-response-only',
  level: 'must',
  quote: 'Poll delivery is response-only: servers MUST NOT deliver events via server-initiated notifications (e.g. SSE `notifications/events/event`) while a poll request is held open.',
  source: DRAFT,
};
const noSecondWait: Rule = {
  id: 'long-poll-next-poll-ms-zero',
  level: 'advice',
  quote:
    'Clients MUST wait `nextPollMs` before issuing the next `events/poll`, regardless of whether the prior response was triggered by an available event or by `timeoutMs` elapsing. — so a held poll that timed out or returned everything answers `nextPollMs: 0`: the server has already waited, and any more delays the next event by that much.',
  source: DRAFT,
};

export const longPoll: Scenario = {
  name: 'long-poll',
  title: 'events/poll with timeoutMs',
  rules: [timeout, wakes, responseOnly, noSecondWait],
  async run(context, report) {
    const waitMs = context.options.longPollMs;
    const cursor = await headCursor(context);
    const idle = await poll(context, cursor, { timeoutMs: waitMs });
    report.check(
      timeout,
      idle.reply.ms <= waitMs + SLACK_MS && idle.result.events.length === 0,
      `timeoutMs ${waitMs}: answered after ${idle.reply.ms} ms with ${idle.result.events.length} events`,
    );
    const answers: PollResult[] = [idle.result];
    const notifications = [...idle.reply.notifications];

    if (!context.canTrigger) {
      report.skip(wakes, 'needs --trigger to make the server produce events');
    } else {
      // Hold a poll open, then make an event: the answer must come with it, long before the timeout.
      let at = idle.result.cursor;
      const started = Date.now();
      const held = poll(context, at, { timeoutMs: WAKE_TIMEOUT_MS });
      await sleep(300);
      await context.trigger();
      let got = await held;
      notifications.push(...got.reply.notifications);
      // An early empty answer is allowed ("MAY also respond earlier"): poll on while time is left.
      while (got.result.events.length === 0 && Date.now() - started < WAKE_TIMEOUT_MS / 2) {
        at = got.result.cursor;
        got = await poll(context, at, { timeoutMs: WAKE_TIMEOUT_MS });
        notifications.push(...got.reply.notifications);
      }
      answers.push(got.result);
      const ms = Date.now() - started;
      report.check(
        wakes,
        got.result.events.length > 0 && ms < WAKE_TIMEOUT_MS / 2,
        `a poll held with timeoutMs ${WAKE_TIMEOUT_MS}, an event made after 300 ms: answered after ${ms} ms with ${got.result.events.length} events`,
      );
    }
    const pushed = notifications.filter((n) => n.method?.startsWith('notifications/events/'));
    report.check(responseOnly, pushed.length === 0, `notifications on the poll's response: ${show(pushed.map((n) => n.method))}`);
    const waited = answers.filter((a) => !a.hasMore);
    report.check(
      noSecondWait,
      waited.length > 0 && waited.every((a) => a.nextPollMs === 0),
      `nextPollMs after held polls: ${show(waited.map((a) => ({ events: a.events.length, nextPollMs: a.nextPollMs })))}`,
    );
  },
};
