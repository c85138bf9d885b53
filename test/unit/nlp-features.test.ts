import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DIMS, fnv1a, replaceEmails, tokenize, vectorize } from '../../lib/nlp/features.js';
import { decodeWeights, encodeWeights, TextModel, topContributions, type TextModelFile } from '../../lib/nlp/model.js';
import { prng, serializeModel, shuffleInPlace, trainRaw, type Example, type TrainOptions } from '../../lib/nlp/train.js';
import { classifierText, withoutFramedSignature } from '../../lib/nlp/text.js';

describe('text features', () => {
  it('hashes the words, word pairs and subject words of a text, each feature named as it is hashed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('verify', 'account', 'konto', 'now', 'now', 'アカウント', 'http://x.example/a', '42', 'the', '\n'), { maxLength: 40 }),
        (words) => {
          const text = words.join(' ');
          const v = vectorize(text);
          // The names the model reports (NLP_PHISH detail) are the features it scored.
          for (let i = 0; i < v.slots.length; i++) assert.equal(fnv1a(v.name(i)) & (DIMS - 1), v.slots[i]);
          // The buckets: of w:<word>, b:<word> <word> over the text and s:<word> over its first line, each once.
          const tokens = tokenize(text);
          const nl = text.indexOf('\n');
          const names = [
            ...tokens.map((t) => `w:${t}`),
            ...tokens.slice(1).map((t, i) => `b:${tokens[i]} ${t}`),
            ...tokenize(nl >= 0 ? text.slice(0, nl) : text).map((t) => `s:${t}`),
          ];
          assert.deepEqual(
            [...v.idx],
            [...new Set(names.map((n) => fnv1a(n) & (DIMS - 1)))].sort((a, b) => a - b),
          );
          assert.equal(v.value, v.idx.length ? 1 / Math.sqrt(v.idx.length) : 0);
        },
      ),
    );
  });

  it('loads a model file: each stored weight in its bucket, the rest zero; other formats refused', () => {
    const file = {
      format: 'phishx-text-logreg',
      version: 1,
      dims: DIMS,
      bias: -1.25,
      weights: { '0': 0.5, '7': -2, [String(DIMS - 1)]: 3 },
      training: {},
    } as const;
    const m = TextModel.fromFile(file);
    assert.equal(m.bias, -1.25);
    assert.deepEqual([m.w[0], m.w[7], m.w[DIMS - 1]], [0.5, -2, 3]);
    assert.equal(
      m.w.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0),
      3,
    );
    assert.throws(() => TextModel.fromFile({ ...file, dims: 1024 }), /unsupported text model file/);
  });

  it('stores the weights as version 2 (base64 float32) and loads them as version 1 would; a short or non-finite string is refused', () => {
    const w = new Float32Array(DIMS);
    w[0] = 0.5;
    w[7] = -2;
    w[DIMS - 1] = 3.1234;
    const v1 = TextModel.fromFile({
      format: 'phishx-text-logreg',
      version: 1,
      dims: DIMS,
      bias: -1.25,
      weights: { '0': 0.5, '7': -2, [String(DIMS - 1)]: 3.1234 },
      training: {},
    });
    const file = JSON.parse(serializeModel(new TextModel(w, -1.25), { seed: 1 })) as TextModelFile;
    assert.equal(file.version, 2);
    assert.equal(typeof file.weights, 'string');
    const v2 = TextModel.fromFile(file);
    assert.equal(v2.bias, v1.bias);
    assert.deepEqual(v2.w, v1.w);
    assert.deepEqual(decodeWeights(encodeWeights(w), DIMS), w);
    assert.throws(() => decodeWeights(encodeWeights(w.subarray(1)), DIMS), /hold 1048572 bytes, expected 1048576/);
    const nan = w.slice();
    nan[9] = NaN;
    assert.throws(() => decodeWeights(encodeWeights(nan), DIMS), /weight 9 is not a finite number/);
    assert.throws(() => TextModel.fromFile({ ...file, version: 1 } as unknown as TextModelFile), /unsupported text model file/);
    assert.throws(() => TextModel.fromFile({ ...file, bias: Number.NaN }), /unsupported text model file/);
  });

  it('reports the three strongest features once each, the earlier of equals first', () => {
    const v = vectorize('urgent urgent verify urgent\nurgent verify account');
    const w = new Float32Array(DIMS);
    for (const [f, x] of [
      ['w:urgent', 2],
      ['w:verify', 1],
      ['w:account', 1],
      ['s:urgent', 3],
    ] as const)
      w[fnv1a(f) & (DIMS - 1)] = x;
    assert.deepEqual(
      topContributions(v, w).map((t) => t.feature),
      ['s:urgent', 'w:urgent', 'w:verify'],
    );
  });

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

  it('reads words through invisible format characters a mail client does not show (zero widths, soft hyphens, marks)', () => {
    const lure = 'Verify your password now';
    for (const mark of ['\u200b', '\u00ad', '\u200c', '\u2060', '\ufeff', '\u200e', '\u034f', '\ufe0f', '\u{e0109}']) {
      assert.deepEqual(tokenize([...lure].join(mark)), tokenize(lure), JSON.stringify(mark));
    }
  });

  it('reads words written backwards under a right-to-left override as the reader does', () => {
    assert.deepEqual(tokenize('Please \u202edrowssap yfirev\u202c now'), tokenize('Please verify password now'));
    assert.deepEqual(tokenize('\u202edrowssap\nnext line'), ['password', 'next', 'line']); // the override ends with the line
  });

  it('reads small capitals as the letters they are drawn as', () => {
    assert.deepEqual(tokenize('ᴠᴇʀɪꜰʏ ʏᴏᴜʀ ᴘᴀꜱꜱᴡᴏʀᴅ'), tokenize('verify your password'));
  });

  it('joins letters spaced out one space apart into the word the reader sees; a wider gap ends the word', () => {
    // ("your" is a neutral word the model never sees.)
    assert.deepEqual(tokenize('V e r i f y  y o u r  a c c o u n t'), ['verify', 'account']);
    assert.deepEqual(tokenize('V e r i f y\u00a0\u00a0t h i s  a c c o u n t'), ['verify', 'this', 'account']);
    assert.deepEqual(tokenize('り そ な 銀 行'), tokenize('りそな銀行'));
    // Fewer than four single letters, or letters inside words, are left as they are.
    assert.deepEqual(tokenize('a b c plan x y'), ['plan']);
    assert.deepEqual(tokenize('in a big way'), ['in', 'big', 'way']);
  });

  it('folds identifiers (hashes, commit ids, reference numbers) into one placeholder instead of letter fragments', () => {
    // A kernel patch's checksum was cut by the number placeholder into "ebcacff", "f", "bb" …
    assert.deepEqual(tokenize('index 78ebcacff183f3f0..a1b2c3d4e5 100644'), ['index', 'xidx', 'xidx', 'xnumx']);
    assert.deepEqual(tokenize('Ticket REF-20A7XQ9 opened'), ['ticket', 'ref', 'xidx', 'opened']);
    // Words and plain numbers are what they were: letters only, digits only, or shorter than six.
    assert.deepEqual(tokenize('password 2024 abc12 version'), ['password', 'xnumx', 'abc', 'xnumx', 'version']);
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

describe('training (lib/nlp/train.ts)', () => {
  /** The averaged weights computed the slow way: SGD as trainRaw runs it, the mean of w after every step of the second half. */
  function naiveAveraged(examples: readonly Example[], opts: TrainOptions, dims: readonly number[]): { w: Map<number, number>; b: number } {
    const w = new Float64Array(DIMS);
    let b = 0;
    const avg = new Map<number, number>(dims.map((i) => [i, 0]));
    let avgB = 0;
    let steps = 0;
    const order = examples.map((_, i) => i);
    for (let epoch = 0; epoch < opts.epochs; epoch++) {
      shuffleInPlace(order, prng(opts.seed + epoch));
      const lr = opts.learningRate / (1 + epoch);
      for (const k of order) {
        const ex = examples[k];
        let z = b;
        for (const i of ex.idx) z += w[i] * ex.value;
        const g = (1 / (1 + Math.exp(-z)) - ex.y) * ex.weight;
        for (const i of ex.idx) w[i] -= lr * (g * ex.value + opts.l2 * w[i]);
        b -= lr * g;
        if (epoch >= Math.floor(opts.epochs / 2)) {
          for (const i of dims) avg.set(i, avg.get(i)! + w[i]);
          avgB += b;
          steps++;
        }
      }
    }
    return { w: new Map([...avg].map(([i, v]) => [i, v / steps])), b: avgB / steps };
  }

  it('returns the weights averaged over every step of the second half of the epochs', () => {
    const texts: [string, 0 | 1][] = [
      ['verify your account password now', 1],
      ['your mailbox is full click here', 1],
      ['meeting notes attached for tuesday', 0],
      ['the patch fixes the build on arm', 0],
      ['confirm your bank details today', 1],
      ['lunch on friday at noon', 0],
    ];
    const examples: Example[] = texts.map(([text, y], n) => {
      const v = vectorize(text);
      return { file: `${n}`, label: y ? 'phish' : 'ham', source: 's', idx: v.idx, value: v.value, y, text, weight: n === 5 ? 0.5 : 1 };
    });
    const opts: TrainOptions = { epochs: 5, learningRate: 4, l2: 2e-3, seed: 7 };
    const dims = [...new Set(examples.flatMap((e) => [...e.idx]))];
    const model = trainRaw(examples, opts);
    const ref = naiveAveraged(examples, opts, dims);
    for (const i of dims) assert.ok(Math.abs(model.w[i] - ref.w.get(i)!) < 1e-5, `weight ${i}: ${model.w[i]} vs ${ref.w.get(i)}`);
    assert.ok(Math.abs(model.bias - ref.b) < 1e-9, `bias ${model.bias} vs ${ref.b}`);
    assert.ok(model.w.some((x) => x !== 0));
  });
});
