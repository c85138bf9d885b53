import path from 'node:path';
import { loadConfigFromDir } from '../../config/load.js';
import { UsageError } from '../../errors.js';
import { createStore } from '../../store/index.js';
import { addKey, changeKeyRing, keyView, newKey, retire, rotate } from '../../webhooks/keys.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx keys: the managed webhook signing keys. */

const HELP = `Usage: phishx keys new [--scope read|act|admin [--tenant DOMAIN]] [--dir DIR]
       phishx keys list [--json] [--dir DIR]
       phishx keys show ID [--dir DIR]
       phishx keys rotate [--overlap-hours N] [--dir DIR]
       phishx keys retire ID [--dir DIR]

Signing keys of the webhooks (docs/webhooks.md): with [redis] url in Redis, else in
spool_dir/keys/ (mode 0600). Secrets are printed only by "new", "rotate" and "show"; never
logged.

  new      make a key and print its secret (whsec_…): the primary when there is none, else
           an extra key that signs too (for a consumer that is switching). With --scope: an
           API key instead, for signed requests to the sidecar's API with that scope (and
           tenant); it never signs webhooks (docs/webhooks.md "Signed requests")
  list     every key: id, status (primary, signing, retired), times
  show     print one key's secret (give it to the consumer that verifies)
  rotate   make a new primary; the old key keeps signing beside it for
           [webhooks] key_overlap_h hours (or --overlap-hours), then retires
  retire   stop a key now (a stolen key): it never signs again, its secret is erased

Options:
  --scope S           new: an API key with scope read, act or admin
  --tenant DOMAIN     new --scope: bound to one tenant (as a tenant-bound token)
  --overlap-hours N   rotate: overlap instead of [webhooks] key_overlap_h (0..720)
  --json              list: JSON
  --dir DIR           Haraka directory whose config/phishx.ini to use (default: .)
  -h, --help          show this help
`;

async function cmdKeys(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(
    args,
    { dir: { type: 'string' }, json: { type: 'boolean' }, 'overlap-hours': { type: 'string' }, scope: { type: 'string' }, tenant: { type: 'string' } },
    'keys',
    HELP,
  );
  if (values.help) return (io.out(HELP), 0);
  const [sub, id, ...extra] = positionals;
  if (!sub || !['new', 'list', 'show', 'rotate', 'retire'].includes(sub)) throw new UsageError(`keys: expected new, list, show, rotate or retire\n\n${HELP}`);
  if ((sub === 'show' || sub === 'retire') && !id) throw new UsageError(`keys ${sub}: give the key ID (phishx keys list)`);
  if (extra.length || (id && sub !== 'show' && sub !== 'retire')) throw new UsageError(`keys ${sub}: unexpected argument ${JSON.stringify(extra[0] ?? id)}`);
  let overlapH: number | undefined;
  if (values['overlap-hours'] !== undefined) {
    const text = String(values['overlap-hours']);
    if (sub !== 'rotate') throw new UsageError('keys: --overlap-hours goes with rotate');
    if (!/^\d{1,3}$/.test(text) || Number(text) > 720)
      throw new UsageError(`keys rotate: --overlap-hours must be an integer 0..720, got ${JSON.stringify(text)}`);
    overlapH = Number(text);
  }
  const scope = values.scope === undefined ? undefined : String(values.scope);
  if (scope !== undefined && (sub !== 'new' || !['read', 'act', 'admin'].includes(scope)))
    throw new UsageError(sub !== 'new' ? 'keys: --scope goes with new' : `keys new: --scope must be read, act or admin, got ${JSON.stringify(scope)}`);
  const tenant = values.tenant === undefined ? undefined : String(values.tenant).toLowerCase();
  if (tenant !== undefined && (scope === undefined || !/^[a-z0-9.-]{1,253}$/.test(tenant)))
    throw new UsageError(scope === undefined ? 'keys new: --tenant goes with --scope' : `keys new: --tenant must be a domain, got ${JSON.stringify(tenant)}`);
  const config = loadConfigFromDir(path.resolve(String(values.dir ?? '.')));
  const store = createStore(config);
  const now = Date.now();
  try {
    if (sub === 'list') {
      const ring = await store.getKeyRing();
      const views = ring.keys.map((k) => keyView(k, now));
      if (values.json) io.out(`${JSON.stringify(views, null, 2)}\n`);
      else if (!views.length) io.out('no signing keys (make one with: npx phishx keys new)\n');
      else
        for (const v of views)
          io.out(
            `${v.id}\t${v.status}${v.scope ? ` ${v.scope}${v.tenant ? `:${v.tenant}` : ''}` : ''}\tcreated ${v.created_at}${v.retires_at ? `\tretires ${v.retires_at}` : ''}${v.retired_at ? `\tretired ${v.retired_at}` : ''}\n`,
          );
      return 0;
    }
    if (sub === 'show') {
      const k = (await store.getKeyRing()).keys.find((x) => x.id === id);
      if (!k) throw new UsageError(`keys show: no key ${JSON.stringify(id)} (phishx keys list)`);
      if (!k.secret) throw new UsageError(`keys show: ${id} is retired; its secret is gone`);
      io.out(`${k.secret}\n`);
      return 0;
    }
    if (sub === 'retire') {
      const ring = await changeKeyRing(store, (r) => retire(r, id, now));
      if (!ring) throw new UsageError(`keys retire: no key ${JSON.stringify(id)} (phishx keys list)`);
      io.out(
        `${id} retired; it signs no more${ring.keys.some((k) => k.primary) ? `; primary: ${ring.keys.find((k) => k.primary)!.id}` : '; no key signs now (phishx keys new)'}\n`,
      );
      return 0;
    }
    const key = newKey(now, true, scope ? { scope: scope as 'read' | 'act' | 'admin', ...(tenant ? { tenant } : {}) } : undefined);
    const ring =
      sub === 'new'
        ? await changeKeyRing(store, (r) => addKey(r, key, now))
        : await changeKeyRing(store, (r) => rotate(r, key, now, (overlapH ?? config.webhooks.key_overlap_h) * 3_600_000));
    const made = ring?.keys.find((k) => k.id === key.id);
    io.err(
      `${key.id}: ${made?.primary ? 'primary' : 'signing'} key made${sub === 'rotate' ? `; the previous keys sign beside it for ${overlapH ?? config.webhooks.key_overlap_h} h` : ''}. Its secret (give it to your consumers; shown again by "phishx keys show ${key.id}"):\n`,
    );
    io.out(`${key.secret}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

export const command: Command = { name: 'keys', help: HELP, run: cmdKeys };
