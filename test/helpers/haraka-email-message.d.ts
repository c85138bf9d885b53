declare module 'haraka-email-message' {
  /** Haraka's message stream (haraka-message-stream, re-exported): what `transaction.message_stream` is. */
  export class stream {
    constructor(cfg: Record<string, unknown>, uuid: string, headers?: string[]);
    add_line(line: Buffer | string): void;
    add_line_end(cb?: () => void): void;
    get_data(cb: (buf: Buffer) => void): void;
    pipe(destination: NodeJS.WritableStream, options?: Record<string, unknown>): NodeJS.WritableStream;
  }
}
