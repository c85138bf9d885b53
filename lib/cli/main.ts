import { command as scanCommand } from './commands/scan.js';
import { command as sendCommand } from './commands/send.js';
import { command as evalCommand } from './commands/eval.js';
import { command as trainCommand } from './commands/train.js';
import { command as nlpServeCommand } from './commands/nlp-serve.js';
import { command as feedsCommand } from './commands/feeds.js';
import { command as configCommand } from './commands/config.js';
import { command as reasonsCommand } from './commands/reasons.js';
import { command as metricsCommand } from './commands/metrics.js';
import { command as tokenCommand } from './commands/token.js';
import { command as feedbackCommand } from './commands/feedback.js';
import { command as keysCommand } from './commands/keys.js';
import { command as webhookCommand } from './commands/webhook.js';
import { command as dashboardsCommand } from './commands/dashboards.js';
import { errorMessage } from '../errors.js';
import { std, type Command, type Out } from './command.js';
import { ALERTS_HELP, AUDIT_HELP, cmdAlerts, cmdAudit, cmdQuarantine, cmdSoc, QUARANTINE_HELP, SOC_HELP } from './review.js';

/** The `phishx` command: one module per command under commands/ (review.ts: the SOC API client commands). */

const MAIN_HELP = `Usage: phishx <command> [options]

Commands:
  scan FILE.eml...     scan raw messages with the inline scan path, print verdicts as JSON
  send FILE.eml...     send raw messages over SMTP (default 127.0.0.1:2525) and print the answers
  eval DIR             measure detection on a labelled corpus (DIR/labels.csv), print JSON
  train                train the embedded text classifier (npm run train)
  nlp-serve            serve the embedded classifier over HTTP (Hugging Face inference format)
  feeds import FILE    import a URL / domain blocklist (OpenPhish, PhishTank, URLhaus exports)
  feeds list           list imported feeds
  config               validate config/phishx.ini (+ environment) and print the effective config
  reasons              list reason codes with weights
  metrics              list the Prometheus metric families the sidecar exports
  token new|hash       make an API token for the sidecar, or hash one for [sidecar] token_hashes
  quarantine ...       list, show, release, delete, report held mail (SOC API client)
  soc ...              SOC alerts (one per campaign): list, show, ack, resolve, release-all, block
  audit                print the audit log of review actions
  alerts ...           operational alerts: list, silence, unsilence, test a channel
  feedback list|export analysts' reports (phish / not_phish) with their messages, as a
                       labelled corpus for training (phishx train --corpus, phishx eval)
  keys ...             webhook signing keys: new, list, show, rotate, retire
  webhook verify       check a received webhook's signature (headers + body files)
  dashboards --out DIR write the Grafana dashboards (deploy/grafana/dashboards)
  help [command]       show help for a command

Run "phishx <command> --help" for the options of a command.
`;

const REVIEW: Command[] = [
  { name: 'quarantine', help: QUARANTINE_HELP, run: cmdQuarantine },
  { name: 'soc', help: SOC_HELP, run: cmdSoc },
  { name: 'audit', help: AUDIT_HELP, run: cmdAudit },
  { name: 'alerts', help: ALERTS_HELP, run: cmdAlerts },
];

const COMMANDS: Record<string, Command> = Object.fromEntries(
  [
    scanCommand,
    sendCommand,
    evalCommand,
    trainCommand,
    nlpServeCommand,
    feedsCommand,
    configCommand,
    reasonsCommand,
    metricsCommand,
    tokenCommand,
    feedbackCommand,
    keysCommand,
    webhookCommand,
    dashboardsCommand,
    ...REVIEW,
  ].map((c) => [c.name, c]),
);

/** CLI entry: returns the exit code. Usage and config errors are printed, never thrown. */
export async function main(argv: string[], io: Out = std): Promise<number> {
  const [cmd, ...rest] = argv;
  if (!cmd || cmd === '-h' || cmd === '--help') return (io.out(MAIN_HELP), cmd ? 0 : 2);
  if (cmd === 'help') return (io.out((Object.hasOwn(COMMANDS, rest[0] ?? '') ? COMMANDS[rest[0]].help : undefined) ?? MAIN_HELP), 0);
  const command = Object.hasOwn(COMMANDS, cmd) ? COMMANDS[cmd] : undefined;
  if (!command) {
    io.err(`phishx: unknown command "${cmd}"\n\n${MAIN_HELP}`);
    return 2;
  }
  try {
    return await command.run(rest, io);
  } catch (err) {
    const code = (err as { code?: string }).code;
    // Commands name themselves in their messages ("eval: give exactly one corpus DIR"): once is enough.
    const message = errorMessage(err);
    io.err(`phishx ${cmd}: ${message.startsWith(`${cmd}: `) ? message.slice(cmd.length + 2) : message}\n`);
    return code === 'PHISHX_CLI_USAGE' ? 2 : 1;
  }
}
