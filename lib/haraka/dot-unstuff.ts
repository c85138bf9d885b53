/**
 * SMTP dot-unstuffing (RFC 5321 4.5.2: a line that starts with "." had another "." put in
 * front of it by the sender) of a byte stream that arrives in chunks, without splitting it
 * into lines: every "\n.." becomes "\n.", as does ".." at the very start. Lines and line
 * endings are left as they are. The output is the bytes haraka-message-stream's
 * `LineTransformer` gives with its defaults (CRLF kept, unstuffed, no ending dot, no clamd
 * framing), which splits the stream into lines and pushes each one on its own
 * (test/unit/read-message.test.ts holds the two equal on random streams cut at random).
 *
 * `push` receives slices of the chunks (no copies); a "." that ends a chunk at the start of a
 * line is held until the next chunk says whether a second one follows.
 */
export interface DotUnstuffer {
  write(chunk: Buffer, push: (bytes: Buffer) => void): void;
  end(push: (bytes: Buffer) => void): void;
}

const LF_DOT_DOT = Buffer.from('\n..');
const DOT = Buffer.from('.');
const LF = 0x0a;
const PERIOD = 0x2e;

export function dotUnstuffer(): DotUnstuffer {
  let atLineStart = true; // the next byte starts a line
  let heldDot = false; // a "." at a line start, the last byte so far
  return {
    write(c, push) {
      const n = c.length;
      if (n === 0) return;
      let from = 0; // first byte of c still to push
      if (heldDot) {
        heldDot = false;
        push(DOT);
        if (c[0] === PERIOD) from = 1; // ".." at a line start: the held one stands for both
      } else if (atLineStart && c[0] === PERIOD) {
        if (n === 1) {
          heldDot = true;
          return;
        }
        if (c[1] === PERIOD) from = 1;
      }
      for (let i = c.indexOf(LF_DOT_DOT, from); i !== -1; i = c.indexOf(LF_DOT_DOT, from)) {
        push(c.subarray(from, i + 1));
        from = i + 2;
      }
      if (n >= 2 && c[n - 1] === PERIOD && c[n - 2] === LF && from <= n - 1) {
        if (n - 1 > from) push(c.subarray(from, n - 1));
        heldDot = true;
        atLineStart = false;
        return;
      }
      if (n > from) push(from === 0 ? c : c.subarray(from));
      atLineStart = c[n - 1] === LF;
    },
    end(push) {
      if (heldDot) push(DOT);
      heldDot = false;
    },
  };
}
