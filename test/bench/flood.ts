import { startHaraka } from '../helpers/haraka.js';
import { sendLean } from '../helpers/smtp-lean.js';
import { toCrlf } from '../helpers/smtp.js';
import { costlyBlockCharMessage } from '../helpers/messages.js';

/**
 * `npm run bench -- --flood S`: one network (127.0.0.1) keeps S sessions sending a message
 * crafted to cost the most to scan per byte (2.3 MB of random block characters in a <pre>,
 * read for a drawn QR code: ~0.5 s of scan), while another network (127.0.1.1, another /24)
 * sends an ordinary message every second. Shipped defaults (scan threads, max_queued_messages).
 * Prints the other network's latency and answers, and the flood's answers: the scan threads
 * are shared by client network, so the flood should wait behind itself.
 */
export async function flood(sessions: number, victims = 10): Promise<void> {
  const costly = toCrlf(costlyBlockCharMessage(15_000));
  const ordinary = toCrlf(
    'From: Alice <alice@partner.example>\nTo: bob@example.org\nSubject: minutes of Tuesday\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n' +
      'Hi Bob,\n\nthe minutes of Tuesday are below; the next meeting is on the 14th.\n\nAlice\n',
  );
  const h = await startHaraka({
    plugins: ['rcpt_to.in_host_list', 'phishx', 'queue/discard'],
    nlp: true,
    env: { YES_REALLY_DO_DISCARD: '1' },
    files: { host_list: 'example.org\n', 'log.ini': '[main]\nlevel=warn\n' },
    phishxIni: '',
  });
  try {
    const alone = await sendLean(h.port, costly, { from: 'a@flood.example', to: ['bob@example.org'] });
    process.stdout.write(
      `flood: ${sessions} sessions from 127.0.0.1 sending ${(costly.length / 1e6).toFixed(1)} MB of block characters (one alone: ${alone.code} in ${alone.ms.toFixed(0)} ms), ` +
        `one ordinary message a second from 127.0.1.1\n`,
    );
    let stop = false;
    const floodCodes: Record<string, number> = {};
    const senders = Array.from({ length: sessions }, async () => {
      while (!stop) {
        const a = await sendLean(h.port, costly, { from: 'a@flood.example', to: ['bob@example.org'] }, { timeoutMs: 120_000 });
        floodCodes[a.code] = (floodCodes[a.code] ?? 0) + 1;
      }
    });
    await new Promise((r) => setTimeout(r, 5000)); // the flood fills the queue
    const answers = [];
    for (let i = 0; i < victims; i++) {
      const due = performance.now() + 1000;
      answers.push(await sendLean(h.port, ordinary, { from: 'alice@partner.example', to: ['bob@example.org'] }, { localAddress: '127.0.1.1' }));
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    stop = true;
    await Promise.all(senders);
    const ms = answers.map((a) => a.ms).sort((x, y) => x - y);
    const codes: Record<string, number> = {};
    for (const a of answers) codes[a.code] = (codes[a.code] ?? 0) + 1;
    process.stdout.write(
      `other network   ${answers.length} messages   p50 ${ms[ms.length >> 1].toFixed(0)} ms   max ${ms[ms.length - 1].toFixed(0)} ms   answers ${JSON.stringify(codes)}\n` +
        `flood           answers ${JSON.stringify(floodCodes)}\n`,
    );
  } finally {
    await h.stop();
  }
}
