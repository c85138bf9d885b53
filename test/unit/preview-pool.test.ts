import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { closePreviewPool, previewWithin } from '../../lib/review/preview-pool.js';
import { previewOf } from '../../lib/review/preview.js';
import { zip } from '../helpers/mime.js';
import { docx, officeMessage } from '../helpers/office-documents.js';

const lure = Buffer.from(officeMessage(zip({ 'Invoice.docx': docx({ fieldLink: 'http://45.33.32.156/pay' }) }), 'Invoice.zip', 'application/zip'));

describe('the SOC preview in a thread of its own, within a deadline', () => {
  after(() => closePreviewPool());

  it('gives what previewOf gives, for a view into a larger buffer too', async () => {
    const expected = await previewOf(lure);
    assert.equal(expected.links.length, 1);
    assert.deepEqual(await previewWithin(lure), expected);
    const big = Buffer.concat([Buffer.alloc(1000, 'x'), lure, Buffer.alloc(1000, 'y')]);
    assert.deepEqual(await previewWithin(big.subarray(1000, 1000 + lure.length)), expected);
  });

  it('past its deadline the reading is stopped and the analyst is told so', async () => {
    // 2 MB of HTML with 40,000 links takes previewOf 120-170 ms on an idle machine: far past 1 ms
    // (the thread is already running after the test above, so its start is no longer the delay).
    const html = Array.from({ length: 40_000 }, (_, i) => `<a href="https://h${i}.example.com/x">link ${i}</a>`).join(' ');
    const slow = Buffer.from(`From: a@example.com\r\nTo: b@example.org\r\nSubject: x\r\nContent-Type: text/html\r\n\r\n<p>${html}</p>\r\n`);
    const stopped = await previewWithin(slow, 1);
    assert.match(stopped.text, /^\(no preview: reading the message took longer than 1 ms and was stopped;/);
    assert.deepEqual([stopped.links, stopped.attachments], [[], []]);
    // The next one is read again, by a new thread.
    assert.equal((await previewWithin(lure)).links.length, 1);
  });
});
