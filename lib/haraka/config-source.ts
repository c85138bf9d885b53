import { EventEmitter } from 'node:events';
import { buildConfig, normalizeRawIni, readPluginTimeout, type RawIni } from '../config/load.js';
import { checkIniAtStart, checkIniForReload } from '../config/ini-file.js';
import type { PhishXConfig } from '../config/types.js';
import { errorMessage } from '../errors.js';
import type { HarakaPlugin } from './types.js';

type Listener = (config: PhishXConfig) => void;

/**
 * The one reader of phishx.ini in a Haraka process. haraka-config keeps a single reload
 * callback per file (the last `get` wins), so every plugin that needs PhishX config must
 * come through here: the file is read and validated once, and each change is validated
 * once and handed to every subscriber. An invalid edit is refused, logged with the key,
 * and the previous config stays in force; so is a deleted or emptied file, and a line that
 * is not `key = value` (named by file and line, at start too).
 */
export class ConfigSource {
  private current: PhishXConfig | null = null;
  private readonly listeners = new Set<Listener>();
  private plugin: HarakaPlugin | null = null;
  /** 'applied' / 'rejected' after each reload attempt (for metrics). */
  readonly reloads = new EventEmitter();

  private harakaDir(): string {
    return process.env.HARAKA ?? process.cwd();
  }

  private read(reloading: boolean): PhishXConfig {
    const p = this.plugin!;
    if (reloading) checkIniForReload(this.harakaDir());
    else checkIniAtStart(this.harakaDir());
    const raw = normalizeRawIni(p.config.get('phishx.ini', 'ini', () => this.reload()) as RawIni);
    return buildConfig(raw, { baseDir: this.harakaDir(), pluginTimeoutSeconds: readPluginTimeout(this.harakaDir()) });
  }

  private reload(): void {
    const p = this.plugin!;
    try {
      this.current = this.read(true);
      p.lognotice(
        `phishx: config reloaded mode=${this.current.main.mode} quarantine=${this.current.thresholds.quarantine} reject=${this.current.thresholds.reject}`,
      );
      for (const l of this.listeners) l(this.current);
      this.reloads.emit('applied');
    } catch (err) {
      p.logerror(`phishx: config reload rejected, keeping the previous config: ${errorMessage(err)}`);
      this.reloads.emit('rejected');
    }
  }

  /** Current config; the first call reads and validates the file (throws ConfigError when invalid). */
  get(plugin: HarakaPlugin): PhishXConfig {
    if (!this.current) {
      this.plugin = plugin;
      this.current = this.read(false);
    }
    return this.current;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export const configSource = new ConfigSource();
