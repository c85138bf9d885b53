import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { drawnCodesIn, MAX_DRAWN_GRIDS, readCellGrid } from '../../lib/attachments/qr-codes.js';
import { buildConfig } from '../../lib/config/load.js';
import { blockTextGrids, declaredBackground, isDarkColour, type DrawnGrid } from '../../lib/message/drawn-codes.js';
import { extractScanInput } from '../../lib/message/extract.js';
import { scanHtml } from '../../lib/message/html.js';
import { scanMessage } from '../../lib/scan.js';
import { blockCode, drawnQrMessage, drawnTable, qrModules } from '../helpers/qr-pictures.js';

const URL_IP = 'http://45.33.32.156/mfa/verify?u=bob@example.org';
const env = { mailFrom: 'helpdesk@example-corp.com', rcptTo: ['bob@example.org'] };
const limits = buildConfig({}, { env: {} }).limits;

/** What the codes drawn in an HTML document or a text say. */
const htmlCodes = (html: string): string[] => drawnCodesIn(scanHtml(html, 1000).drawn).codes.map((c) => c.text);
const textCodes = (text: string): string[] => drawnCodesIn(blockTextGrids(text)).codes.map((c) => c.text);

describe('QR codes drawn without a picture: block characters', () => {
  it('reads half blocks, doubled full blocks, squares and quadrants, dark on light and light on dark', () => {
    for (const style of ['half', 'full', 'squares', 'quadrants'] as const) {
      assert.deepEqual(textCodes(blockCode(URL_IP, style)), [URL_IP], style);
      assert.deepEqual(textCodes(blockCode(URL_IP, style, { inverted: true, border: 2 })), [URL_IP], `${style} inverted`);
    }
  });

  it('reads codes of every size up to the longest link a message carries', () => {
    for (const n of [1, 20, 60, 150, 400, 900]) {
      const url = `https://example.net/${'x'.repeat(n)}`;
      assert.deepEqual(textCodes(blockCode(url, 'half')), [url], `${n}`);
    }
  });

  it('reads a code amid text, indented, with no-break spaces, emoji squares and blank lines between its lines', () => {
    const indented = blockCode(URL_IP, 'half')
      .split('\n')
      .map((l) => `      ${l}`)
      .join('\n');
    assert.deepEqual(textCodes(`Dear user,\n\nscan this:\n${indented}\n\nThank you`), [URL_IP]);
    assert.deepEqual(textCodes(blockCode(URL_IP, 'half', { light: '\u00a0' }).split('\n').join('\n\n')), [URL_IP]);
    const emoji = blockCode(URL_IP, 'squares').replace(/■/g, '⬛\ufe0f').replace(/□/g, '⬜\ufe0f');
    assert.deepEqual(textCodes(emoji), [URL_IP]);
  });

  it('finds no grid in text with block characters that draws no code', () => {
    const bullets = Array.from({ length: 30 }, (_, i) => `■ Item ${i}: please read the notice below carefully`).join('\n');
    assert.equal(blockTextGrids(bullets).length, 0);
    assert.equal(blockTextGrids('■■■■■■■■■■■■■■■■■■■■■■■■■■■■■\nお知らせ\n■■■■■■■■■■■■■■■■■■■■■■■■■■■■■').length, 0);
    assert.equal(blockTextGrids('plain text without any block character\n'.repeat(100)).length, 0);
    // Block art that is not a code: a grid, read, and nothing found.
    const art = Array.from({ length: 20 }, (_, y) => '█▀▄ '.repeat(10).slice(y % 4)).join('\n');
    const grids = blockTextGrids(art);
    assert.equal(grids.length, 1);
    assert.equal(readCellGrid(grids[0].cells), null);
  });

  it('keeps nothing of a drawing taller than any code, and reads one beside it', () => {
    const tall = Array.from({ length: 5000 }, () => '█▀'.repeat(20)).join('\n');
    assert.equal(blockTextGrids(tall).length, 0);
    assert.deepEqual(textCodes(`${tall}\nscan:\n${blockCode(URL_IP, 'half')}`), [URL_IP]);
  });
});

describe('QR codes drawn without a picture: HTML', () => {
  it('reads a table whose cells are coloured by bgcolor, inline style, a <style> class or a <div> inside, with colspans, either way round', () => {
    for (const colour of ['bgcolor', 'style', 'class', 'div'] as const) {
      assert.deepEqual(htmlCodes(drawnTable(URL_IP, { colour })), [URL_IP], colour);
      assert.deepEqual(htmlCodes(drawnTable(URL_IP, { colour, colspan: true })), [URL_IP], `${colour} colspan`);
    }
    assert.deepEqual(htmlCodes(drawnTable(URL_IP, { inverted: true })), [URL_IP]);
  });

  it('reads a table of block characters and block characters in <pre> or in lines of the HTML', () => {
    const cells = qrModules(URL_IP, 2)
      .map((row) => `<tr>${row.map((v) => `<td>${v ? '█' : '&nbsp;'}</td>`).join('')}</tr>`)
      .join('\n');
    assert.deepEqual(htmlCodes(`<table>${cells}</table>`), [URL_IP]);
    assert.deepEqual(htmlCodes(`<p>Scan:</p><pre>${blockCode(URL_IP, 'half')}</pre>`), [URL_IP]);
    const lines = blockCode(URL_IP, 'half', { light: '&nbsp;' })
      .split('\n')
      .map((l) => `<div style="font-family:monospace;line-height:1">${l}</div>`)
      .join('\n      ');
    assert.deepEqual(htmlCodes(`<body>\n      ${lines}\n</body>`), [URL_IP]);
  });

  it('reads a code whose cells hold hidden tables, and one whose rows lack their closing tags', () => {
    const padded = drawnTable(URL_IP).replace(/<\/td>/g, '<div style="display:none"><table><tr><td>x</td></tr></table></div></td>');
    assert.deepEqual(htmlCodes(padded), [URL_IP]);
    const coloredInside = drawnTable(URL_IP, { colour: 'div' }).replace(/<td>/g, '<td><span style="display:none"><table><tr><td></td></tr></table></span>');
    assert.deepEqual(htmlCodes(coloredInside), [URL_IP]);
    assert.deepEqual(htmlCodes(drawnTable(URL_IP).replace(/<\/t[dr]>/g, '')), [URL_IP]);
  });

  it('does not read a hidden code, and reads links only when text is kept', () => {
    assert.deepEqual(htmlCodes(`<div style="display:none">${drawnTable(URL_IP)}</div>`), []);
    assert.deepEqual(htmlCodes(`<div style="display:none"><pre>${blockCode(URL_IP, 'half')}</pre></div>`), []);
    assert.deepEqual(scanHtml(drawnTable(URL_IP), 1000, 0).drawn, []);
  });

  it('finds no grid in layout tables, a calendar or a table too large to be a code', () => {
    const calendar = `<table>${Array.from({ length: 6 }, () => `<tr>${'<td bgcolor="#eee">1</td>'.repeat(7)}</tr>`).join('')}</table>`;
    assert.equal(scanHtml(calendar, 1000).drawn.length, 0);
    const wide = `<table>${Array.from({ length: 30 }, () => `<tr>${'<td bgcolor="#000"></td><td></td>'.repeat(150)}</tr>`).join('')}</table>`;
    assert.equal(scanHtml(wide, 1000).drawn.length, 0);
    const huge = `<table>${'<tr><td colspan="100000" bgcolor="#000"></td></tr>'.repeat(40)}</table>`;
    assert.equal(scanHtml(huge, 1000).drawn.length, 0);
  });

  it('reads a code in a table nested in a layout table, and one left unclosed', () => {
    const layout = `<table><tr><td>Logo</td></tr><tr><td>${drawnTable(URL_IP)}</td></tr><tr><td>Footer</td></tr></table>`;
    assert.deepEqual(htmlCodes(layout), [URL_IP]);
    assert.deepEqual(htmlCodes(drawnTable(URL_IP).replace('</table>', '')), [URL_IP]);
  });

  it('reads colours as a browser does', () => {
    for (const c of ['#000', '#111111', 'black', 'navy', 'rgb(0 0 0)', 'rgba(0,0,0,1)', 'hsl(0,0%,10%)']) assert.equal(isDarkColour(c), true, c);
    for (const c of ['#fff', 'white', '#eeeeee', 'yellow', 'hsl(0 0% 90%)']) assert.equal(isDarkColour(c), false, c);
    for (const c of ['transparent', 'rgba(0,0,0,0)', 'none', 'url(x.png)', '']) assert.equal(isDarkColour(c), null, c);
    assert.equal(declaredBackground({ bgcolor: '000000' }, null), true);
    assert.equal(declaredBackground({ bgcolor: '#000', style: 'background: url(x.png) #fff no-repeat' }, null), false);
    assert.equal(declaredBackground({ style: 'background: url(black.png) no-repeat' }, null), null);
    const sheet = new Map([['background-color', { value: '#000', important: true }]]);
    assert.equal(declaredBackground({ style: 'background-color:#fff' }, sheet), true);
    assert.equal(declaredBackground({ style: 'background-color:#fff' }, new Map([['background-color', { value: '#000', important: false }]])), false);
  });
});

describe('QR codes drawn without a picture: reading', () => {
  it('never throws on arbitrary grids and finds no code in noise', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.boolean(), { maxLength: 60 }), { maxLength: 60 }), (rows) => {
        const text = readCellGrid(rows.map((r) => Uint8Array.from(r, Number)));
        assert.ok(text === null || typeof text === 'string');
      }),
      { numRuns: 200 },
    );
  });

  it('reads the smallest grids first within its bound and counts the rest', () => {
    const noise = (n: number, seed: number): DrawnGrid => ({
      how: 'table',
      cells: Array.from({ length: n }, (_, y) => Uint8Array.from({ length: n }, (_, x) => ((x * 7919 + y * 104729 + seed * 31) % 11) % 2)),
    });
    const code: DrawnGrid = { how: 'text', cells: qrModules(URL_IP).map((r) => Uint8Array.from(r, Number)) };
    // Larger decoys before the code: it is read first, the decoys past the bound are counted.
    const r = drawnCodesIn([...Array.from({ length: 12 }, (_, i) => noise(120, i)), code]);
    assert.deepEqual(
      r.codes.map((c) => c.text),
      [URL_IP],
    );
    assert.ok(r.unread > 0 && r.unread <= 12, `${r.unread}`);
    // More grids than the bound: the rest counted unread.
    const many = drawnCodesIn(Array.from({ length: MAX_DRAWN_GRIDS + 3 }, (_, i) => noise(30, i)));
    assert.equal(many.unread, 3);
  });
});

describe('QR codes drawn without a picture: messages', () => {
  const config = buildConfig({}, { env: {} });
  const reasons = async (raw: string, c = config): Promise<{ action: string; codes: string[] }> => {
    const r = await scanMessage(Buffer.from(raw), env, c);
    return { action: r.verdict.action, codes: r.verdict.reasons.map((x) => x.code) };
  };

  it('a table code, block characters in the HTML and in a plain-text part each give their link to the URL analysis', async () => {
    for (const raw of [
      drawnQrMessage({ html: drawnTable(URL_IP) }),
      drawnQrMessage({ html: `<pre>${blockCode(URL_IP, 'half')}</pre>` }),
      drawnQrMessage({ text: blockCode(URL_IP, 'half') }),
    ]) {
      const urls = (await extractScanInput(Buffer.from(raw), env, limits)).urls.filter((u) => u.source === 'qr');
      assert.deepEqual(
        urls.map((u) => [u.raw, u.drawn]),
        [[URL_IP, true]],
      );
    }
  });

  it('a drawn-code lure is rejected with QR_CODE_DRAWN; a bland one is held on the drawing alone', async () => {
    const lure = await reasons(drawnQrMessage({ html: drawnTable(URL_IP) }));
    assert.equal(lure.action, 'reject');
    for (const c of ['QR_CODE_LINK', 'QR_CODE_DRAWN', 'URL_IP_LITERAL']) assert.ok(lure.codes.includes(c), lure.codes.join());
    const noNlp = buildConfig({ nlp: { enabled: false } }, { env: {} });
    const bland = await reasons(drawnQrMessage({ text: blockCode('https://portal.example-helpdesk.net/enrol', 'half') }), noNlp);
    assert.deepEqual(bland.codes.filter((c) => c.startsWith('QR_')).sort(), ['QR_CODE_DRAWN', 'QR_CODE_LINK']);
    assert.equal(bland.action, 'quarantine');
  });

  it("neither reason for a code leading to the sender's own domain; nothing read with max_qr_pixels = 0", async () => {
    const noNlp = buildConfig({ nlp: { enabled: false } }, { env: {} });
    const own = await reasons(drawnQrMessage({ html: drawnTable('https://tickets.example-corp.com/check-in/4711') }), noNlp);
    assert.ok(!own.codes.some((c) => c.startsWith('QR_')), own.codes.join());
    const off = buildConfig({ limits: { max_qr_pixels: '0' } }, { env: {} }).limits;
    const input = await extractScanInput(Buffer.from(drawnQrMessage({ html: drawnTable(URL_IP) })), env, off);
    assert.deepEqual(
      input.urls.filter((u) => u.source === 'qr'),
      [],
    );
  });
});
