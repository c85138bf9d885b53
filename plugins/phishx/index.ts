/**
 * Haraka adapter for PhishX. Thin on purpose: it turns Haraka's transaction into
 * (raw, envelope), calls the one scan path (lib/scan.ts) and maps the verdict to an SMTP
 * answer. Every hook answers through one guarded `nextOnce`; no promise escapes a hook.
 * Exported hook functions are plain functions: Haraka binds `this` to the plugin.
 */
import constants from 'haraka-constants';
import type { PhishXConfig } from '../../lib/config/types.js';
import { HOOK_WATCHDOG_SLACK_MS } from '../../lib/config/load.js';
import { errorMessage } from '../../lib/errors.js';
import { withTimeout } from '../../lib/timeout.js';
import { verdictEvents, type VerdictEvent } from '../../lib/events.js';
import cluster from 'node:cluster';
import { configSource } from '../../lib/haraka/config-source.js';
import { nextOnce, type GuardedNext } from '../../lib/haraka/next-once.js';
import { readMessage } from '../../lib/haraka/read-message.js';
import { addressOf, type HarakaConnection, type HarakaPlugin, type HarakaTransaction, type Next } from '../../lib/haraka/types.js';
import type { Envelope, SenderAuth } from '../../lib/message/types.js';
import { senderAuthOf } from '../../lib/haraka/sender-auth.js';
import { holdMessage, recordEvent } from '../../lib/quarantine.js';
import { startMaintenance, type Maintenance } from '../../lib/haraka/maintenance.js';
import { newScanId, scanMessage, type LocalScanner, type ScanResult } from '../../lib/scan.js';
import { createScanPool, scanThreads, type ScanPool } from '../../lib/scan-pool.js';
import { clientNetwork } from '../../lib/ip-address.js';
import { startSidecar, type Sidecar } from '../../lib/sidecar/server.js';
import { startSidecarThread } from '../../lib/sidecar/thread-host.js';
import { sidecarPlacement, type HarakaServer } from '../../lib/sidecar/placement.js';
import { createStore, type Store } from '../../lib/store/index.js';
import { createReputation, FEED_DIR_SYNC_MS, type Reputation } from '../../lib/reputation/index.js';
import { clamdFor } from '../../lib/clamav/client.js';
import { breakerEvents, type BreakerStateEvent } from '../../lib/resilience/breaker.js';
import { formatHeaders } from '../../lib/verdict/actions.js';
import { heldAnswer, holdFailedAnswer, overrunAnswer, verdictAnswer } from '../../lib/haraka/answer.js';
import { addHeadersOnTop, stripPhishXHeaders } from '../../lib/haraka/strip-headers.js';
import { processMetrics } from '../../lib/metrics/catalog.js';
import { installProcessMetrics } from '../../lib/metrics/collect.js';
import { installWorkerResponder } from '../../lib/metrics/cluster.js';
import { nlpProbeFor } from '../../lib/nlp/http-client.js';
import { changeState } from '../../lib/review/actions.js';
import { securityEventOf } from '../../lib/soc/alerts.js';
import { confirmRelease, useClaim } from '../../lib/review/lifecycle.js';
import { RELEASE_HEADER, releaseKey, verifyMarker } from '../../lib/review/release-marker.js';

interface PhishXPlugin extends HarakaPlugin {
  phishx: {
    config: PhishXConfig | null;
    store: Store | null;
    sidecar: Sidecar | null;
    reputation: Promise<Reputation> | null;
    maintenance: Maintenance | null;
    /** Scan threads, for the config they were started with (a reloaded config starts new ones). */
    pool: { config: PhishXConfig; pool: ScanPool } | null;
    /** What register() and init_master subscribed to, undone by shutdown() (a plugin reload must not double them). */
    disposers: Array<() => void>;
  };
}

interface TxnNote {
  result: ScanResult;
  envelope: Envelope;
}

const NOTE = 'phishx';
/** Transaction note of a released message being delivered: { id, claim }. */
const RELEASE_NOTE = 'phishx_release';
const DAY_MS = 86_400_000;

function getStore(plugin: PhishXPlugin): Store {
  if (!plugin.phishx.store) {
    const store = createStore(plugin.phishx.config!);
    plugin.phishx.store = store;
    plugin.phishx.maintenance = startMaintenance(store, () => plugin.phishx.config!, {
      notice: (m) => plugin.lognotice(`phishx: ${m}`),
      debug: (m) => plugin.logdebug(`phishx: ${m}`),
    });
  }
  return plugin.phishx.store;
}

/** Reputation sources, created once per process; a failure to set them up leaves none (logged). */
function getReputation(plugin: PhishXPlugin): Promise<Reputation> {
  plugin.phishx.reputation ??= createReputation(getStore(plugin), plugin.phishx.config!, process.env, FEED_DIR_SYNC_MS, (err) =>
    plugin.logerror(`phishx: feed not loaded: ${errorMessage(err)}`),
  ).catch((err: unknown) => {
    plugin.logerror(`phishx: reputation sources unavailable: ${errorMessage(err)}`);
    return { sources: [], close: async () => undefined };
  });
  return plugin.phishx.reputation;
}

/** The scan threads for the current config (none with `[main] scan_threads = 0`); started on first use. */
function getScanPool(plugin: PhishXPlugin): ScanPool | undefined {
  const config = plugin.phishx.config!;
  const current = plugin.phishx.pool;
  if (current?.config === config) return current.pool;
  if (current) {
    // A reloaded config: the old threads finish their scans and stop.
    plugin.phishx.pool = null;
    void current.pool.close().catch((err: unknown) => plugin.logwarn(`phishx: stopping the old scan threads: ${errorMessage(err)}`));
  }
  if (scanThreads(config) === 0) return undefined;
  const pool = createScanPool(config);
  plugin.phishx.pool = { config, pool };
  plugin.loginfo(`phishx: ${pool.threads} scan thread(s)`);
  return pool;
}

/** A relaying or authenticated (outbound) session. */
function isOutbound(connection: HarakaConnection): boolean {
  return connection.relaying === true || Boolean(connection.notes?.auth_user);
}

function envelopeOf(connection: HarakaConnection, txn: HarakaTransaction): Envelope {
  return {
    mailFrom: addressOf(txn.mail_from),
    rcptTo: txn.rcpt_to.map((r) => addressOf(r)),
    remoteIp: connection.remote?.ip,
    relaying: isOutbound(connection),
    ...(connection.hello?.host ? { helo: connection.hello.host } : {}),
    ...authField(txn),
  };
}

/** SPF / DKIM results of haraka-plugin-spf / -dkim, when they ran before PhishX. */
function authField(txn: HarakaTransaction): { auth?: SenderAuth } {
  const auth = senderAuthOf(txn.results);
  return auth ? { auth } : {};
}

function getRaw(txn: HarakaTransaction): Promise<Buffer> {
  return readMessage(txn.message_stream, txn.data_bytes);
}

export function register(this: PhishXPlugin): void {
  this.phishx = { config: null, store: null, sidecar: null, reputation: null, maintenance: null, pool: null, disposers: [] };
  const undo = this.phishx.disposers;
  // A bad config stops Haraka at start with the key and value named.
  this.phishx.config = configSource.get(this);
  undo.push(
    configSource.subscribe((next) => {
      if (this.phishx.config && this.phishx.config.redis.url !== next.redis.url) this.logwarn('phishx: [redis] url changed: restart Haraka to switch stores');
      this.phishx.config = next;
    }),
  );
  // Every breaker state change, logged once with its service.
  const onBreaker = (e: BreakerStateEvent): void => {
    const msg = `phishx: breaker ${e.service} ${e.state}${e.state === 'open' ? ' (failing fast)' : e.state === 'half_open' ? ' (probing)' : ' (recovered)'}`;
    if (e.state === 'open') this.logwarn(msg);
    else this.lognotice(msg);
  };
  breakerEvents.on('state', onBreaker);
  undo.push(() => breakerEvents.off('state', onBreaker));
  // Metrics: every process counts its own work; the sidecar merges them across workers.
  installProcessMetrics(() => new Set(Object.keys(this.phishx.config?.tenants ?? {})));
  installWorkerResponder();
  const applied = (): void => void processMetrics.configReloads.inc({ result: 'applied' });
  const rejected = (): void => void processMetrics.configReloads.inc({ result: 'rejected' });
  configSource.reloads.on('applied', applied);
  configSource.reloads.on('rejected', rejected);
  undo.push(
    () => configSource.reloads.off('applied', applied),
    () => configSource.reloads.off('rejected', rejected),
  );
  undo.push(configSource.subscribe((next) => this.phishx.sidecar?.reconfigure(next)));
  this.register_hook('init_master', 'phishx_init_master');
  this.register_hook('init_child', 'phishx_init_child');
  this.register_hook('connect_init', 'phishx_connect_init');
  this.register_hook('disconnect', 'phishx_disconnect');
  this.register_hook('deny', 'phishx_deny');
  this.register_hook('queue_ok', 'phishx_queue_ok');
  this.register_hook('data', 'phishx_data');
  this.register_hook('data_post', 'phishx_data_post');
  this.register_hook('queue', 'phishx_queue');
}

// ── SMTP counters: plain synchronous hooks, they only count and continue ──────────────
export function phishx_connect_init(this: PhishXPlugin, next: Next): void {
  processMetrics.sessions.inc();
  processMetrics.sessionsActive.inc();
  next();
}

export function phishx_disconnect(this: PhishXPlugin, next: Next): void {
  processMetrics.sessionsActive.dec();
  next();
}

/** Haraka runs `deny` whenever any plugin denies: params = [retval, msg, plugin, method, params, hook]. */
export function phishx_deny(this: PhishXPlugin, next: Next, _connection: HarakaConnection, params: unknown[]): void {
  try {
    const retval = params?.[0];
    const hook = typeof params?.[5] === 'string' ? params[5] : 'unknown';
    const soft = retval === constants.denysoft || retval === constants.denysoftdisconnect;
    processMetrics.answers.inc({ class: soft ? '4xx' : '5xx', hook });
  } finally {
    next();
  }
}

export function phishx_queue_ok(this: PhishXPlugin, next: Next, connection: HarakaConnection): void {
  processMetrics.answers.inc({ class: '2xx', hook: 'queue' });
  const plugin = this;
  const rel = connection?.transaction?.notes?.[RELEASE_NOTE] as { id: string; claim: string } | undefined;
  if (rel && plugin.phishx.config) {
    // Delivered: the release is done (the sidecar's own confirmation then finds it so).
    const historyMs = plugin.phishx.config.quarantine.history_days * DAY_MS;
    changeState(getStore(plugin), rel.id, (e) => confirmRelease(e, rel.claim, Date.now(), historyMs))
      .then((r) => plugin.lognotice(connection, `phishx: id=${rel.id} released message delivered${r.ok ? '' : ` (${r.error})`}`))
      .catch((err: unknown) =>
        plugin.logerror(connection, `phishx: id=${rel.id} released message delivered, but its state could not be updated: ${errorMessage(err)}`),
      );
  }
  next();
}

/**
 * A message re-submitted by a release carries a signed single-use marker. When the
 * signature verifies and the store still holds that release with that claim, never used,
 * the claim is marked used (compare-and-set) and the message is passed on unscanned with
 * `X-PhishX-Verdict: released`. Anything else (forged, replayed, expired, store down)
 * resolves false: the marker is stripped with every X-PhishX-* header and the message is
 * scanned as any other.
 */
async function acceptRelease(plugin: PhishXPlugin, connection: HarakaConnection, txn: HarakaTransaction, header: string): Promise<boolean> {
  const config = plugin.phishx.config!;
  try {
    const marker = verifyMarker(await releaseKey(config.quarantine.spool_dir), header.split('\n')[0]);
    if (!marker) {
      plugin.logwarn(connection, 'phishx: X-PhishX-Release marker does not verify (forged or expired); stripping it and scanning the message');
      processMetrics.forged.inc();
      return false;
    }
    const used = await changeState(getStore(plugin), marker.id, (e) => useClaim(e, marker.claim, Date.now()));
    if (!used.ok) {
      plugin.logwarn(connection, `phishx: release marker of id=${marker.id} not usable (${used.error}); scanning the message`);
      processMetrics.forged.inc();
      return false;
    }
    stripPhishXHeaders(txn);
    addHeadersOnTop(txn, [
      ['X-PhishX-Verdict', 'released'],
      ['X-PhishX-Released', `${new Date().toISOString()} by ${marker.by} (PhishX id ${marker.id})`],
      ['X-PhishX-Id', marker.id],
    ]);
    txn.notes[RELEASE_NOTE] = { id: marker.id, claim: marker.claim };
    plugin.lognotice(connection, `phishx: id=${marker.id} released by ${marker.by}: delivering without a scan`);
    return true;
  } catch (err) {
    plugin.logerror(connection, `phishx: release marker check failed (${errorMessage(err)}); scanning the message`);
    return false;
  }
}

/**
 * Count the embedded quarantine now, as this process starts taking mail, instead of when the
 * first message is held: the first count reads every record (~2.7 s at 100,000 held) and the
 * first held message's session would wait for it. Logged with what it found. Redis needs no
 * count (it keeps one).
 */
function countQuarantineAtStart(plugin: PhishXPlugin): void {
  if (!plugin.phishx.config || plugin.phishx.config.redis.url) return;
  const t0 = performance.now();
  getStore(plugin)
    .countQuarantine()
    .then(
      (n) => plugin.lognotice(`phishx: quarantine holds ${n} message(s) (counted at start in ${Math.round(performance.now() - t0)} ms)`),
      (err: unknown) => plugin.logwarn(`phishx: counting the quarantine at start: ${errorMessage(err)}`),
    );
}

/**
 * A process that takes mail loads its reputation sources as it starts (feed_dir read in turns)
 * instead of when the first message is scanned, which would wait for them. Never rejects
 * (getReputation logs a failure and leaves no sources).
 */
function loadReputationAtStart(plugin: PhishXPlugin): void {
  if (plugin.phishx.config) void getReputation(plugin);
}

/** A cluster worker (`nodes` > 0) takes mail: its quarantine count and reputation sources start now. */
export function phishx_init_child(this: PhishXPlugin, next: Next): void {
  countQuarantineAtStart(this);
  loadReputationAtStart(this);
  next();
}

export function phishx_init_master(this: PhishXPlugin, next: Next, server: HarakaServer): void {
  // One process (no cluster): this one takes mail. A cluster's master does not.
  if (!server.cluster) {
    countQuarantineAtStart(this);
    loadReputationAtStart(this);
  }
  const listen = this.phishx.config?.sidecar.listen;
  if (!listen) return next();
  const plugin = this;
  const placement = sidecarPlacement(server, plugin.phishx.config!);
  plugin.phishx.disposers.push(() => placement.stop());
  const inThread = placement.inThread;
  const smtpListening = (): boolean => placement.smtpListening();
  const started: Promise<Sidecar> = inThread
    ? startSidecarThread(listen, {
        config: () => plugin.phishx.config!,
        smtpListening,
        store: () => getStore(plugin),
        log: sidecarLog(plugin),
      })
    : startSidecarInline(plugin, listen, smtpListening);
  started
    .then((s) => {
      plugin.phishx.sidecar = s;
      plugin.lognotice(`phishx: sidecar listening on http://${s.address.host}:${s.address.port}${inThread ? ' (own thread)' : ''}`);
    })
    .catch((err: unknown) => {
      // Mail flow matters more than the sidecar: log loudly, keep Haraka running.
      plugin.logcrit(`phishx: ${errorMessage(err)}`);
    })
    .finally(() => next());
}

function startSidecarInline(plugin: PhishXPlugin, listen: { host: string; port: number }, smtpListening: () => boolean): Promise<Sidecar> {
  return startSidecar(listen, {
    config: () => plugin.phishx.config,
    smtpListening,
    store: () => getStore(plugin),
    clamd: () => (plugin.phishx.config ? clamdFor(plugin.phishx.config.clamav, plugin.phishx.config['breaker.clamav']) : null),
    nlpProbe: () => nlpProbeFor(plugin.phishx.config),
    log: sidecarLog(plugin),
  });
}

/** The sidecar's log lines, in Haraka's log at their level. */
function sidecarLog(plugin: PhishXPlugin): (level: 'error' | 'warn' | 'notice', message: string) => void {
  return (level, message) =>
    level === 'error'
      ? plugin.logerror(`phishx: ${message}`)
      : level === 'warn'
        ? plugin.logwarn(`phishx: ${message}`)
        : plugin.lognotice(`phishx: ${message}`);
}

/**
 * Accept without a verdict after an internal fault: the message keeps flowing (a scanner
 * bug must not lose or bounce mail) and carries `X-PhishX-Verdict: unscanned`.
 */
function acceptUnscanned(plugin: PhishXPlugin, connection: HarakaConnection, txn: HarakaTransaction, id: string, why: string, done: GuardedNext): void {
  plugin.logerror(connection, `phishx: id=${id} ${why}; accepting unscanned (SCAN_ERROR)`);
  if (done.called) return;
  processMetrics.unscanned.inc({ code: 'SCAN_ERROR' });
  try {
    stripPhishXHeaders(txn);
    addHeadersOnTop(txn, [
      ['X-PhishX-Verdict', 'unscanned'],
      ['X-PhishX-Reasons', 'SCAN_ERROR'],
      ['X-PhishX-Id', id],
    ]);
  } finally {
    done();
  }
}

/**
 * The scan did not answer within budget + slack (an event loop blocked by CPU-bound work):
 * defer with `451 4.7.1`. The sender keeps the message and retries; passing it unjudged
 * would let any input that outlasts the budget through.
 */
function deferOverrun(plugin: PhishXPlugin, connection: HarakaConnection, id: string, ms: number, done: GuardedNext, why?: string): void {
  plugin.logerror(connection, `phishx: id=${id} ${why ?? `scan did not finish within ${ms} ms`}; answering 451 (BUDGET_EXCEEDED)`);
  if (done.called) return;
  processMetrics.unscanned.inc({ code: 'BUDGET_EXCEEDED' });
  const a = overrunAnswer(id);
  done(a.code, a.msg);
}

/**
 * Back-pressure at DATA: while more received messages wait for a scan thread than
 * `[main] max_queued_messages`, the 354 waits (at most the scan budget) until one of them got
 * its place — the sender keeps its message meanwhile, instead of it sitting in Haraka's memory
 * beside a hundred others. Never refuses; outbound sessions do not wait.
 */
export function phishx_data(this: PhishXPlugin, next: Next, connection: HarakaConnection): void {
  const config = this.phishx.config;
  const max = config?.main.max_queued_messages ?? 0;
  if (!config || !max || !connection.transaction || (isOutbound(connection) && config.main.skip_relaying)) return next();
  const done = nextOnce(next, { onSecondCall: (code) => this.logwarn(connection, `phishx: ignored a second next(${code ?? ''}) in data`) });
  let pool: ScanPool | undefined;
  try {
    pool = getScanPool(this);
  } catch (err) {
    this.logwarn(connection, `phishx: scan threads unavailable at DATA: ${errorMessage(err)}`);
    return done();
  }
  if (!pool) return done();
  pool.whenRoom(max, config.main.scan_budget_ms, clientNetwork(connection.remote?.ip)).then(
    (how) => {
      if (how !== 'now') processMetrics.dataWaits.inc({ result: how === 'waited' ? 'room' : 'timeout' });
      done();
    },
    () => done(),
  );
}

export function phishx_data_post(this: PhishXPlugin, next: Next, connection: HarakaConnection): void {
  const plugin = this;
  const txn = connection.transaction;
  const config = plugin.phishx.config!;
  if (!txn) return next();
  const id = newScanId();
  const watchdogMs = config.main.scan_budget_ms + HOOK_WATCHDOG_SLACK_MS;
  const done: GuardedNext = nextOnce(next, {
    deadlineMs: watchdogMs,
    onDeadline: (n) => deferOverrun(plugin, connection, id, watchdogMs, n),
    onSecondCall: (code) => plugin.logwarn(connection, `phishx: id=${id} ignored a second next(${code ?? ''})`),
  });

  let envelope: Envelope;
  try {
    envelope = envelopeOf(connection, txn);
  } catch (err) {
    return acceptUnscanned(plugin, connection, txn, id, `cannot read the envelope: ${errorMessage(err)}`, done);
  }
  const marker = txn.header?.get(RELEASE_HEADER);
  (marker ? acceptRelease(plugin, connection, txn, marker) : Promise.resolve(false))
    .then((released) => {
      if (released) return done();
      return scanAndAnswer();
    })
    .catch((err: unknown) => acceptUnscanned(plugin, connection, txn, id, `release check fault: ${errorMessage(err)}`, done));

  function scanAndAnswer(): Promise<void> {
    const pool = getScanPool(plugin);
    const t0 = performance.now();
    // With scan threads, the message is read only once a thread has room for it (the wait
    // counts in the budget): read at once, it would wait in the pool's queue beside Haraka's
    // own copy. No room within the budget: deferred like any scan over its budget.
    return (pool ? pool.admit(config.main.scan_budget_ms, clientNetwork(connection.remote?.ip)) : Promise.resolve(() => undefined)).then(
      (release) => scanAdmitted(pool, t0, release),
      (err: unknown) => deferOverrun(plugin, connection, id, Math.round(performance.now() - t0), done, errorMessage(err)),
    );
  }

  function scanAdmitted(pool: ScanPool | undefined, t0: number, release: () => void): Promise<void> {
    const tx = txn!;
    if (connection.transaction !== tx) {
      release();
      plugin.loginfo(connection, `phishx: id=${id} client gone or transaction ended while waiting for a scan thread; not answering`);
      return Promise.resolve(done());
    }
    // The place goes back when the thread's task settles, and at the latest one watchdog period
    // after it was given (the scan's own limit, the rest of the budget plus a grace, is shorter):
    // nothing that hangs (a message stream that never ends) keeps it.
    const cap = setTimeout(release, watchdogMs);
    cap.unref();
    return (
      Promise.all([getRaw(tx), getReputation(plugin)])
        .then(([raw, reputation]) => {
          const clamav = clamdFor(config.clamav, config['breaker.clamav']);
          processMetrics.workerScansInFlight.inc({ worker: WORKER });
          processMetrics.workerScans.inc({ worker: WORKER });
          return scanMessage(raw, envelope, config, id, {
            // The place is given back when the thread's task settles, not after the network checks.
            ...(pool ? { local: (...args: Parameters<LocalScanner>) => pool.scan(...args).finally(release) } : {}),
            reputation: reputation.sources,
            ...(reputation.expander ? { expander: reputation.expander } : {}),
            ...(clamav ? { clamav } : {}),
            handOver: true, // read for this scan alone (the queue hook reads the message again)
            budgetMs: config.main.scan_budget_ms - (performance.now() - t0),
          }).finally(() => processMetrics.workerScansInFlight.dec({ worker: WORKER }));
        })
        .finally(() => {
          clearTimeout(cap);
          release();
        })
        .then((result) => {
          if (done.called) return;
          // The client may have gone (or the transaction been reset) while the scan ran: nothing to answer.
          if (connection.transaction !== tx) {
            plugin.loginfo(connection, `phishx: id=${id} client gone or transaction ended during the scan; not answering`);
            return done();
          }
          const v = result.verdict;
          const reasons = v.reasons.map((r) => `${r.code}(${r.weight})`).join(' ');
          plugin.loginfo(
            connection,
            `phishx: id=${id} action=${v.action} would=${v.wouldAction} score=${v.score} mode=${v.mode} tenant=${v.tenant} ms=${result.durationMs.toFixed(1)} bytes=${result.summary.bytes} urls=${result.summary.urls} reasons="${reasons}"`,
          );
          tx.results.add(plugin, {
            id,
            action: v.action,
            would_action: v.wouldAction,
            score: v.score,
            mode: v.mode,
            tenant: v.tenant,
            reasons: v.reasons.map((r) => r.code),
            skipped: result.skipped,
          });
          if (result.skipped === 'relaying') return done(); // outbound mail: leave it untouched
          const forged = stripPhishXHeaders(tx);
          if (forged) {
            processMetrics.forged.inc(forged);
            plugin.loginfo(connection, `phishx: id=${id} removed ${forged} incoming X-PhishX-* header(s)`);
          }
          addHeadersOnTop(tx, formatHeaders(result, config.main.header_reasons_max));
          const note: TxnNote = { result, envelope };
          tx.notes[NOTE] = note;
          const answer = verdictAnswer(v.action, id);
          if (!answer) return done(); // allow; quarantine is held in the queue hook
          return logAndPublish(plugin, connection, { result, envelope, smtpCode: v.action === 'reject' ? 550 : 451, at: new Date() }).then(() =>
            done(answer.code, answer.msg),
          );
        })
        // Not reachable for bad input (scanMessage never throws for it): a bug must not lose mail or kill Haraka.
        .catch((err: unknown) => acceptUnscanned(plugin, connection, tx, id, `scan fault: ${errorMessage(err)}`, done))
    );
  }
}

/** This process in the per-worker metrics: `main` in single-process mode, else `w<cluster worker id>`. */
const WORKER = cluster.worker ? `w${cluster.worker.id}` : 'main';

/** Longest an SMTP answer waits for its event to reach the durable event log. */
const EVENT_LOG_WAIT_MS = 2000;

/**
 * Write a verdict's security event (rejected, held, and allowed when a webhook endpoint
 * subscribes to `message.allowed`) to the durable event log — or, Redis down, the pending
 * spool — before the SMTP answer goes out, so that an answered message's SOC alert and
 * webhooks survive a crash right after it; then publish the verdict. Bounded wait; never rejects.
 */
async function logAndPublish(plugin: PhishXPlugin, connection: HarakaConnection, ev: VerdictEvent): Promise<void> {
  const config = plugin.phishx.config;
  const event = config
    ? securityEventOf(
        ev,
        config.webhookEndpoints.some((e) => e.events.includes('message.allowed')),
      )
    : null;
  if (config && event) {
    try {
      const where = await withTimeout(recordEvent(getStore(plugin), config.quarantine.spool_dir, event), { milliseconds: EVENT_LOG_WAIT_MS });
      if (where === 'spooled')
        plugin.logwarn(connection, `phishx: id=${event.id} event log unavailable; event kept in spool_dir/pending-events for its SOC alert and webhooks`);
    } catch (err) {
      plugin.logerror(connection, `phishx: id=${event.id} not written to the event log (no SOC alert or webhook for it): ${errorMessage(err)}`);
    }
  }
  verdictEvents.publish(ev);
}

export function phishx_queue(this: PhishXPlugin, next: Next, connection: HarakaConnection): void {
  const plugin = this;
  const txn = connection.transaction;
  const note = txn?.notes[NOTE] as TxnNote | undefined;
  if (!txn || !note) return next();
  const { result, envelope } = note;
  const done = nextOnce(next, { onSecondCall: (code) => plugin.logwarn(connection, `phishx: id=${result.id} ignored a second next(${code ?? ''}) in queue`) });
  if (result.verdict.action !== 'quarantine') {
    // A later queue plugin delivers it.
    void logAndPublish(plugin, connection, { result, envelope, smtpCode: 250, at: new Date() }).then(() => done());
    return;
  }
  getRaw(txn)
    .then((raw) => holdMessage(getStore(plugin), plugin.phishx.config!, raw, envelope, result))
    .then((entry) => {
      plugin.lognotice(
        connection,
        `phishx: id=${result.id} quarantined size=${entry.size} spooled=${entry.spooled}${entry.pending ? ' pending=store-down' : ''} expires=${new Date(entry.expiresAt).toISOString()}`,
      );
      const a = heldAnswer(result.id);
      return logAndPublish(plugin, connection, {
        result,
        envelope,
        smtpCode: 250,
        quarantineId: entry.id,
        heldIn: entry.pending ? 'pending' : entry.spooled ? 'spool' : 'store',
        at: new Date(),
      }).then(() => done(a.code, a.msg));
    })
    .catch((err: unknown) => {
      // Not held ─► not accepted: the sender keeps the message and retries.
      plugin.logerror(connection, `phishx: id=${result.id} quarantine store failed, answering 451: ${errorMessage(err)}`);
      verdictEvents.publish({ result, envelope, smtpCode: 451, at: new Date() });
      const a = holdFailedAnswer(result.id);
      done(a.code, a.msg);
    });
}

/** Called by Haraka on shutdown / plugin reload (no `next`). */
export function shutdown(this: PhishXPlugin): void {
  const { store, sidecar, reputation, maintenance, disposers, pool } = this.phishx ?? {};
  maintenance?.stop();
  for (const d of disposers?.splice(0) ?? []) d();
  if (this.phishx) this.phishx.pool = null;
  void Promise.allSettled([store?.close(), sidecar?.close(), reputation?.then((r) => r.close()), pool?.pool.close()]);
}
