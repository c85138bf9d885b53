import { hostname } from 'node:os';
import path from 'node:path';
/**
 * `phishx quarantine …` and `phishx audit`: the SOC API from the command line. Talks to the
 * sidecar (`--url`, else PHISHX_API_URL, else http://127.0.0.1:9464) with a bearer token
 * (`--token-file`, else PHISHX_API_TOKEN). Human-readable output, or the API's JSON with
 * `--json`. Exit 0 on success, 1 when the API refused or could not be reached, 2 on bad
 * arguments.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { errorMessage, UsageError } from '../errors.js';
import { asUsage, type Out } from './command.js';

export const QUARANTINE_HELP = `Usage: phishx quarantine <command> [options]

Review held mail through the sidecar's SOC API (docs/review.md).

Commands:
  list                 list held mail, newest first
  show ID              one message: verdict, headers and a safe text preview
  raw ID               the message as received (to stdout, or --out FILE)        [act]
  release ID           deliver it to its recipients, once                        [act]
  delete ID            delete it (its record stays listed as deleted)            [act]
  report ID            record a verdict: --verdict phish|not_phish               [act]
  bulk release|delete  act on every message matching the filters; counts only
                       (dry run) unless --yes                                    [admin]

Filters (list, bulk):
  --status S[,S]       held, releasing, released, deleted, expired
  --sender X           address, or domain (and its subdomains)
  --recipient ADDR     --tenant NAME   --reason CODE   --q TEXT (in the subject)
  --since T --until T  ISO 8601 times   --score-min N --score-max N
  --limit N            page size (1..500, default 50)  --all   follow every page

Options:
  --to ADDR            release: only to this recipient (repeatable)
  --note TEXT          release, delete, report, bulk: kept in the audit log
  --verdict V          report: phish or not_phish
  --out FILE           raw: write the message to FILE
  --yes                bulk: do it (without: dry run, prints the count)
  --json               print the API's JSON
  --url URL            sidecar URL (default: PHISHX_API_URL or http://127.0.0.1:9464)
  --token-file FILE    file holding the API token (default: PHISHX_API_TOKEN)
  -h, --help           show this help

Scopes: list and show need a read token; raw, release, delete and report an act token;
bulk an admin token (npx phishx token new --scope act).
`;

export const SOC_HELP = `Usage: phishx soc <command> [options]

SOC alerts: rejected and held messages grouped into one alert per campaign (same sender
domain, link host or subject skeleton within [soc] alert_window_s).

Commands:
  alerts               list alerts, newest activity first (--status open,acknowledged,resolved)
  show ID              one alert: counts, senders, link hosts, subjects, reasons, history
  ack ID               acknowledge it                                               [act]
  resolve ID           resolve it (new messages of the campaign open a new alert)   [act]
  release-all ID       release every held message of it                             [act]
  delete-all ID        delete every held message of it                              [act]
  block ID             add its sender domains and link hosts to the SOC blocklist
                       feed ([soc] blocklist_feed); --target DOMAIN to pick (repeatable) [act]

Options:
  --status S[,S]       alerts: open, acknowledged, resolved (default: all)
  --tenant NAME        alerts: of this tenant
  --sender DOMAIN      alerts: with this sender domain or link host
  --reason CODE        alerts: whose messages carried this reason
  --q TEXT             alerts: with this text in a subject
  --since T --until T  alerts: last activity between (ISO 8601)
  --limit N            page size (1..500, default 50)
  --note TEXT          kept with the alert's history and in the audit log
  --target DOMAIN      block: only this sender domain / link host (repeatable)
  --json               print the API's JSON
  --url URL            sidecar URL (default: PHISHX_API_URL or http://127.0.0.1:9464)
  --token-file FILE    file holding the API token (default: PHISHX_API_TOKEN)
  -h, --help           show this help
`;

export const AUDIT_HELP = `Usage: phishx audit [--limit N] [--before ID] [--json] [--url URL] [--token-file FILE]

Print the audit log, newest first: time, token, action, target, result, note. Needs an admin
token. --before ID pages back from an earlier answer's last id.
`;

const OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  url: { type: 'string' },
  'token-file': { type: 'string' },
  status: { type: 'string' },
  sender: { type: 'string' },
  recipient: { type: 'string' },
  tenant: { type: 'string' },
  reason: { type: 'string' },
  q: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  'score-min': { type: 'string' },
  'score-max': { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  all: { type: 'boolean' },
  to: { type: 'string', multiple: true },
  note: { type: 'string' },
  verdict: { type: 'string' },
  out: { type: 'string' },
  yes: { type: 'boolean' },
  before: { type: 'string' },
  target: { type: 'string', multiple: true },
  for: { type: 'string' },
  dir: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

const FILTERS: Array<[keyof Values, string]> = [
  ['status', 'status'],
  ['sender', 'sender'],
  ['recipient', 'recipient'],
  ['tenant', 'tenant'],
  ['reason', 'reason'],
  ['q', 'q'],
  ['since', 'since'],
  ['until', 'until'],
  ['score-min', 'score_min'],
  ['score-max', 'score_max'],
];

class ApiError extends Error {}

/** Options and arguments of a command; a bad one is a usage error with the command's help. */
function parseCommand(name: string, args: string[], help: string): ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>> {
  return asUsage(name, help, () => parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true }));
}

function limitOption(limit: string | undefined): void {
  if (limit !== undefined && !/^\d{1,3}$/.test(limit)) throw new UsageError('--limit must be an integer 1..500');
}

/** Run the API calls of a command: a refusal or an unreachable sidecar is printed and exits 1. */
async function reportingApiErrors(io: Out, label: string, work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof ApiError) {
      io.err(`phishx ${label}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
}

async function client(values: Values): Promise<(method: string, path: string, body?: unknown) => Promise<{ status: number; json: unknown; bytes: Buffer }>> {
  const base = String(values.url ?? process.env.PHISHX_API_URL ?? 'http://127.0.0.1:9464').replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+$/.test(base)) throw new UsageError(`--url must be http(s)://host:port, got ${JSON.stringify(base)}`);
  let token = process.env.PHISHX_API_TOKEN ?? '';
  if (values['token-file'] !== undefined) {
    token = (
      await readFile(String(values['token-file']), 'utf8').catch((err: unknown) => {
        throw new UsageError(`cannot read --token-file: ${errorMessage(err)}`);
      })
    ).trim();
  }
  if (!token) throw new UsageError('no API token: give --token-file FILE or set PHISHX_API_TOKEN (npx phishx token new makes one)');
  return async (method, path, body) => {
    let res;
    try {
      res = await request(`${base}${path}`, {
        method: method as 'GET',
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        headersTimeout: 120_000,
        bodyTimeout: 120_000,
      });
    } catch (err) {
      throw new ApiError(`cannot reach the sidecar at ${base}: ${errorMessage(err)} (is Haraka running? set --url or PHISHX_API_URL)`);
    }
    const bytes = Buffer.from(await res.body.arrayBuffer());
    let json: unknown = null;
    if (String(res.headers['content-type'] ?? '').startsWith('application/json')) {
      try {
        json = JSON.parse(bytes.toString('utf8'));
      } catch {
        json = null;
      }
    }
    if (res.statusCode >= 300) {
      const e = (json as { error?: string } | null)?.error ?? bytes.toString('utf8').slice(0, 200);
      throw new ApiError(`${res.statusCode} ${e}`);
    }
    return { status: res.statusCode, json, bytes };
  };
}

function query(values: Values, extra: Record<string, string | undefined> = {}): string {
  const q = new URLSearchParams();
  for (const [opt, name] of FILTERS) if (values[opt] !== undefined) q.set(name, String(values[opt]));
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

interface Item {
  id: string;
  created_at: string;
  status: string;
  score: number;
  from: string;
  subject: string;
  envelope: { mail_from: string; rcpt_to: string[] };
  reasons: Array<{ code: string; weight: number; detail: string }>;
}

function row(i: Item): string {
  const cut = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s).padEnd(n);
  return `${i.id}  ${i.created_at.slice(0, 19).replace('T', ' ')}  ${i.status.padEnd(9)} ${String(i.score).padStart(3)}  ${cut(i.from || i.envelope.mail_from, 34)}  ${i.subject}\n`;
}

export async function cmdQuarantine(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parseCommand('quarantine', args, QUARANTINE_HELP);
  if (values.help) return (io.out(QUARANTINE_HELP), 0);
  const [sub, arg, ...extra] = positionals;
  const needId = ['show', 'raw', 'release', 'delete', 'report'];
  if (!sub || ![...needId, 'list', 'bulk'].includes(sub))
    throw new UsageError(`quarantine: expected one of list, show, raw, release, delete, report, bulk\n\n${QUARANTINE_HELP}`);
  if (needId.includes(sub) && (!arg || extra.length)) throw new UsageError(`quarantine ${sub}: give exactly one message ID`);
  if (sub === 'list' && arg) throw new UsageError(`quarantine list: unexpected argument ${JSON.stringify(arg)}`);
  if (sub === 'bulk' && (!['release', 'delete'].includes(arg ?? '') || extra.length))
    throw new UsageError('quarantine bulk: expected "release" or "delete" and filters');
  if (sub === 'report' && values.verdict !== 'phish' && values.verdict !== 'not_phish')
    throw new UsageError('quarantine report: --verdict must be phish or not_phish');
  limitOption(values.limit);
  const call = await client(values);
  const id = encodeURIComponent(arg ?? '');
  const print = (json: unknown, human: () => void): void => (values.json ? io.out(`${JSON.stringify(json, null, 2)}\n`) : human());
  return reportingApiErrors(io, `quarantine ${sub}`, async () => {
    switch (sub) {
      case 'list': {
        let cursor: string | undefined = values.cursor;
        const all: Item[] = [];
        let next: string | null = null;
        do {
          const r = await call('GET', `/api/v1/quarantine${query(values, { limit: values.limit, cursor })}`);
          const page = r.json as { items: Item[]; next_cursor: string | null };
          all.push(...page.items);
          next = page.next_cursor;
          cursor = next ?? undefined;
        } while (values.all && next);
        print({ items: all, next_cursor: next }, () => {
          if (!all.length) io.out('no messages match\n');
          for (const i of all) io.out(row(i));
          if (next) io.out(`more: --cursor ${next}\n`);
        });
        return 0;
      }
      case 'show': {
        const r = await call('GET', `/api/v1/quarantine/${id}`);
        const i = r.json as Item & {
          preview: { text: string; links: Array<{ url: string }>; attachments: Array<{ filename: string | null; type: string; size: number }> } | null;
          released?: { by: string; at: string };
          deleted?: { by: string; at: string };
        };
        print(i, () => {
          io.out(
            `id:        ${i.id}\nstatus:    ${i.status}${i.released ? ` (by ${i.released.by} at ${i.released.at})` : ''}${i.deleted ? ` (by ${i.deleted.by} at ${i.deleted.at})` : ''}\nreceived:  ${i.created_at}\nfrom:      ${i.from}\nenvelope:  ${i.envelope.mail_from} -> ${i.envelope.rcpt_to.join(', ')}\nsubject:   ${i.subject}\nscore:     ${i.score}\nreasons:   ${i.reasons.map((x) => `${x.code}(${x.weight})${x.detail ? ` ${x.detail}` : ''}`).join('\n           ')}\n`,
          );
          if (i.preview) {
            io.out(`links:     ${i.preview.links.map((l) => l.url).join('\n           ') || '-'}\n`);
            if (i.preview.attachments.length)
              io.out(`files:     ${i.preview.attachments.map((a) => `${a.filename ?? '(unnamed)'} ${a.type} ${a.size} B`).join('\n           ')}\n`);
            io.out(`\n${i.preview.text}\n`);
          }
        });
        return 0;
      }
      case 'raw': {
        const r = await call('GET', `/api/v1/quarantine/${id}/raw`);
        if (values.out !== undefined) {
          await writeFile(String(values.out), r.bytes);
          io.err(`wrote ${r.bytes.length} bytes to ${values.out}\n`);
        } else io.out(r.bytes.toString('latin1'));
        return 0;
      }
      case 'release': {
        const to = values.to ?? [];
        const r = await call('POST', `/api/v1/quarantine/${id}/release`, {
          ...(to.length ? { recipients: to } : {}),
          ...(values.note ? { note: values.note } : {}),
        });
        const b = r.json as { recipients: string[]; smtp: string };
        print(b, () => io.out(`released ${arg} to ${b.recipients.join(', ')} (${b.smtp})\n`));
        return 0;
      }
      case 'delete': {
        const r = await call('DELETE', `/api/v1/quarantine/${id}`, values.note ? { note: values.note } : undefined);
        print(r.json, () => io.out(`deleted ${arg}\n`));
        return 0;
      }
      case 'report': {
        const r = await call('POST', `/api/v1/quarantine/${id}/report`, { verdict: values.verdict, ...(values.note ? { note: values.note } : {}) });
        print(r.json, () => io.out(`reported ${arg} as ${values.verdict}\n`));
        return 0;
      }
      default: {
        const filter: Record<string, string> = {};
        for (const [opt, name] of FILTERS) if (values[opt] !== undefined) filter[name] = String(values[opt]);
        if (!Object.keys(filter).length) throw new UsageError('quarantine bulk: give at least one filter (e.g. --sender evil.example)');
        const r = await call('POST', '/api/v1/quarantine/bulk', {
          action: arg,
          filter,
          dry_run: values.yes !== true,
          ...(values.note ? { note: values.note } : {}),
        });
        const b = r.json as { matched: number; results?: Record<string, number>; failures?: Array<{ id: string; error: string }> };
        print(b, () => {
          if (values.yes !== true) io.out(`${b.matched} message(s) match; run again with --yes to ${arg} them\n`);
          else {
            io.out(
              `${arg}: ${b.matched} matched, ${
                Object.entries(b.results ?? {})
                  .map(([k, v]) => `${v} ${k}`)
                  .join(', ') || 'nothing done'
              }\n`,
            );
            for (const f of b.failures ?? []) io.out(`  ${f.id}: ${f.error}\n`);
          }
        });
        return b.failures?.length ? 1 : 0;
      }
    }
  });
}

export async function cmdAudit(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parseCommand('audit', args, AUDIT_HELP);
  if (values.help) return (io.out(AUDIT_HELP), 0);
  if (positionals.length) throw new UsageError(`audit: unexpected argument ${JSON.stringify(positionals[0])}\n\n${AUDIT_HELP}`);
  limitOption(values.limit);
  const call = await client(values);
  return reportingApiErrors(io, 'audit', async () => {
    const q = new URLSearchParams();
    if (values.limit) q.set('limit', values.limit);
    if (values.before) q.set('before', values.before);
    const r = await call('GET', `/api/v1/audit${q.size ? `?${q.toString()}` : ''}`);
    const b = r.json as {
      items: Array<{ id: string; at: string; actor: string; action: string; target: string; result: string; note?: string }>;
      next_before: string | null;
    };
    if (values.json) io.out(`${JSON.stringify(b, null, 2)}\n`);
    else for (const a of b.items) io.out(`${a.at}  ${a.actor}  ${a.action.padEnd(16)} ${a.target}  ${a.result}${a.note ? `  "${a.note}"` : ''}\n`);
    return 0;
  });
}

const SOC_ACTIONS: Record<string, string> = {
  ack: 'acknowledge',
  resolve: 'resolve',
  'release-all': 'release_all',
  'delete-all': 'delete_all',
  block: 'block_sender',
};

interface AlertItem {
  id: string;
  status: string;
  first_seen: string;
  last_seen: string;
  count: number;
  actions: { reject: number; quarantine: number };
  max_score: number;
  tenants: string[];
  sender_domains: string[];
  url_hosts: string[];
  subjects: string[];
  reasons: Array<{ code: string; messages: number }>;
  history: Array<{ at: string; by: string; action: string; note?: string }>;
}

export async function cmdSoc(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parseCommand('soc', args, SOC_HELP);
  if (values.help) return (io.out(SOC_HELP), 0);
  const [sub, arg, ...extra] = positionals;
  if (!sub || !['alerts', 'show', ...Object.keys(SOC_ACTIONS)].includes(sub))
    throw new UsageError(`soc: expected one of alerts, show, ${Object.keys(SOC_ACTIONS).join(', ')}\n\n${SOC_HELP}`);
  if (sub === 'alerts' && arg) throw new UsageError(`soc alerts: unexpected argument ${JSON.stringify(arg)}`);
  if (sub !== 'alerts' && (!arg || extra.length)) throw new UsageError(`soc ${sub}: give exactly one alert ID`);
  if (values.target && sub !== 'block') throw new UsageError('--target goes with soc block');
  limitOption(values.limit);
  const call = await client(values);
  return reportingApiErrors(io, `soc ${sub}`, async () => {
    if (sub === 'alerts') {
      const q = new URLSearchParams();
      if (values.status) q.set('status', values.status);
      for (const k of ['tenant', 'sender', 'reason', 'q', 'since', 'until', 'limit'] as const) if (values[k]) q.set(k, String(values[k]));
      const r = await call('GET', `/api/v1/soc/alerts${q.size ? `?${q.toString()}` : ''}`);
      const b = r.json as { items: AlertItem[]; next_cursor: string | null };
      if (values.json) io.out(`${JSON.stringify(b, null, 2)}\n`);
      else {
        if (!b.items.length) io.out('no alerts\n');
        for (const a of b.items)
          io.out(
            `${a.id}  ${a.last_seen.slice(0, 19).replace('T', ' ')}  ${a.status.padEnd(12)} ${String(a.count).padStart(5)} msg  ${[...a.sender_domains, ...a.url_hosts].slice(0, 3).join(', ')}  ${a.subjects[0] ?? ''}\n`,
          );
      }
      return 0;
    }
    if (sub === 'show') {
      const r = await call('GET', `/api/v1/soc/alerts/${encodeURIComponent(arg)}`);
      const a = r.json as AlertItem;
      if (values.json) io.out(`${JSON.stringify(a, null, 2)}\n`);
      else {
        io.out(
          `id:        ${a.id}\nstatus:    ${a.status}\nseen:      ${a.first_seen} .. ${a.last_seen}\nmessages:  ${a.count} (${a.actions.reject} rejected, ${a.actions.quarantine} held), max score ${a.max_score}\ntenants:   ${a.tenants.join(', ')}\nsenders:   ${a.sender_domains.join(', ') || '-'}\nlinks:     ${a.url_hosts.join(', ') || '-'}\nsubjects:  ${a.subjects.join('\n           ') || '-'}\nreasons:   ${a.reasons.map((x) => `${x.code} (${x.messages})`).join(', ')}\n`,
        );
        for (const h of a.history) io.out(`history:   ${h.at} ${h.by} ${h.action}${h.note ? ` "${h.note}"` : ''}\n`);
      }
      return 0;
    }
    const targets = values.target ?? [];
    const r = await call('POST', `/api/v1/soc/alerts/${encodeURIComponent(arg)}/actions`, {
      action: SOC_ACTIONS[sub],
      ...(values.note ? { note: values.note } : {}),
      ...(targets.length ? { targets } : {}),
    });
    const b = r.json as { results?: Record<string, number>; messages?: number; blocked?: string[]; feed?: string; status?: string };
    if (values.json) io.out(`${JSON.stringify(b, null, 2)}\n`);
    else if (b.blocked) io.out(`blocked ${b.blocked.join(', ')} (feed ${b.feed})\n`);
    else if (b.results)
      io.out(
        `${sub} ${arg}: ${b.messages} held message(s), ${
          Object.entries(b.results)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ') || 'none to act on'
        }\n`,
      );
    else io.out(`${arg}: ${b.status}\n`);
    return 0;
  });
}

export const ALERTS_HELP = `Usage: phishx alerts list [--json] [--url URL] [--token-file FILE]
       phishx alerts silence MATCHER [--for 2h] [--note TEXT] [--url URL] [--token-file FILE]
       phishx alerts unsilence ID [--url URL] [--token-file FILE]
       phishx alerts test CHANNEL [--dir DIR]

Operational alerts (docs/alerts.md): clamd down, slow scans, API abuse, full queues, a slow
store, a phishing campaign surge — notified to Slack, PagerDuty, email and webhooks.

  list        firing, pending and recently resolved alerts, and active silences (read token)
  silence     no notifications for alerts matching MATCHER — an alert name or
              alert{label=value}, e.g. service_availability{service=clamav} — for --for
              (30m, 2h, 1d; default 2h; act token)
  unsilence   end a silence by its id
  test        send a test notification to one channel configured in phishx.ini
              (slack, pagerduty, email, webhook) directly, and say what it answered

Options:
  --for D          silence duration: N s|m|h|d (1m .. 30d)
  --note TEXT      why (audit log)
  --json           print JSON
  --url URL        sidecar base URL (default PHISHX_API_URL or http://127.0.0.1:9464)
  --token-file F   file holding the API token (default: PHISHX_API_TOKEN)
  --dir DIR        test: Haraka directory whose config/phishx.ini to use (default: .)
  -h, --help       show this help
`;

interface OpsAlertItem {
  fingerprint: string;
  state: string;
  severity: string;
  summary: string;
  since: string;
  silenced: boolean;
}

/** "90s", "30m", "2h", "1d" ─► seconds. */
export function durationSeconds(text: string): number {
  const m = /^(\d{1,6})\s*(s|m|h|d)$/i.exec(text.trim());
  if (!m) throw new UsageError(`--for must be a duration like 30m, 2h or 1d, got ${JSON.stringify(text)}`);
  const s = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2].toLowerCase() as 's' | 'm' | 'h' | 'd'];
  if (s < 60 || s > 30 * 86400) throw new UsageError(`--for must be between 1m and 30d, got ${JSON.stringify(text)}`);
  return s;
}

export async function cmdAlerts(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parseCommand('alerts', args, ALERTS_HELP);
  if (values.help) return (io.out(ALERTS_HELP), 0);
  const [sub, arg, ...extra] = positionals;
  if (!sub || !['list', 'silence', 'unsilence', 'test'].includes(sub))
    throw new UsageError(`alerts: expected list, silence, unsilence or test\n\n${ALERTS_HELP}`);
  if (sub === 'list' ? arg !== undefined : !arg || extra.length)
    throw new UsageError(`alerts ${sub}: ${sub === 'list' ? 'takes no argument' : 'give exactly one argument'}`);
  if (values.for !== undefined && sub !== 'silence') throw new UsageError('--for goes with alerts silence');
  if (sub === 'test') {
    const channels = ['slack', 'pagerduty', 'email', 'webhook'];
    if (!channels.includes(arg)) throw new UsageError(`alerts test: CHANNEL is one of ${channels.join(', ')}, got ${JSON.stringify(arg)}`);
    const { loadConfigFromDir } = await import('../config/load.js');
    const { createStore } = await import('../store/index.js');
    const { channelsOf } = await import('../alerts/channels.js');
    const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
    const store = createStore(config);
    try {
      const ch = channelsOf(config, () => store, {
        node: `${hostname()} (phishx alerts test)`,
        linksBaseUrl: config.alerts.links_base_url,
        grafanaUrl: config.alerts.grafana_url,
      }).find((c) => c.name === arg);
      if (!ch) throw new UsageError(`alerts test: channel ${arg} is not configured in phishx.ini (docs/alerts.md)`);
      const now = Date.now();
      await ch.send([
        {
          kind: 'firing',
          record: {
            fingerprint: 'test{channel=' + arg + '}',
            alert: 'test',
            labels: { channel: arg },
            state: 'firing',
            severity: 'warn',
            value: 1,
            threshold: 1,
            summary: 'PhishX alert channel test: if you read this, notifications reach you',
            since: now,
            firingSince: now,
          },
        },
      ]);
      io.out(`${arg}: test notification sent\n`);
      return 0;
    } catch (err) {
      if (err instanceof UsageError) throw err;
      io.err(`phishx alerts test: ${arg} refused or unreachable: ${errorMessage(err)}\n`);
      return 1;
    } finally {
      await store.close();
    }
  }
  const forS = values.for !== undefined ? durationSeconds(values.for) : undefined;
  const call = await client(values);
  return reportingApiErrors(io, `alerts ${sub}`, async () => {
    if (sub === 'list') {
      const r = await call('GET', '/api/v1/alerts');
      const b = r.json as {
        firing: OpsAlertItem[];
        pending: OpsAlertItem[];
        resolved: OpsAlertItem[];
        silences: Array<{ id: string; matcher: string; until: string }>;
      };
      if (values.json) io.out(`${JSON.stringify(b, null, 2)}\n`);
      else {
        const all = [...b.firing, ...b.pending, ...b.resolved];
        if (!all.length) io.out('no alerts\n');
        for (const a of all)
          io.out(`${a.state.padEnd(9)} ${a.severity.padEnd(8)} ${a.fingerprint}  since ${a.since}${a.silenced ? '  (silenced)' : ''}  ${a.summary}\n`);
        for (const x of b.silences) io.out(`silence   ${x.id}  ${x.matcher}  until ${x.until}\n`);
      }
      return 0;
    }
    if (sub === 'silence') {
      const r = await call('POST', '/api/v1/alerts/silences', { matcher: arg, for_s: forS ?? 7200, ...(values.note ? { note: values.note } : {}) });
      const b = r.json as { id: string; matcher: string; until: string };
      io.out(values.json ? `${JSON.stringify(b, null, 2)}\n` : `${b.id}: ${b.matcher} silenced until ${b.until}\n`);
      return 0;
    }
    await call('DELETE', `/api/v1/alerts/silences/${encodeURIComponent(arg)}`);
    io.out(`${arg}: ended\n`);
    return 0;
  });
}
