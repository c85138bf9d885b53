/**
 * Queue plugin for trying PhishX and for tests: writes each accepted message, as
 * delivered (with its X-PhishX-* headers), to `[local_delivery] dir` as `<time>-<uuid>.eml`
 * (temp file + rename, so a reader never sees half a message). In production put
 * `queue/smtp_forward` (or your delivery plugin) in config/plugins instead.
 *
 * It also accepts every recipient (a `rcpt` hook answering OK), since a try-out box has no
 * list of local domains; in production, recipient validation belongs to
 * `rcpt_to.in_host_list` or your routing plugin.
 */
import path from 'node:path';
import constants from 'haraka-constants';
import DSN from 'haraka-dsn';
import { errorMessage } from '../../lib/errors.js';
import { configSource } from '../../lib/haraka/config-source.js';
import { nextOnce } from '../../lib/haraka/next-once.js';
import { readMessage } from '../../lib/haraka/read-message.js';
import type { HarakaConnection, HarakaPlugin, Next } from '../../lib/haraka/types.js';
import { writeFileDurable } from '../../lib/fs-durable.js';

interface DeliveryPlugin extends HarakaPlugin {
  deliveryDir: string;
}

export function register(this: DeliveryPlugin): void {
  this.deliveryDir = configSource.get(this).local_delivery.dir;
  configSource.subscribe((c) => {
    this.deliveryDir = c.local_delivery.dir;
  });
  this.register_hook('rcpt', 'accept_any_recipient');
  this.register_hook('queue', 'deliver');
}

export function accept_any_recipient(this: DeliveryPlugin, next: Next): void {
  next(constants.ok);
}

export function deliver(this: DeliveryPlugin, next: Next, connection: HarakaConnection): void {
  const txn = connection.transaction;
  if (!txn) return next();
  const done = nextOnce(next);
  const file = path.join(this.deliveryDir, `${Date.now()}-${txn.uuid}.eml`);
  readMessage(txn.message_stream, txn.data_bytes)
    .then((buf) => writeFileDurable(file, buf))
    .then(() => {
      this.loginfo(connection, `delivered to ${file}`);
      done(constants.ok, `Message delivered to local folder (${path.basename(file)})`);
    })
    .catch((err: unknown) => {
      this.logerror(connection, `local delivery failed: ${errorMessage(err)}`);
      done(constants.denysoft, DSN.create(451, 'Local delivery failed, try again later', 3, 0));
    });
}
