import type { FeedInfo } from './types.js';

/** Blocklist feeds held in process memory (the embedded stores; Redis keeps its own). */
export class FeedSets {
  private readonly feeds = new Map<string, { urls: Set<string>; domains: Set<string>; updatedAt: number }>();

  replace(name: string, entries: { urls: string[]; domains: string[] }, updatedAt = Date.now()): { urls: number; domains: number } {
    const f = { urls: new Set(entries.urls), domains: new Set(entries.domains), updatedAt };
    this.feeds.set(name, f);
    return { urls: f.urls.size, domains: f.domains.size };
  }

  add(name: string, entries: { urls: string[]; domains: string[] }): void {
    const f = this.feeds.get(name) ?? { urls: new Set<string>(), domains: new Set<string>(), updatedAt: 0 };
    for (const u of entries.urls) f.urls.add(u);
    for (const d of entries.domains) f.domains.add(d);
    f.updatedAt = Date.now();
    this.feeds.set(name, f);
  }

  /** No feed lists any URL or domain. */
  isEmpty(): boolean {
    for (const f of this.feeds.values()) if (f.urls.size || f.domains.size) return false;
    return true;
  }

  match(urls: string[], domains: string[]): Map<string, string> {
    const hits = new Map<string, string>();
    for (const [name, f] of this.feeds) {
      for (const u of urls) if (f.urls.has(u) && !hits.has(u)) hits.set(u, name);
      for (const d of domains) if (f.domains.has(d) && !hits.has(d)) hits.set(d, name);
    }
    return hits;
  }

  list(): FeedInfo[] {
    return [...this.feeds]
      .map(([name, f]) => ({ name, urls: f.urls.size, domains: f.domains.size, updatedAt: f.updatedAt }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }
}

/** The feed half of the Store interface for the embedded stores (memory, file): feeds in this process's memory. */
export abstract class LocalFeeds {
  private readonly feeds = new FeedSets();

  async replaceFeed(name: string, entries: { urls: string[]; domains: string[] }, updatedAt?: number): Promise<{ urls: number; domains: number }> {
    return this.feeds.replace(name, entries, updatedAt);
  }

  async addFeedEntries(name: string, entries: { urls: string[]; domains: string[] }): Promise<void> {
    this.feeds.add(name, entries);
  }

  holdsNoFeeds(): boolean {
    return this.feeds.isEmpty();
  }

  async matchFeeds(urls: string[], domains: string[]): Promise<Map<string, string>> {
    return this.feeds.match(urls, domains);
  }

  async listFeeds(): Promise<FeedInfo[]> {
    return this.feeds.list();
  }
}
