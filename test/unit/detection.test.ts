import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildConfig } from '../../lib/config/load.js';
import { embeddedModel } from '../../lib/nlp/model.js';
import { classifierText } from '../../lib/nlp/text.js';
import { nlpPoints, scanMessage } from '../../lib/scan.js';
import { REPO } from '../helpers/haraka.js';

const config = buildConfig({}, { env: {} });
const dir = path.join(REPO, 'test', 'fixtures', 'transactional');
const env = { mailFrom: '', rcptTo: ['customer@example.org'] };

describe('legitimate transactional mail (default config, classifier on)', () => {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.eml'))) {
    it(`allows ${f}`, async () => {
      const r = await scanMessage(readFileSync(path.join(dir, f)), env, config);
      assert.equal(r.verdict.action, 'allow', `${f}: score ${r.verdict.score} ${JSON.stringify(r.verdict.reasons)}`);
      assert.ok(r.verdict.score < config.thresholds.quarantine);
    });
  }

  it('does not let the text model alone reject: its weight is bounded below the reject threshold', async () => {
    assert.equal(nlpPoints(1, 50), 50);
    assert.ok(nlpPoints(1, 50) < config.thresholds.reject);
    assert.equal(nlpPoints(0.5, 50), 0);
    assert.equal(nlpPoints(0.2, 50), 0);
  });
});

describe('embedded text classifier', () => {
  it('scores credential-phishing text high and names the features that pushed it', () => {
    const v = embeddedModel().classify('Your account has been suspended\nWe detected unusual activity. Verify your account now or it will be closed within 24 hours. Click here to confirm your password.');
    assert.ok(v.p > 0.9, `p=${v.p}`);
    assert.ok(v.top.length > 0);
  });

  it('scores technical mailing-list text low', () => {
    const v = embeddedModel().classify('Re: [PATCH v2] arm64: fix cache maintenance on cell destroy\nThe hypervisor must flush the dcache before handing the memory back to the root cell, see the comment in arch/arm64/setup.c.');
    assert.ok(v.p < 0.5, `p=${v.p}`);
  });

  it('reads no list footers, quoted replies or signatures', () => {
    const t = classifierText({
      subject: 'Re: [usrp-users] B210 clock',
      text: 'Use the external ref.\n> quoted text here\nOn Mon, 1 Jan 2024, Bob wrote:\n-- \nAlice\n_______________________________________________\nUSRP-users mailing list -- x@lists.example\nTo unsubscribe send an email',
      htmlText: '',
    });
    assert.equal(t, 'B210 clock\nUse the external ref.');
  });
});
