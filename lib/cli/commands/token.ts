import { UsageError } from '../../errors.js';
import { hashToken, newToken, SCOPES, type Scope } from '../../sidecar/auth.js';
import { parse, type Command, type Out } from '../command.js';

/** phishx token: make or hash an API token. */

const HELP = `Usage: phishx token new [--scope read|act|admin] [--tenant DOMAIN]
       phishx token hash TOKEN

new    print a new random API token and the line to put in config/phishx.ini
       ([sidecar] token_hashes = sha256:…[:scope[:tenant]]). Only the hash is stored; give
       the token to the client (e.g. Prometheus bearer_token_file, the SOC console).
hash   print the sha256:… form of an existing token (e.g. one from your secret store).

Scopes: read (lists, previews, metrics summary), act (also release, delete, raw, report),
admin (everything, incl. audit and bulk; the default). --tenant binds the token to one
tenant ([tenant.DOMAIN]): it sees that tenant's held mail only. Several tokens: separate
the token_hashes entries with commas.

Options:
  --scope SCOPE     read, act or admin (default admin)
  --tenant DOMAIN   bind the token to one tenant
  -h, --help        show this help
`;

async function cmdToken(args: string[], io: Out): Promise<number> {
  const { values, positionals } = parse(args, { scope: { type: 'string' }, tenant: { type: 'string' } }, 'token', HELP);
  if (values.help) return (io.out(HELP), 0);
  const [sub, token, ...extra] = positionals;
  if (sub === 'new' && !token) {
    const scope = String(values.scope ?? 'admin');
    if (!SCOPES.includes(scope as Scope)) throw new UsageError(`token new: --scope must be read, act or admin, got ${JSON.stringify(scope)}`);
    const tenant = values.tenant === undefined ? '' : String(values.tenant).toLowerCase();
    if (values.tenant !== undefined && !/^[a-z0-9.-]{1,253}$/.test(tenant))
      throw new UsageError('token new: --tenant must be a domain (the name of a [tenant.DOMAIN] section)');
    const t = newToken();
    const suffix = scope === 'admin' && !tenant ? '' : `:${scope}${tenant ? `:${tenant}` : ''}`;
    io.out(
      `token: ${t.token}\nscope: ${scope}${tenant ? `, tenant ${tenant} only` : ''}\n\n# config/phishx.ini\n[sidecar]\ntoken_hashes = ${t.hash}${suffix}\n`,
    );
    return 0;
  }
  if (sub === 'hash' && token && !extra.length) {
    if (token.length < 16) throw new UsageError('a token must be at least 16 characters');
    io.out(`${hashToken(token)}\n`);
    return 0;
  }
  throw new UsageError(`expected "new" or "hash TOKEN"\n\n${HELP}`);
}

export const command: Command = { name: 'token', help: HELP, run: cmdToken };
