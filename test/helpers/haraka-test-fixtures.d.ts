declare module 'haraka-test-fixtures' {
  /** The parts of haraka-test-fixtures the hook tests use (Haraka's own plugin, connection and transaction analogs). */
  interface FixtureTransaction {
    notes: Record<string, unknown>;
    header: { get(name: string): string; get_all(name: string): string[] };
    message_stream: { get_data(cb: (buf: Buffer) => void): void; pipe(destination: NodeJS.WritableStream, options?: Record<string, unknown>): unknown };
    add_data(line: Buffer | string): void;
    end_data(cb: () => void): void;
    results: { get(plugin: string): Record<string, unknown> | undefined };
  }
  interface FixtureConnection {
    transaction: FixtureTransaction | null;
    notes: Record<string, unknown>;
    relaying: boolean;
  }
  interface FixturePlugin {
    name: string;
    [method: string]: unknown;
  }
  export function makePlugin(name: string, opts?: { register?: boolean; configDir?: string }): FixturePlugin;
  export function makeConnection(opts?: { ip?: string; mailFrom?: string; rcptTo?: string[]; silent?: boolean; relaying?: boolean }): FixtureConnection;
  export function callHook(plugin: FixturePlugin, method: string, connection: FixtureConnection, ...args: unknown[]): Promise<{ rc: unknown; msg: unknown }>;
}
