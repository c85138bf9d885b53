/**
 * Where operational alerts go: Slack (incoming webhook, Block Kit), PagerDuty (Events API v2,
 * trigger / resolve by dedup key), email (nodemailer over SMTP), and the signed webhooks
 * (`alert.firing` / `alert.resolved` through the event log). Message building is pure; each
 * send is one request with a deadline, behind the channel's breaker (the caller's).
 */
import nodemailer from 'nodemailer';
import type { PhishXConfig } from '../config/types.js';
import { parseHostPort } from '../config/values.js';
import type { ActivityEvent, Store } from '../store/types.js';
import { postOnce } from '../webhooks/deliver.js';
import { newEventId } from '../webhooks/events.js';
import type { Notification } from './engine.js';

export type ChannelName = 'slack' | 'pagerduty' | 'email' | 'webhook';

export interface Channel {
  name: ChannelName;
  /** One group of notifications made in one evaluation (Slack and email: one message; PagerDuty: one event each). */
  send(group: Notification[]): Promise<void>;
}

const COLOR = { critical: '#d62728', warn: '#ff9f1c', resolved: '#2ca02c' } as const;

function title(n: Notification): string {
  const r = n.record;
  const what = n.kind === 'resolved' ? 'RESOLVED' : r.severity.toUpperCase();
  return `[${what}] ${r.fingerprint}${n.kind === 'repeat' ? ' (still firing)' : ''}`;
}

export interface Context {
  node: string;
  linksBaseUrl: string;
  grafanaUrl: string;
}

function links(ctx: Context, n: Notification): Array<{ text: string; url: string }> {
  const out: Array<{ text: string; url: string }> = [];
  if (ctx.linksBaseUrl) out.push({ text: 'Alerts (SOC API)', url: `${ctx.linksBaseUrl.replace(/\/$/, '')}/api/v1/alerts` });
  if (ctx.linksBaseUrl && n.record.alert === 'campaign_surge')
    out.push({ text: 'SOC alerts', url: `${ctx.linksBaseUrl.replace(/\/$/, '')}/api/v1/soc/alerts?status=open` });
  if (ctx.grafanaUrl) out.push({ text: 'Grafana', url: ctx.grafanaUrl });
  return out;
}

const iso = (ms: number | undefined): string => (ms === undefined ? '—' : new Date(ms).toISOString());

/** The Slack message of one group: a line of text (notifications, fallback) and one coloured attachment of Block Kit blocks per alert. */
export function slackMessage(group: Notification[], ctx: Context): Record<string, unknown> {
  return {
    text: group.map(title).join('\n').slice(0, 3000),
    attachments: group.map((n) => {
      const r = n.record;
      const l = links(ctx, n);
      return {
        color: n.kind === 'resolved' ? COLOR.resolved : COLOR[r.severity],
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text: `*${title(n)}*\n${r.summary}`.slice(0, 3000) } },
          {
            type: 'section',
            fields: [
              { type: 'mrkdwn', text: `*Value*\n${r.value}` },
              { type: 'mrkdwn', text: `*Threshold*\n${r.threshold}` },
              { type: 'mrkdwn', text: `*Node*\n${ctx.node}` },
              { type: 'mrkdwn', text: `*Since*\n${iso(r.firingSince ?? r.since)}` },
            ],
          },
          ...(r.samples?.length ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: `Samples: ${r.samples.slice(0, 5).join(', ')}` }] }] : []),
          ...(l.length ? [{ type: 'actions', elements: l.map((x) => ({ type: 'button', text: { type: 'plain_text', text: x.text }, url: x.url })) }] : []),
        ],
      };
    }),
  };
}

/** The PagerDuty Events API v2 event of one notification: trigger (deduplicated by fingerprint) or resolve. */
export function pagerDutyEvent(n: Notification, routingKey: string, ctx: Context): Record<string, unknown> {
  const r = n.record;
  const dedupKey = `phishx:${r.fingerprint}`;
  if (n.kind === 'resolved') return { routing_key: routingKey, event_action: 'resolve', dedup_key: dedupKey };
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: `${r.summary} (PhishX ${r.fingerprint})`.slice(0, 1024),
      source: ctx.node,
      severity: r.severity === 'critical' ? 'critical' : 'warning',
      timestamp: new Date(r.firingSince ?? r.since).toISOString(),
      component: 'phishx',
      group: r.alert,
      class: r.alert,
      custom_details: { value: r.value, threshold: r.threshold, labels: r.labels, since: iso(r.since), ...(r.samples ? { samples: r.samples } : {}) },
    },
    links: links(ctx, n).map((x) => ({ href: x.url, text: x.text })),
  };
}

/** The mail of one group: subject, text and HTML. */
export function emailMessage(group: Notification[], ctx: Context): { subject: string; text: string; html: string } {
  const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const subject = group.length === 1 ? `PhishX ${title(group[0])}` : `PhishX: ${group.length} alerts changed (${group.map((n) => n.record.alert).join(', ')})`;
  const lines = group.map((n) => {
    const r = n.record;
    return [
      title(n),
      r.summary,
      `value ${r.value}, threshold ${r.threshold}, node ${ctx.node}, since ${iso(r.firingSince ?? r.since)}`,
      ...links(ctx, n).map((x) => `${x.text}: ${x.url}`),
    ].join('\n');
  });
  const html = group
    .map((n) => {
      const r = n.record;
      const color = n.kind === 'resolved' ? COLOR.resolved : COLOR[r.severity];
      return `<div style="border-left:4px solid ${color};padding-left:8px;margin-bottom:12px"><b>${esc(title(n))}</b><br>${esc(r.summary)}<br><small>value ${r.value}, threshold ${r.threshold}, node ${esc(ctx.node)}, since ${iso(r.firingSince ?? r.since)}</small>${links(
        ctx,
        n,
      )
        .map((x) => `<br><a href="${esc(x.url)}">${esc(x.text)}</a>`)
        .join('')}</div>`;
    })
    .join('\n');
  return { subject: subject.slice(0, 200), text: `${lines.join('\n\n')}\n`, html };
}

/** One JSON POST through the webhooks' client (deadline, no redirects, bounded answer, typed errors). */
async function postJson(url: string, body: unknown, timeoutMs: number, ok: (status: number) => boolean): Promise<void> {
  await postOnce(url, JSON.stringify(body), {}, timeoutMs, ok);
}

/** The channels `config` enables, ready to send. */
export function channelsOf(config: PhishXConfig, store: () => Store, ctx: Context, env: NodeJS.ProcessEnv = process.env): Channel[] {
  const out: Channel[] = [];
  const timeout = config.alerts.channel_timeout_ms;
  const slack = config['alerts.slack'].url;
  if (slack) out.push({ name: 'slack', send: (g) => postJson(slack, slackMessage(g, ctx), timeout, (s) => s === 200) });
  const pd = config['alerts.pagerduty'];
  if (pd.routing_key)
    out.push({
      name: 'pagerduty',
      send: async (g) => {
        for (const n of g) await postJson(pd.url, pagerDutyEvent(n, pd.routing_key, ctx), timeout, (s) => s >= 200 && s < 300);
      },
    });
  const mail = config['alerts.email'];
  const hp = mail.smtp ? parseHostPort(mail.smtp) : null;
  if (hp) {
    const password = env.PHISHX_ALERTS_EMAIL_PASSWORD ?? '';
    const transport = nodemailer.createTransport({
      host: hp.host,
      port: hp.port,
      secure: mail.tls === 'implicit',
      ignoreTLS: mail.tls === 'none',
      connectionTimeout: timeout,
      greetingTimeout: timeout,
      socketTimeout: timeout,
      ...(mail.user ? { auth: { user: mail.user, pass: password } } : {}),
    });
    out.push({
      name: 'email',
      send: async (g) => {
        const m = emailMessage(g, ctx);
        await transport.sendMail({ from: mail.from, to: mail.to, subject: m.subject, text: m.text, html: m.html });
      },
    });
  }
  if (config.alerts.webhook && config.webhookEndpoints.some((e) => e.events.includes('alert.firing') || e.events.includes('alert.resolved')))
    out.push({
      name: 'webhook',
      send: async (g) => {
        for (const n of g) {
          const r = n.record;
          const event: ActivityEvent = {
            kind: 'activity',
            event: {
              id: newEventId(),
              type: n.kind === 'resolved' ? 'alert.resolved' : 'alert.firing',
              created_at: new Date().toISOString(),
              tenant: 'default',
              data: {
                alert: r.alert,
                fingerprint: r.fingerprint,
                labels: r.labels,
                severity: r.severity,
                value: r.value,
                threshold: r.threshold,
                summary: r.summary,
                node: ctx.node,
                since: iso(r.since),
                ...(r.resolvedAt ? { resolved_at: iso(r.resolvedAt) } : {}),
                ...(r.samples ? { samples: r.samples } : {}),
              },
            },
          };
          await store().appendEvent(event);
        }
      },
    });
  return out;
}
