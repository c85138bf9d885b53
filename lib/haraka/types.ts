import type { MessageStreamLike } from './read-message.js';

/** The small part of Haraka's plugin API that PhishX uses (Haraka ships no types). */
export type Next = (code?: number, msg?: unknown) => void;

/** @haraka/email-address: `address` is a getter in 3.x and a method in older releases. */
export interface HarakaAddress {
  address: string | (() => string);
}

export function addressOf(a: HarakaAddress | null | undefined): string {
  if (!a) return '';
  const v = a.address;
  return (typeof v === 'function' ? v.call(a) : v) ?? '';
}

export interface HarakaHeader {
  headers: Record<string, string[]>;
  headers_decoded?: Record<string, string[]>;
  /** The raw header lines Haraka writes out (the message stream holds this very array). */
  header_list: string[];
  get(name: string): string;
}

export interface HarakaTransaction {
  uuid: string;
  mail_from: HarakaAddress | null;
  rcpt_to: HarakaAddress[];
  header: HarakaHeader;
  notes: Record<string, unknown>;
  results: { add(plugin: unknown, obj: Record<string, unknown>): void; get(plugin: string): unknown };
  message_stream: MessageStreamLike;
  data_bytes: number;
  add_header(key: string, value: string): void;
  add_leading_header(key: string, value: string): void;
  remove_header(key: string): void;
  reset_headers?(): void;
}

export interface HarakaConnection {
  uuid: string;
  remote: { ip: string; host?: string };
  hello: { host?: string };
  relaying: boolean;
  notes: Record<string, unknown> & { auth_user?: string };
  transaction: HarakaTransaction | null;
}

export interface HarakaPlugin {
  name: string;
  timeout: number;
  config: { get(name: string, type?: string | (() => void), cb?: (() => void) | Record<string, unknown>): unknown };
  register_hook(hook: string, method: string, priority?: number): void;
  loginfo(...args: unknown[]): void;
  lognotice(...args: unknown[]): void;
  logwarn(...args: unknown[]): void;
  logerror(...args: unknown[]): void;
  logcrit(...args: unknown[]): void;
  logdebug(...args: unknown[]): void;
}
