// Minimal declarations for Haraka's untyped helper packages.
declare module 'haraka-constants' {
  const constants: { ok: number; cont: number; deny: number; denysoft: number; denydisconnect: number; denysoftdisconnect: number };
  export default constants;
}
declare module 'haraka-dsn' {
  interface DSNObject {
    code: number;
    msg: string;
  }
  const DSN: {
    sec_unauthorized(msg: string, code?: number): DSNObject;
    create(code: number, msg: string, cls?: number, sub?: number): DSNObject;
  };
  export default DSN;
}

declare module 'haraka-results' {
  /** Haraka's per-connection / per-transaction plugin result store (used by the tests). */
  class ResultStore {
    constructor(conn: { loginfo(...a: unknown[]): void; logerror(...a: unknown[]): void; logdebug(...a: unknown[]): void });
    add(plugin: { name: string } | string, obj: Record<string, unknown>): string;
    get(plugin: { name: string } | string): Record<string, unknown> | undefined;
  }
  export = ResultStore;
}
