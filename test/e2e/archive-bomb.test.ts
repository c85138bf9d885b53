import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startHaraka, type HarakaInstance } from '../helpers/haraka.js';
import { cleanMessage, lureWithZip } from '../helpers/messages.js';
import { nestedZipBomb } from '../helpers/mime.js';
import { sendRaw } from '../helpers/smtp.js';

/** CPU seconds a process has used so far (Linux /proc). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(stat[11]) + Number(stat[12])) / 100; // utime + stime, clock ticks
}

/**
 * Hardening finding 2: a lure with a 10 MB zip of 1000 inner zips (10 MB of zeros each) was
 * delivered `allow` after an 11 s BUDGET_EXCEEDED, and Haraka burnt CPU for minutes after.
 */
describe('archive bomb over SMTP (real Haraka, default budget)', () => {
  let h: HarakaInstance;
  const bomb = nestedZipBomb();
  before(async () => {
    h = await startHaraka();
  });
  after(async () => {
    await h?.stop();
  });

  it('rejects the lure with its bomb, says the archive was not inspected, and leaves no work running after the answer', async () => {
    const a = await sendRaw(h.port, lureWithZip(bomb), { from: 'service@paypa1-support.top', to: ['bob@example.org'] });
    assert.equal(a.code, 550, a.response);
    assert.match(h.logs(), /action=reject[^\n]*ATTACHMENT_UNINSPECTABLE/);
    // No decompression outlives the message: over the next 2 s an idle Haraka uses (almost) no CPU.
    const c0 = await cpuSeconds(h.proc.pid!);
    await new Promise((r) => setTimeout(r, 2000));
    const used = (await cpuSeconds(h.proc.pid!)) - c0;
    assert.ok(used < 0.5, `Haraka used ${used.toFixed(2)} CPU s while idle after the answer`);
    const clean = await sendRaw(h.port, cleanMessage(), { from: 'alice@example.com', to: ['bob@example.org'] });
    assert.equal(clean.code, 250, clean.response);
  });
});
