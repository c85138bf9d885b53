import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { replaceEmails, tokenize } from '../../lib/nlp/features.js';
import { classifierText, withoutFramedSignature } from '../../lib/nlp/text.js';

describe('text features', () => {
  it('folds addresses exactly as /\\S+@\\S+\\.\\w+/g did (the trained models depend on it), on 20,000 random strings', () => {
    const unit = fc.constantFrom('a', 'b', 'x', '1', '_', '-', 'é', '@', '@', '.', '.', ' ', '\u00a0', '\n');
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 40 }), (s) => s.replace(/\S+@\S+\.\w+/g, ' xemailx ') === replaceEmails(s)),
      { seed: 20261201, numRuns: 20_000 },
    );
    assert.equal(replaceEmails('mail jane.doe@example.co.uk, or a@b.c!'), 'mail  xemailx , or  xemailx !');
  });

  it('tokenizes a 12,000-character run of "@" and "." in linear time (the address regex backtracked cubically)', () => {
    const run = 'ä@ä.'.repeat(3000);
    const t0 = performance.now();
    tokenize(`subject\n${run}`);
    // Cubic, this took minutes; linear, milliseconds. The bound only separates the two.
    assert.ok(performance.now() - t0 < 2000, `took ${Math.round(performance.now() - t0)} ms`);
  });

  it('reads CJK text as overlapping character bigrams, Latin words between them as words', () => {
    assert.deepEqual(tokenize('アカウント確認 Amazonプライム 한국어'), [
      'アカ',
      'カウ',
      'ウン',
      'ント',
      'ト確',
      '確認',
      'amazon',
      'プラ',
      'ライ',
      'イム',
      '한국',
      '국어',
    ]);
    // The same word gives the same features in any sentence (a whole clause was one token).
    const a = tokenize('カードの利用を停止しました');
    const b = tokenize('お客様のカードの利用について');
    assert.ok(['カー', 'ード', 'の利', '利用'].every((t) => a.includes(t) && b.includes(t)));
    assert.deepEqual(tokenize('x私y'), ['私']); // a lone CJK character between Latin letters
  });

  it('never sees the words of a subscription footer, in any of the languages trained, nor the formulas of a Japanese letter', () => {
    assert.deepEqual(tokenize('Click here to unsubscribe from this newsletter. Abonnement abbestellen. Se désabonner.'), [
      'click',
      'here',
      'to',
      'from',
      'this',
      'se',
    ]);
    assert.deepEqual(tokenize('お世話になっております。在庫データを添付いたします。宜しくお願いします。'), tokenize('在庫データを添付いたします。'));
  });

  it('drops a framed signature block at the end, not one holding a link nor a body that is only a frame', () => {
    const body =
      '御担当者様\nお世話になっております。在庫データを添付いたします。\n' +
      '*'.repeat(40) +
      '\n*株式会社サンプル *\n*〒153-0042 東京都目黒区 *\n' +
      '*'.repeat(40);
    assert.equal(withoutFramedSignature(body), '御担当者様\nお世話になっております。在庫データを添付いたします。');
    assert.equal(classifierText({ subject: 'x', text: body, htmlText: '' }), 'x\n御担当者様\nお世話になっております。在庫データを添付いたします。');
    const lure = 'Ihr Konto wurde gesperrt.\n' + '='.repeat(30) + '\nJetzt bestätigen: https://login.example/\n' + '='.repeat(30);
    assert.equal(withoutFramedSignature(lure), lure);
    const onlyFrame = '='.repeat(30) + '\nVerify your account now\n' + '='.repeat(30);
    assert.equal(withoutFramedSignature(onlyFrame), onlyFrame);
    const framedLure = 'Hello,\n' + '='.repeat(30) + '\nYour mailbox is full. Reply with your password to keep it.\n' + '='.repeat(30);
    assert.equal(withoutFramedSignature(framedLure), framedLure);
    // A rule far above the end (a section break) is not a signature.
    const long = ['Intro', '-'.repeat(20), ...Array.from({ length: 20 }, (_, i) => `Line ${i} of the message body.`)].join('\n');
    assert.equal(withoutFramedSignature(long), long);
  });
});
